/*
 * pc_boot: an end-to-end PC boot test image (GNU as, linked flat at 0x7C00 by build.rs).
 *
 * The image is a hard disk: sector 0 is a boot sector (with the 0x55AA signature) that
 * the BIOS loads to 0x7C00 and starts in real mode with DL = boot drive; the sectors after
 * it hold "stage 2", which the boot sector loads with int 0x13. Stage 2 then walks the
 * whole path a real operating system takes on a PC:
 *
 *   real mode:  BIOS teletype output (int 0x10), disk read (int 0x13 AH=0x42), A20 via the
 *               8042 (checked by the 1 MiB wrap-around), memory map (int 0x15 E820)
 *   32-bit:     GDT, CR0.PE, COM1 initialisation and output by polling LSR.THRE
 *   64-bit:     4-level page tables, EFER.LME, CR0.PG; an IDT; the 8259 pair remapped to
 *               vectors 0x20/0x28; PIT channel 0 at 100 Hz; IRQ0 counted by HLT-waiting;
 *               IDE PIO with IRQ14/IRQ15 on both channels; power-off through ACPI PM1a.
 *
 * Every stage prints one line, so a failing run shows exactly how far it got. Failures
 * print "pc-boot: FAIL <what>" and still power off, so a test sees the text instead of a
 * hang. Disk layout the test prepares (see tests/pc_boot.rs):
 *   hd0:0  this image             hd0:1  scratch: HD01_LBA is written and read back
 *   hd1:0  pre-filled: HD10_READ_LBA is read and checksummed (FNV-1a 32),
 *          HD10_WRITE_LBA is written with the bitwise NOT of what was read.
 *
 * Only the instruction families the emulator implements are used (no string instructions:
 * data moves through explicit loops).
 */

/* Fixed low-memory areas (all below the boot sector, outside the image). */
#define E820_BUF     0x1000     /* up to E820_MAX entries of 24 bytes */
#define E820_MAX     32
#define VARS         0x5000     /* variables written by interrupt handlers: kept off the */
#define TICKS        (VARS + 0x00)  /* code pages so they don't invalidate decoded code */
#define IDE_DONE0    (VARS + 0x08)  /* set by the IRQ14 handler */
#define IDE_DONE1    (VARS + 0x09)  /* set by the IRQ15 handler */
#define IDE_STATUS0  (VARS + 0x0a)  /* Status register the handler read (acknowledging) */
#define IDE_STATUS1  (VARS + 0x0b)
#define E820_COUNT   (VARS + 0x10)  /* 32-bit: entries returned */
#define E820_USABLE  (VARS + 0x18)  /* 64-bit: bytes in type-1 (usable) entries */
#define VARS_SIZE    0x20
#define STACK_TOP    0x7c00     /* grows down from the boot sector */
#define PML4         0x10000
#define PDPT         0x11000
#define PD           0x12000
#define IDT          0x14000    /* 256 gates of 16 bytes */
#define BUF0         0x30000    /* hd0:1 read-back buffer */
#define BUF1         0x30200    /* hd1:0 read buffer */

#define COM1         0x3f8
#define HD01_LBA     5
#define HD10_READ_LBA  3
#define HD10_WRITE_LBA 4
#define TICKS_WANTED 10
#define PIT_HZ       1193182
#define TIMER_HZ     100

    .text
    .globl start

/* ====================================================================================== */
/* Boot sector (real mode, 0000:7C00)                                                      */
/* ====================================================================================== */
    .code16
start:
    /* Interrupts off until long mode has an IDT: the real-mode IVT still points at the
     * BIOS, and nothing here wants timer interrupts yet. */
    cli
    /* The BIOS may enter with CS:IP = 07C0:0000 on some machines; normalise to 0000:7C00
     * so absolute label addresses are right. */
    ljmp $0, $1f
