/*
 * A bare-metal guest for the emulator: real mode -> protected mode -> long mode.
 *
 * Loaded and started at 0000:7C00 like a boot sector. It reports progress on two ports:
 *   port 0xE9: one byte per stage (the marker list below),
 *   port 0xEA: a 32-bit value the test checks (return addresses, CR2, error codes, data).
 *
 * Stages:
 *   0x01 real mode, 0x02 protected mode (32-bit), 0x03 long mode (64-bit),
 *   0x04 in the #BP handler (then 0xEA: the pushed RIP, which must be after_int3),
 *   0x05 back from int3 via iretq,
 *   0x06 in the #PF handler (then 0xEA: CR2, the error code); the handler maps the page,
 *   0x07 the faulting store was restarted (then 0xEA: the value read back),
 *   0xFF done; then cli; hlt.
 *
 * Only a small set of instructions is used (mov, add, or, loop, in/out, control
 * transfers), so the guest runs on an emulator that implements only the basics.
 * Everything lives below 64 KiB, so the high halves of IDT offsets are zero.
 */

#define PML4 0x10000
#define PDPT 0x11000
#define PD   0x12000
#define PT   0x13000
#define HOLE 0x50000            /* the page left unmapped for the #PF demo */
#define HOLE_PTE (PT + (HOLE >> 12) * 8)

    .text
    .globl start
    .code16
start:
    cli
    xorw %ax, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movw $0x7c00, %sp
    movb $0x01, %al
    outb %al, $0xe9

    lgdt gdt_desc
    movl %cr0, %eax
    orl $1, %eax
    movl %eax, %cr0
    ljmp $0x08, $pm32

    .code32
pm32:
    movw $0x10, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movl $0x7c00, %esp
    movb $0x02, %al
    outb %al, $0xe9

    /* 4-level tables: the first 2 MiB identity-mapped with 4 KiB pages, HOLE unmapped. */
    movl $(PDPT | 3), PML4
    movl $(PD | 3), PDPT
    movl $(PT | 3), PD
    movl $PT, %edi
    movl $3, %eax
    movl $512, %ecx
1:  movl %eax, (%edi)
    movl $0, 4(%edi)
    addl $0x1000, %eax
    addl $8, %edi
    loop 1b
    movl $0, HOLE_PTE

    movl $PML4, %eax
    movl %eax, %cr3
    movl %cr4, %eax
    orl $0x20, %eax             /* PAE */
    movl %eax, %cr4
    movl $0xc0000080, %ecx      /* EFER */
    rdmsr
    orl $0x100, %eax            /* LME */
    wrmsr
    movl %cr0, %eax
    orl $0x80000000, %eax       /* PG: activates long mode */
    movl %eax, %cr0
    ljmp $0x18, $lm64

    .code64
lm64:
    movw $0x10, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movq $0x7c00, %rsp
    movb $0x03, %al
    outb %al, $0xe9

    lidt idt_desc
    int3
after_int3:
    movb $0x05, %al
    outb %al, $0xe9

    movl $0xcafe, HOLE          /* faults once; the handler maps the page */
    movl HOLE, %eax
    movl %eax, %ebx
    movb $0x07, %al
    outb %al, $0xe9
    movl %ebx, %eax
    outl %eax, $0xea

    movb $0xff, %al
    outb %al, $0xe9
    cli
    hlt

bp_handler:
    movb $0x04, %al
    outb %al, $0xe9
    movq (%rsp), %rax           /* the return RIP: a trap reports the next instruction */
    outl %eax, $0xea
    iretq

pf_handler:
    movb $0x06, %al
    outb %al, $0xe9
    movq %cr2, %rax
    outl %eax, $0xea
    movq (%rsp), %rax           /* error code */
    outl %eax, $0xea
    movl $(HOLE | 3), HOLE_PTE
    invlpg HOLE
    addq $8, %rsp
    iretq

    .p2align 3
gdt:
    .quad 0
    .quad 0x00cf9a000000ffff    /* 0x08: 32-bit code */
    .quad 0x00cf92000000ffff    /* 0x10: data */
    .quad 0x00af9a000000ffff    /* 0x18: 64-bit code */
gdt_end:
gdt_desc:
    .word gdt_end - gdt - 1
    .long gdt

idt_desc:
    .word idt_end - idt - 1
    .quad idt

/* A 64-bit interrupt gate (DPL 0, present) to a handler below 64 KiB. */
#define GATE(h) .word h, 0x18, 0x8e00, 0; .long 0, 0
#define NOGATE .quad 0, 0
    .p2align 4
idt:
    NOGATE                      /* 0 */
    NOGATE
    NOGATE
    GATE(bp_handler)            /* 3 */
    NOGATE
    NOGATE
    NOGATE
    NOGATE
    NOGATE                      /* 8 */
    NOGATE
    NOGATE
    NOGATE
    NOGATE
    NOGATE
    GATE(pf_handler)            /* 14 */
idt_end:
