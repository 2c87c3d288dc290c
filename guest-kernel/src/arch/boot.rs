//! The kernel entry: 32-bit protected mode at physical 0x200000 (where the boot sector
//! jumps) to 64-bit Rust `main` on the boot stack.
//!
//! Boot page tables live in low physical memory (0x1000..0x6000), which nothing else uses
//! at this point (the IVT and BIOS data area end at 0x500, the E820 block is at 0x7000):
//! - PML4[0] → PDPT_lo[0] → PD_lo: 2 MiB pages, VA 0..1 GiB → PA 0..1 GiB (identity, only
//!   for the instructions that turn paging on and jump to the high half);
//! - PML4[1] → PDPT_hi[0] → PD_hi[32..512]: VA KERN_BASE.. → PA 0..960 MiB. KERN_BASE =
//!   0x8004000000 is PML4 slot 1, PDPT slot 0, PD slot 32 (it is 64 MiB past 512 GiB).
//!
//! It also turns on SSE (CR0.MP set, CR0.EM clear, CR4.OSFXSR and CR4.OSXMMEXCPT): the
//! precompiled `core` uses SSE2 instructions.

core::arch::global_asm!(
    r#"
    .set KERN_BASE, 0x8004000000
    .set PML4, 0x1000
    .set PDPT_LO, 0x2000
    .set PD_LO, 0x3000
    .set PDPT_HI, 0x4000
    .set PD_HI, 0x5000

    .section .text.boot, "ax"
    .code32
    .globl _start
_start:
    cli
    cld
    /* Zero the five table pages. */
    movl $PML4, %edi
    xorl %eax, %eax
    movl $(5 * 4096 / 4), %ecx
    rep stosl
    movl $(PDPT_LO + 3), PML4
    movl $(PDPT_HI + 3), PML4 + 8
    movl $(PD_LO + 3), PDPT_LO
    movl $(PD_HI + 3), PDPT_HI
    /* Present | writable | 2 MiB page. */
    movl $PD_LO, %edi
    movl $0x83, %eax
    movl $512, %ecx
1:  movl %eax, (%edi)
    addl $0x200000, %eax
    addl $8, %edi
    loop 1b
    movl $(PD_HI + 32 * 8), %edi
    movl $0x83, %eax
    movl $480, %ecx
2:  movl %eax, (%edi)
    addl $0x200000, %eax
    addl $8, %edi
    loop 2b

    /* CR4: PAE | OSFXSR | OSXMMEXCPT. */
    movl %cr4, %eax
    orl $(0x20 | 0x200 | 0x400), %eax
    movl %eax, %cr4
    movl $PML4, %eax
    movl %eax, %cr3
    /* EFER: LME | SCE. */
    movl $0xc0000080, %ecx
    rdmsr
    orl $0x101, %eax
    wrmsr
    /* CR0: PE | MP | PG, EM clear. */
    movl %cr0, %eax
    andl $~0x4, %eax
    orl $0x80000003, %eax
    movl %eax, %cr0
    lgdt (boot_gdt_desc - KERN_BASE)
    ljmp $0x08, $(boot_long - KERN_BASE)

    .code64
boot_long:
    movw $0x10, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movw %ax, %fs
    movw %ax, %gs
    movabsq $boot_high, %rax
    jmp *%rax

boot_high:
    /* .bss is not in the image: zero it before any Rust code runs. */
    movabsq $__bss_start, %rdi
    movabsq $__bss_end, %rcx
    subq %rdi, %rcx
    xorl %eax, %eax
    rep stosb
    movabsq ${stack} + {stack_size}, %rsp
    xorl %ebp, %ebp
    call {main}
3:  cli
    hlt
    jmp 3b

    .p2align 3
boot_gdt:
    .quad 0
    .quad 0x00af9a000000ffff    /* 0x08: 64-bit code */
    .quad 0x00cf92000000ffff    /* 0x10: data */
boot_gdt_desc:
    .word boot_gdt_desc - boot_gdt - 1
    .long boot_gdt - KERN_BASE
    .code64
    .text
"#,
    stack = sym BOOT_STACK,
    stack_size = const BOOT_STACK_SIZE,
    main = sym crate::threads::init::main,
    options(att_syntax)
);

/// Size of the boot thread's stack.
pub const BOOT_STACK_SIZE: usize = 64 * 1024;

#[repr(C, align(16))]
pub struct Stack<const N: usize>(pub [u8; N]);

/// The stack `main` runs on (the initial thread's stack, later).
static mut BOOT_STACK: Stack<BOOT_STACK_SIZE> = Stack([0; BOOT_STACK_SIZE]);