1:  xorw %ax, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movw $STACK_TOP, %sp
    movb %dl, boot_drive        /* the BIOS passes the boot drive (0x80) in DL */

    movw $msg_real, %si
    call bios_puts

    /* Load stage 2 (LBA 1..) right behind the boot sector with the EDD extended read:
     * LBA addressing needs no geometry, and the disk address packet gives the count. */
    movw $dap, %si
    movb $0x42, %ah
    movb boot_drive, %dl
    int $0x13
    jc disk_error
    movw $msg_loaded, %si
    call bios_puts
    jmp stage2

disk_error:
    movw $msg_disk_error, %si
    call bios_puts
    cli
    hlt                         /* nothing sensible to do without stage 2 */

/* Prints the NUL-terminated string at DS:SI with the BIOS teletype (int 0x10 AH=0x0E),
 * which the emulator's BIOS sends to COM1 like SeaBIOS' serial console does. */
bios_puts:
    pushw %ax
    pushw %bx
    pushw %si
1:  movb (%si), %al
    testb %al, %al
    jz 2f
    movb $0x0e, %ah
    movw $0x0007, %bx           /* page 0, light grey */
    int $0x10
    incw %si
    jmp 1b
2:  popw %si
    popw %bx
    popw %ax
    ret

boot_drive:
    .byte 0
    .p2align 2
/* EDD disk address packet: size, reserved, count, buffer offset:segment, 64-bit LBA. */
dap:
    .byte 16, 0
    .word (image_end - stage2) / 512
    .word stage2, 0
    .quad 1

msg_real:       .asciz "pc-boot: real mode\r\n"
msg_loaded:     .asciz "pc-boot: stage 2 loaded\r\n"
msg_disk_error: .asciz "pc-boot: FAIL int 0x13 read\r\n"

    .org 510
    .word 0xaa55                /* the BIOS refuses to boot a sector without it */

/* ====================================================================================== */
/* Stage 2, still real mode (loaded at 0x7E00)                                             */
/* ====================================================================================== */
stage2:
    /* Variables start at zero whatever RAM held. */
    movw $VARS, %di
    movw $(VARS_SIZE / 2), %cx
1:  movw $0, (%di)
    addw $2, %di
    loop 1b

    /* --- A20. The machine powers on with A20 enabled. Turn the gate off first, so the
     * check below proves that the 8042 sequence turned it on. The gate is the OR of the
     * 8042 output port's bit 1 and port 0x92's bit 1: both must be cleared. */
    inb $0x92, %al
    andb $0xfc, %al             /* bit 1: A20 off; bit 0 (fast reset) must stay clear */
    outb %al, $0x92
    call kbc_wait
    movb $0xd1, %al             /* 8042: write output port */
    outb %al, $0x64
    call kbc_wait
    movb $0xdd, %al             /* A20 off, bit 0 (CPU reset line) kept high: no reset */
    outb %al, $0x60
    call kbc_wait
    call a20_wraps
    jnc a20_fail                /* must wrap while the gate is off */

    /* The classic 8042 sequence: command 0xD1 (write output port), then the output port
     * value 0xDF (A20 on, CPU reset line inactive), each after the input buffer empties. */
    call kbc_wait
    movb $0xd1, %al
    outb %al, $0x64
    call kbc_wait
    movb $0xdf, %al
    outb %al, $0x60
    call kbc_wait
    call a20_wraps
    jc a20_fail                 /* must not wrap any more */
    movw $msg_a20, %si
    call bios_puts

    /* --- E820: the memory map, entry by entry, with EBX as the continuation value.
     * Count the entries and add up the usable (type 1) bytes for the long-mode report. */
    xorl %ebx, %ebx
    movw $E820_BUF, %di
1:  movl $0xe820, %eax
    movl $0x534d4150, %edx      /* 'SMAP' */
    movl $24, %ecx
    movl $1, 20(%di)            /* ACPI 3.0 attributes: "valid" if the BIOS omits them */
    int $0x15
    jc 3f                       /* CF: no (more) entries */
    cmpl $0x534d4150, %eax
    jne 3f
    incl E820_COUNT
    cmpl $1, 16(%di)
    jne 2f
    movl 8(%di), %eax
    addl %eax, E820_USABLE
    movl 12(%di), %eax
    adcl %eax, E820_USABLE + 4
