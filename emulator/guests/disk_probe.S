/*
 * disk_probe: a boot sector that measures how long the primary master's IDE commands take,
 * the way a guest sees it (GNU as, linked flat at 0x7C00 by build.rs).
 *
 * Run it on QEMU and on the emulator (`disk-probe`, scripts/measure-disk-latency) to pick
 * and check the emulator's disk timing. Interrupts stay off and nIEN is set: the probe
 * polls Alternate Status, so what it measures is the drive's own BSY time, not interrupt
 * latency. Time is PIT channel 0 in mode 2 counting down from 65536 at 1.193182 MHz
 * (0.838 us per count; a measurement must stay under 54.9 ms).
 *
 * Output on COM1, one line per measurement, in PIT counts:
 *   r N   READ SECTORS of 1 sector: command write to DRQ (REPS times, LBAs 1..)
 *   s N   READ SECTORS of 8: command to the first DRQ, then "g N" for the gap between
 *         taking each sector and the next DRQ (7 gaps)
 *   w N   WRITE SECTORS of 1: last data word to BSY clear (completion)
 *   done
 * and then powers off (ACPI PM1a on 0x604, which both QEMU's pc machine and ours have).
 */

#define COM1   0x3f8
#define IDE    0x1f0
#define ALT    0x3f6
#define REPS   16

    .text
    .globl start
    .code16
start:
    cli
    ljmp $0, $1f
1:  xorw %ax, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movw $0x7c00, %sp
    movw $ALT, %dx              /* nIEN: no IDE interrupts, we poll */
    movb $0x02, %al
    outb %al, %dx
    movb $0x34, %al             /* PIT channel 0, lobyte/hibyte, mode 2, count 65536 */
    outb %al, $0x43
    xorb %al, %al
    outb %al, $0x40
    outb %al, $0x40

    /* r: single-sector reads. */
    movw $1, %bp                /* LBA */
2:  movb $1, %cl
    call setup
    movb $0x20, %al
    call command_timed          /* bx = PIT at the command */
    call wait_drq
    movb $'r', %al
    call report
    call drain
    incw %bp
    cmpw $1 + REPS, %bp
    jne 2b

    /* s/g: an 8-sector read. */
    movw $100, %bp
    movb $8, %cl
    call setup
    movb $0x20, %al
    call command_timed
    call wait_drq
    movb $'s', %al
    call report
    movw $7, %di
3:  call drain
    call pit_now
    movw %ax, %bx
    call wait_drq
    movb $'g', %al
    call report
    decw %di
    jnz 3b
    call drain

    /* w: single-sector writes (of the boot sector's bytes, to LBAs 200..). */
    movw $200, %bp
4:  movb $1, %cl
    call setup
    movb $0x30, %al
    movw $IDE + 7, %dx
    outb %al, %dx
    call wait_drq
    movw $0x7c00, %si
    movw $256, %cx
    movw $IDE, %dx
5:  movw (%si), %ax
    outw %ax, %dx
    addw $2, %si
    loop 5b
    call pit_now
    movw %ax, %bx
    call wait_idle
    movb $'w', %al
    call report
    incw %bp
    cmpw $200 + REPS, %bp
    jne 4b

    movw $msg_done, %si
6:  movb (%si), %al
    testb %al, %al
    jz 7f
    call putc
    incw %si
    jmp 6b
7:  movw $0x604, %dx
    movw $0x2000, %ax
    outw %ax, %dx
    hlt

/* Loads LBA BP, count CL into the primary master's registers. */
setup:
    movw $IDE + 6, %dx
    movb $0xe0, %al
    outb %al, %dx
    movw $IDE + 2, %dx
    movb %cl, %al
    outb %al, %dx
    incw %dx
    movw %bp, %ax
    outb %al, %dx
    incw %dx
    movb %ah, %al
    outb %al, %dx
    incw %dx
    xorb %al, %al
    outb %al, %dx
    ret

/* Writes command AL and returns the PIT count just before it in BX. */
command_timed:
    pushw %ax
    call pit_now
    movw %ax, %bx
    popw %ax
    movw $IDE + 7, %dx
    outb %al, %dx
    ret

/* Waits for BSY clear with DRQ set (or an error). */
wait_drq:
    movw $ALT, %dx
1:  inb %dx, %al
    testb $0x80, %al
    jnz 1b
    testb $0x09, %al
    jz 1b
    ret

/* Waits for BSY clear. */
wait_idle:
    movw $ALT, %dx
1:  inb %dx, %al
    testb $0x80, %al
    jnz 1b
    ret

/* Reads one sector of data and drops it. */
drain:
    movw $256, %cx
    movw $IDE, %dx
1:  inw %dx, %ax
    loop 1b
    ret

/* AX = PIT channel 0 count (latched). */
pit_now:
    xorb %al, %al
    outb %al, $0x43
    inb $0x40, %al
    movb %al, %ah
    inb $0x40, %al
    xchgb %al, %ah
    ret

/* Prints "<AL> <BX - now>\n": the counts since BX was taken. */
report:
    pushw %ax
    call pit_now
    subw %ax, %bx               /* the counter counts down: start - now, mod 65536 */
    popw %ax
    call putc
    movb $' ', %al
    call putc
    movw %bx, %ax
    /* decimal: push digits, pop them out */
    xorw %cx, %cx
    movw $10, %si
1:  xorw %dx, %dx
    divw %si
    pushw %dx
    incw %cx
    testw %ax, %ax
    jnz 1b
2:  popw %ax
    addb $'0', %al
    call putc
    loop 2b
    movb $'\n', %al
    call putc
    ret

/* COM1 output, polling LSR.THRE. */
putc:
    pushw %dx
    pushw %ax
    movw $COM1 + 5, %dx
1:  inb %dx, %al
    testb $0x20, %al
    jz 1b
    popw %ax
    movw $COM1, %dx
    outb %al, %dx
    popw %dx
    ret

msg_done:
    .asciz "done\n"

    .org 510
    .byte 0x55, 0xaa
