/* The boot sector of os.dsk: our own Pintos loader.
 *
 * The BIOS loads this sector to 0x7c00 and jumps here in real mode. It
 *   1. enables the A20 line through the 8042 keyboard controller,
 *   2. reads the E820 memory map into a multiboot-style block at 0x7000 (the layout the
 *      Pintos-KAIST kernel reads: flags at 0x7000, mmap_length at 0x702c, mmap_addr at
 *      0x7030, entries of {u32 size; u64 base; u64 len; u32 type} from 0x7034),
 *   3. switches to 32-bit protected mode with a flat GDT,
 *   4. reads the kernel (KERNEL_SECTORS sectors from LBA 1) with polled IDE PIO on the
 *      primary master to physical 0x200000, and
 *   5. jumps to the kernel's 32-bit entry at 0x200000.
 *
 * The kernel is read in protected mode (not with int 0x13) because it goes above 1 MiB,
 * which real-mode BIOS calls cannot reach. The sector count is a u32 at offset 0x176,
 * patched in by disk-images/build.rs. 0x17a..0x1fd is the kernel command line (argc u32,
 * then 128 bytes of NUL-separated args), written by the `pintos` launcher and read by
 * the kernel at 0x7c00+0x17a; this code must end before 0x176.
 */

#define KERNEL_PHYS 0x200000
#define MB_INFO     0x7000
#define E820_ENTRY  0x7034

    .code16
    .globl start
start:
    cli
    cld
    xorw %ax, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movw $0x7c00, %sp

    /* A20 through the 8042: command 0xd1 (write output port), then 0xdf (A20 on). */
    call wait_8042
    movb $0xd1, %al
    outb %al, $0x64
    call wait_8042
    movb $0xdf, %al
    outb %al, $0x60
    call wait_8042

    /* E820: each entry is stored after a u32 "size" field, multiboot style. */
    xorl %ebx, %ebx
    xorl %ebp, %ebp                 /* bytes of map so far */
    movw $E820_ENTRY + 4, %di
e820_next:
    movl $0xe820, %eax
    movl $0x534d4150, %edx          /* 'SMAP' */
    movl $24, %ecx
    int $0x15
    jc e820_done                    /* CF: no entry this time */
    movl %ecx, -4(%di)
    addw $24, %di
    addl $24, %ebp
    testl %ebx, %ebx
    jnz e820_next
e820_done:
    testl %ebp, %ebp
    jz fail
    movl $0x40, MB_INFO             /* flags: mmap_* valid */
    movl %ebp, MB_INFO + 0x2c
    movl $E820_ENTRY, MB_INFO + 0x30

    /* Protected mode. */
    lgdtl gdt_desc
    movl %cr0, %eax
    orl $1, %eax
    movl %eax, %cr0
    ljmpl $0x08, $pm32

fail:
    movw $fail_msg, %si
fail_loop:
    lodsb
    testb %al, %al
    jz fail_halt
    movb $0x0e, %ah
    xorw %bx, %bx
    int $0x10
    jmp fail_loop
fail_halt:
    hlt
    jmp fail_halt

wait_8042:
    inb $0x64, %al
    testb $2, %al
    jnz wait_8042
    ret

    .code32
pm32:
    movw $0x10, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %fs
    movw %ax, %gs
    movw %ax, %ss
    movl $0x7c00, %esp

    /* nIEN: the disk must not interrupt (nobody handles it yet). */
    movw $0x3f6, %dx
    movb $0x02, %al
    outb %al, %dx

    movl $KERNEL_PHYS, %edi
    movl $1, %ebx                   /* LBA */
    movl kernel_sectors, %ecx
read_sector:
    call wait_ide
    movw $0x1f2, %dx
    movb $1, %al
    outb %al, %dx                   /* sector count 1 */
    incw %dx
    movl %ebx, %eax
    outb %al, %dx                   /* LBA 7:0 */
    incw %dx
    shrl $8, %eax
    outb %al, %dx                   /* LBA 15:8 */
    incw %dx
    shrl $8, %eax
    outb %al, %dx                   /* LBA 23:16 */
    incw %dx
    shrl $8, %eax
    andb $0x0f, %al
    orb $0xe0, %al                  /* LBA mode, device 0 */
    outb %al, %dx
    incw %dx
    movb $0x20, %al                 /* READ SECTORS */
    outb %al, %dx
    call wait_ide
wait_drq:
    inb %dx, %al
    testb $0x08, %al
    jz wait_drq
    pushl %ecx
    movl $256, %ecx
    movw $0x1f0, %dx
    rep insw
    popl %ecx
    incl %ebx
    loop read_sector

    movl $KERNEL_PHYS, %eax
    jmp *%eax

/* Waits until the primary channel is not busy; leaves DX = status port. */
wait_ide:
    movw $0x1f7, %dx
1:  inb %dx, %al
    testb $0x80, %al
    jnz 1b
    ret

    .p2align 3
gdt:
    .quad 0
    .quad 0x00cf9a000000ffff        /* 0x08: flat 32-bit code */
    .quad 0x00cf92000000ffff        /* 0x10: flat 32-bit data */
gdt_desc:
    .word gdt_desc - gdt - 1
    .long gdt

fail_msg:
    .asciz "Boot failed: no E820 map"

    .org 0x176
kernel_sectors:
    .long 0                         /* patched by build.rs */
    .org 0x1fe
    .byte 0x55, 0xaa