2:  addw $24, %di
    cmpl $E820_MAX, E820_COUNT
    jae 3f
    testl %ebx, %ebx            /* EBX = 0 after the last entry */
    jnz 1b
3:

    /* --- Protected mode: flat 4 GiB code and data segments. */
    lgdt gdt_desc
    movl %cr0, %eax
    orl $1, %eax                /* PE */
    movl %eax, %cr0
    ljmp $0x08, $pm32           /* a far jump loads CS and flushes the real-mode prefetch */

a20_fail:
    movw $msg_a20_fail, %si
    call bios_puts
    cli
    hlt

/* Waits until the 8042's input buffer is empty (status bit 1), so it takes a new byte. */
kbc_wait:
1:  inb $0x64, %al
    testb $0x02, %al
    jnz 1b
    ret

/* CF = 1 if address 0x100500 aliases 0x000500 (A20 off), else CF = 0.
 * Writes different bytes through FFFF:0510 and 0000:0500 and restores both. */
a20_wraps:
    pushw %es
    pushw %ax
    pushw %bx
    movw $0xffff, %ax
    movw %ax, %es
    movb 0x500, %bl             /* save 0x000500 */
    movb %es:0x510, %bh         /* save 0x100500 (or the alias) */
    movb $0x00, 0x500
    movb $0xa5, %es:0x510
    movb 0x500, %al
    movb %bh, %es:0x510         /* restore in reverse order, so the alias case ends */
    movb %bl, 0x500             /* with the low byte's value */
    cmpb $0xa5, %al
    je 1f
    clc
    jmp 2f
1:  stc
2:  popw %bx
    popw %ax
    popw %es
    ret

/* ====================================================================================== */
/* 32-bit protected mode                                                                   */
/* ====================================================================================== */
    .code32
pm32:
    movw $0x10, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movw %ax, %fs
    movw %ax, %gs
    movl $STACK_TOP, %esp

    /* COM1: 115200 baud (divisor 1), 8 data bits, no parity, 1 stop bit, FIFOs on and
     * cleared. Interrupts stay off (IER = 0, OUT2 clear): output is polled. */
    movw $(COM1 + 1), %dx
    movb $0x00, %al             /* IER: no interrupts */
    outb %al, %dx
    movw $(COM1 + 3), %dx
    movb $0x80, %al             /* LCR: DLAB, to reach the divisor latch */
    outb %al, %dx
    movw $(COM1 + 0), %dx
    movb $0x01, %al             /* DLL */
    outb %al, %dx
    movw $(COM1 + 1), %dx
    movb $0x00, %al             /* DLM */
    outb %al, %dx
    movw $(COM1 + 3), %dx
    movb $0x03, %al             /* LCR: 8N1, DLAB off */
    outb %al, %dx
    movw $(COM1 + 2), %dx
    movb $0xc7, %al             /* FCR: enable, clear both FIFOs, 14-byte trigger */
    outb %al, %dx
    movw $(COM1 + 4), %dx
    movb $0x03, %al             /* MCR: DTR, RTS */
    outb %al, %dx

    movl $msg_pm, %esi
    call puts32

    /* Page tables: identity-map the first 1 GiB with 2 MiB pages (PML4[0] -> PDPT[0] ->
     * PD[0..512]). Clear the three tables first: stale entries would map garbage. */
    movl $PML4, %edi
    movl $(3 * 1024), %ecx
1:  movl $0, (%edi)
    addl $4, %edi
    loop 1b
    movl $(PDPT | 3), PML4      /* present, writable */
    movl $(PD | 3), PDPT
    movl $PD, %edi
    movl $0x83, %eax            /* present, writable, PS (2 MiB page) at 0 */
    movl $512, %ecx
2:  movl %eax, (%edi)
    addl $0x200000, %eax
    addl $8, %edi
    loop 2b

    /* Long mode: PAE, then EFER.LME, CR3, then CR0.PG activates it (IA32e). */
    movl %cr4, %eax
    orl $0x20, %eax             /* PAE */
    movl %eax, %cr4
    movl $PML4, %eax
    movl %eax, %cr3
    movl $0xc0000080, %ecx      /* EFER */
    rdmsr
    orl $0x100, %eax            /* LME */
    wrmsr
    movl %cr0, %eax
    orl $0x80000000, %eax       /* PG */
    movl %eax, %cr0
    ljmp $0x18, $lm64           /* into the 64-bit code segment */

/* Sends AL to COM1 once the transmit holding register is empty (LSR bit 5). */
putc32:
    pushl %edx
    pushl %eax
    movw $(COM1 + 5), %dx
1:  inb %dx, %al
    testb $0x20, %al
    jz 1b
    popl %eax
    movw $COM1, %dx
    outb %al, %dx
    popl %edx
    ret

/* Prints the NUL-terminated string at ESI. */
puts32:
    pushl %eax
    pushl %esi
1:  movb (%esi), %al
    testb %al, %al
    jz 2f
    call putc32
    incl %esi
    jmp 1b
2:  popl %esi
    popl %eax
    ret

/* ====================================================================================== */
/* 64-bit long mode                                                                        */
/* ====================================================================================== */
    .code64
lm64:
    movw $0x10, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movq $STACK_TOP, %rsp
    movq $msg_lm, %rsi
    call puts

    /* The memory map gathered in real mode. */
    movq $msg_e820, %rsi
    call puts
    movl E820_COUNT, %eax
    call put_dec
    movq $msg_e820_entries, %rsi
    call puts
    movq E820_USABLE, %rax
    shrq $10, %rax
    call put_dec
    movq $msg_e820_kib, %rsi
    call puts

    /* --- IDT: exceptions 0-31 get per-vector stubs that report the vector; IRQ0, IRQ14
     * and IRQ15 (after the remap: 0x20, 0x2E, 0x2F) get their handlers; everything else
     * reports an unexpected interrupt. */
    xorl %ecx, %ecx
1:  movq $unexpected_int, %rax
    cmpl $32, %ecx
    jae 2f
    movq exc_table(, %rcx, 8), %rax
2:  cmpl $0x20, %ecx
    jne 3f
    movq $irq0_handler, %rax
3:  cmpl $0x2e, %ecx
    jne 4f
    movq $irq14_handler, %rax
4:  cmpl $0x2f, %ecx
    jne 5f
    movq $irq15_handler, %rax
5:  movq %rcx, %rdi
    shlq $4, %rdi
    addq $IDT, %rdi
    call set_gate
    incl %ecx
    cmpl $256, %ecx
    jb 1b
    lidt idt_desc

    /* --- 8259 pair. The power-on vectors (8-15) collide with CPU exceptions in
     * protected mode, so remap: ICW1 = edge-triggered, cascade, ICW4 follows;
     * ICW2 = vector base; ICW3 = the slave hangs on master IR2 / has cascade id 2;
     * ICW4 = 8086 mode, normal EOI. Then mask everything. */
    movb $0x11, %al
    outb %al, $0x20
    outb %al, $0xa0
    movb $0x20, %al
    outb %al, $0x21
    movb $0x28, %al
    outb %al, $0xa1
    movb $0x04, %al
    outb %al, $0x21
    movb $0x02, %al
    outb %al, $0xa1
    movb $0x01, %al
    outb %al, $0x21
    outb %al, $0xa1
    movb $0xff, %al
    outb %al, $0x21
    outb %al, $0xa1

    /* --- PIT channel 0: mode 2 (rate generator), lobyte/hibyte, 100 Hz. */
    movb $0x34, %al             /* channel 0, access lo/hi, mode 2, binary */
    outb %al, $0x43
    movw $((PIT_HZ + TIMER_HZ / 2) / TIMER_HZ), %ax
    outb %al, $0x40
    movb %ah, %al
    outb %al, $0x40

    /* Unmask IRQ0 and sleep until the handler has counted TICKS_WANTED ticks. The check
     * runs with interrupts off and STI;HLT is atomic (the STI shadow), so a tick can't
     * slip in between the check and the HLT. */
    movb $0xfe, %al
    outb %al, $0x21
1:  cli
    cmpq $TICKS_WANTED, TICKS
    jae 2f
    sti
    hlt
    jmp 1b
2:  movq TICKS, %rax            /* read with interrupts off: exactly TICKS_WANTED */
    sti
    movq $msg_ticks, %rsi
    call puts
    call put_dec
    movq $msg_ticks_end, %rsi
    call puts

    /* --- IDE. Unmask IRQ14/IRQ15 on the slave and the cascade (IRQ2) on the master;
     * IRQ0 stays unmasked so a lost IDE interrupt would still wake HLT (and time out). */
    movb $0x3f, %al
    outb %al, $0xa1
    movb $0xfa, %al
    outb %al, $0x21
    /* Device Control on both channels: nIEN clear, so drives drive INTRQ. */
    movb $0x00, %al
    movw $0x3f6, %dx
    outb %al, %dx
    movw $0x376, %dx
    outb %al, %dx

    /* hd0:1 (primary slave): WRITE SECTORS of a known pattern... */
    movl $0x1f0, %r8d
    movl $0xf0, %edi            /* LBA mode, device 1 */
    movl $HD01_LBA, %esi
    movl $0x30, %ecx            /* WRITE SECTORS */
    movl $IDE_DONE0, %r10d
    call ide_issue
    call ide_wait_drq           /* PIO out: DRQ comes without an interrupt */
    movl %r8d, %edx             /* data register */
    xorl %ecx, %ecx
1:  call pattern_word
    outw %ax, %dx
    incl %ecx
    cmpl $256, %ecx
    jb 1b
    call ide_wait_irq           /* completion interrupt after the last word */
    testb $0x89, %al            /* BSY, DRQ, ERR: all must be clear */
    jnz hd01_fail

    /* ...then READ SECTORS it back and compare. */
    movl $0x20, %ecx            /* READ SECTORS */
    call ide_issue
    call ide_wait_irq           /* PIO in: the interrupt says the data is ready */
    andb $0x89, %al
    cmpb $0x08, %al             /* DRQ, no BSY, no ERR */
    jne hd01_fail
    movq $BUF0, %rbx
    call ide_read_words
    movq $BUF0, %rbx
    xorl %ecx, %ecx
2:  call pattern_word
    cmpw %ax, (%rbx)
    jne hd01_fail
    addq $2, %rbx
    incl %ecx
    cmpl $256, %ecx
    jb 2b
    movq $msg_hd01_ok, %rsi
    call puts

    /* hd1:0 (secondary master): READ SECTORS of the sector the test pre-filled. */
    movl $0x170, %r8d
    movl $0xe0, %edi            /* LBA mode, device 0 */
    movl $HD10_READ_LBA, %esi
    movl $0x20, %ecx
    movl $IDE_DONE1, %r10d
    call ide_issue
    call ide_wait_irq
    andb $0x89, %al
    cmpb $0x08, %al
    jne hd10_fail
    movq $BUF1, %rbx
    call ide_read_words

    /* FNV-1a (32-bit) over the 512 bytes: the test computes the same on its data. */
    movl $0x811c9dc5, %eax
    movq $BUF1, %rsi
    movl $512, %ecx
3:  movzbl (%rsi), %edx
    xorl %edx, %eax
    imull $0x01000193, %eax, %eax
    incq %rsi
    loop 3b
    movq $msg_hd10_read, %rsi
    call puts
    call put_hex32
    movq $msg_crlf, %rsi
    call puts

    /* WRITE SECTORS of the bitwise NOT of what was read, to the next sector. */
    movl $HD10_WRITE_LBA, %esi
    movl $0x30, %ecx
    call ide_issue
    call ide_wait_drq
    movl %r8d, %edx
    movq $BUF1, %rbx
    movl $256, %ecx
4:  movw (%rbx), %ax
    notw %ax
    outw %ax, %dx
    addq $2, %rbx
    loop 4b
    call ide_wait_irq
    testb $0x89, %al
    jnz hd10_fail
    movq $msg_hd10_write, %rsi
    call puts

    /* --- Done: power off through the ACPI PM1a control register (SLP_TYP = S5,
     * SLP_EN), the way QEMU's PIIX4 PM and Pintos do it. */
    movq $msg_off, %rsi
    call puts
power_off:
    cli
    movw $0x2000, %ax
    movw $0x604, %dx
    outw %ax, %dx
    hlt                         /* not reached: the machine stops at the write */
    jmp power_off

hd01_fail:
    movq $msg_hd01_fail, %rsi
    jmp fail
hd10_fail:
    movq $msg_hd10_fail, %rsi
    jmp fail
ide_timeout:
    movq $msg_ide_timeout, %rsi
/* Prints "pc-boot: FAIL <RSI>" and powers off, so the test sees why. */
fail:
    pushq %rsi
    movq $msg_fail, %rsi
    call puts
    popq %rsi
    call puts
    jmp power_off

/* AX = pattern word ECX (0..255) for hd0:1: ECX * 0x0203 + 0x1234 (mod 2^16). */
pattern_word:
    imull $0x0203, %ecx, %eax
    addl $0x1234, %eax
    ret

/* --- IDE helpers. R8 = command block base (0x1F0 / 0x170); the control block is at
 * base + 0x206 (0x3F6 / 0x376). EDI = Device register value, ESI = LBA (< 2^24),
 * ECX = command, R10 = address of the channel's "interrupt seen" byte. */

/* Selects the drive, writes a one-sector LBA28 address and the command. */
ide_issue:
    pushq %rax
    pushq %rdx
    pushq %r11
    call ide_wait_not_busy      /* registers may only be written while BSY is clear */
    leal 6(%r8), %edx
    movl %edi, %eax
    outb %al, %dx               /* select the drive */
    call ide_wait_ready         /* the newly selected drive: BSY clear, DRDY set */
    leal 2(%r8), %edx
    movb $1, %al
    outb %al, %dx               /* sector count */
    movl %esi, %eax
    incl %edx
    outb %al, %dx               /* LBA 7:0 */
    shrl $8, %eax
    incl %edx
    outb %al, %dx               /* LBA 15:8 */
    shrl $8, %eax
    incl %edx
    outb %al, %dx               /* LBA 23:16 */
    movb $0, (%r10)             /* forget earlier interrupts before starting this one */
    leal 7(%r8), %edx
    movl %ecx, %eax
    outb %al, %dx               /* command: the drive starts (and may interrupt) now */
    popq %r11
    popq %rdx
    popq %rax
    ret

/* Polls Alternate Status (which, unlike Status, doesn't acknowledge an interrupt) until
 * BSY is clear; gives up after a bounded number of reads. */
ide_wait_not_busy:
    pushq %rax
    pushq %rdx
    movl $100000, %r11d
    leal 0x206(%r8), %edx
1:  inb %dx, %al
    testb $0x80, %al
    jz 2f
    decl %r11d
    jz ide_timeout
    jmp 1b
2:  popq %rdx
    popq %rax
    ret

/* As above, until BSY is clear and DRDY set (an absent drive never gets there). */
ide_wait_ready:
    pushq %rax
    pushq %rdx
    movl $100000, %r11d
    leal 0x206(%r8), %edx
1:  inb %dx, %al
    andb $0xc0, %al
    cmpb $0x40, %al
    je 2f
    decl %r11d
    jz ide_timeout
    jmp 1b
2:  popq %rdx
    popq %rax
    ret

/* For PIO out: polls Alternate Status until BSY is clear and DRQ set; ERR fails. */
ide_wait_drq:
    pushq %rax
    pushq %rdx
    pushq %r11
    movl $100000, %r11d
    leal 0x206(%r8), %edx
1:  inb %dx, %al
    testb $0x01, %al
    jnz ide_timeout             /* the drive refused the command */
    andb $0x88, %al
    cmpb $0x08, %al
    je 2f
    decl %r11d
    jz ide_timeout
    jmp 1b
2:  popq %r11
    popq %rdx
    popq %rax
    ret

/* Sleeps until the channel's IRQ handler has run; returns the Status it read in AL.
 * Same check-then-STI;HLT pattern as the timer wait. The PIT keeps ticking, so a lost
 * interrupt ends in the tick limit rather than an endless sleep. */
ide_wait_irq:
    pushq %r11
    movl $1000, %r11d           /* 10 s of timer ticks */
1:  cli
    cmpb $0, (%r10)
    jne 2f
    decl %r11d
    jz ide_timeout
    sti
    hlt
    jmp 1b
2:  sti
    movb 2(%r10), %al           /* IDE_STATUSn sits 2 bytes after IDE_DONEn */
    popq %r11
    ret

/* Reads 256 words from the data register of channel R8 to RBX. */
ide_read_words:
    pushq %rax
    pushq %rcx
    pushq %rdx
    pushq %rbx
    movl %r8d, %edx
    movl $256, %ecx
1:  inw %dx, %ax
    movw %ax, (%rbx)
    addq $2, %rbx
    loop 1b
    popq %rbx
    popq %rdx
    popq %rcx
    popq %rax
    ret

/* --- Interrupt handlers. Each saves what it touches (the interrupted code may be
 * anywhere) and ends with EOI to the PIC(s) that delivered it. */

irq0_handler:
    pushq %rax
    incq TICKS
    movb $0x20, %al             /* non-specific EOI to the master */
    outb %al, $0x20
    popq %rax
    iretq

/* IDE: reading Status acknowledges the drive's interrupt (INTRQ drops), so the PIC sees
 * a fresh edge next time. The slave PIC delivered it through master IR2: EOI both. */
irq14_handler:
    pushq %rax
    pushq %rdx
    movw $0x1f7, %dx
    inb %dx, %al
    movb %al, IDE_STATUS0
    movb $1, IDE_DONE0
    jmp ide_eoi
irq15_handler:
    pushq %rax
    pushq %rdx
    movw $0x177, %dx
    inb %dx, %al
    movb %al, IDE_STATUS1
    movb $1, IDE_DONE1
ide_eoi:
    movb $0x20, %al
    outb %al, $0xa0
    outb %al, $0x20
    popq %rdx
    popq %rax
    iretq

unexpected_int:
    movq $msg_unexpected, %rsi
    jmp fail

/* One stub per exception vector, pushing the vector number (the CPU's error code, if
 * any, stays below it; the report doesn't need it). */
    .irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
exc_\v:
    pushq $\v
    jmp exc_common
    .endr
exc_common:
    movq $msg_fail, %rsi
    call puts
    movq $msg_exception, %rsi
    call puts
    popq %rax
    call put_dec
    movq $msg_crlf, %rsi
    call puts
    jmp power_off

/* Writes a 64-bit interrupt gate at RDI for the handler at RAX: present, DPL 0,
 * type 0xE (interrupt gate: IF is cleared on entry), selector 0x18 (64-bit code). */
set_gate:
    pushq %rax
    movw %ax, (%rdi)            /* offset 15:0 */
    movw $0x18, 2(%rdi)
    movw $0x8e00, 4(%rdi)       /* IST 0, type/attributes */
    shrq $16, %rax
    movw %ax, 6(%rdi)           /* offset 31:16 */
    shrq $16, %rax
    movl %eax, 8(%rdi)          /* offset 63:32 */
    movl $0, 12(%rdi)
    popq %rax
    ret

/* --- Console output on COM1 (64-bit versions of putc32/puts32). */

/* Sends AL once THR is empty. */
putc:
    pushq %rdx
    pushq %rax
    movw $(COM1 + 5), %dx
1:  inb %dx, %al
    testb $0x20, %al
    jz 1b
    popq %rax
    movw $COM1, %dx
    outb %al, %dx
    popq %rdx
    ret

/* Prints the NUL-terminated string at RSI. */
puts:
    pushq %rax
    pushq %rsi
1:  movb (%rsi), %al
    testb %al, %al
    jz 2f
    call putc
    incq %rsi
    jmp 1b
2:  popq %rsi
    popq %rax
    ret

/* Prints RAX in decimal. Digits are produced backwards into a buffer on the stack. */
put_dec:
    pushq %rax
    pushq %rcx
    pushq %rdx
    pushq %rsi
    subq $32, %rsp
    leaq 31(%rsp), %rsi
    movb $0, (%rsi)
    movl $10, %ecx
1:  xorl %edx, %edx
    divq %rcx
    addb $'0', %dl
    decq %rsi
    movb %dl, (%rsi)
    testq %rax, %rax
    jnz 1b
    call puts
    addq $32, %rsp
    popq %rsi
    popq %rdx
    popq %rcx
    popq %rax
    ret

/* Prints EAX as 8 hex digits. */
put_hex32:
    pushq %rax
    pushq %rbx
    pushq %rcx
    movl %eax, %ebx
    movl $8, %ecx
1:  roll $4, %ebx               /* next nibble, most significant first */
    movl %ebx, %eax
    andl $0x0f, %eax
    movb hex_digits(%rax), %al
    call putc
    loop 1b
    popq %rcx
    popq %rbx
    popq %rax
    ret

/* ====================================================================================== */
/* Data                                                                                    */
/* ====================================================================================== */
    .p2align 3
gdt:
    .quad 0
    .quad 0x00cf9a000000ffff    /* 0x08: 32-bit code, flat */
    .quad 0x00cf92000000ffff    /* 0x10: data, flat */
    .quad 0x00af9a000000ffff    /* 0x18: 64-bit code */
gdt_end:
gdt_desc:
    .word gdt_end - gdt - 1
    .long gdt
    .p2align 3
idt_desc:
    .word 256 * 16 - 1
    .quad IDT

    .p2align 3
exc_table:
    .irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    .quad exc_\v
    .endr

hex_digits:       .ascii "0123456789abcdef"
msg_a20:          .asciz "pc-boot: a20 on\r\n"
msg_a20_fail:     .asciz "pc-boot: FAIL a20\r\n"
msg_pm:           .asciz "pc-boot: protected mode\r\n"
msg_lm:           .asciz "pc-boot: long mode\r\n"
msg_e820:         .asciz "pc-boot: e820 "
msg_e820_entries: .asciz " entries, "
msg_e820_kib:     .asciz " KiB usable\r\n"
msg_ticks:        .asciz "pc-boot: "
msg_ticks_end:    .asciz " timer ticks\r\n"
msg_hd01_ok:      .asciz "pc-boot: hd0:1 write/read ok\r\n"
msg_hd01_fail:    .asciz "hd0:1 write/read\r\n"
msg_hd10_read:    .asciz "pc-boot: hd1:0 read fnv1a "
msg_hd10_write:   .asciz "pc-boot: hd1:0 write ok\r\n"
msg_hd10_fail:    .asciz "hd1:0\r\n"
msg_ide_timeout:  .asciz "ide timeout\r\n"
msg_unexpected:   .asciz "unexpected interrupt\r\n"
msg_fail:         .asciz "pc-boot: FAIL "
msg_exception:    .asciz "exception "
msg_crlf:         .asciz "\r\n"
msg_off:          .asciz "pc-boot: power off\r\n"

    /* The image ends on a sector boundary: the boot sector loads whole sectors. */
    .balign 512
image_end:
