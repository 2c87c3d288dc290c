//! COM1, a 16550 UART. Output is polled (the console must work before interrupts do, and
//! in a panic); input is interrupt-driven once `init_queue` runs: each received byte goes
//! to the input queue (`devices/input.rs`).

use crate::arch::cpu;
use crate::arch::io::{inb, outb};
use crate::devices::input;
use crate::threads::interrupt::{self, IntrFrame, IRQ_BASE};

const BASE: u16 = 0x3f8;
const THR: u16 = BASE; // transmit holding register (DLAB = 0, write)
const RBR: u16 = BASE; // receive buffer register (DLAB = 0, read)
const DLL: u16 = BASE; // divisor latch, low byte (DLAB = 1)
const IER: u16 = BASE + 1; // interrupt enable (DLAB = 0)
const DLM: u16 = BASE + 1; // divisor latch, high byte (DLAB = 1)
const FCR: u16 = BASE + 2;
const LCR: u16 = BASE + 3;
const MCR: u16 = BASE + 4;
const LSR: u16 = BASE + 5;

const LCR_N81: u8 = 0x03; // 8 data bits, no parity, 1 stop bit
const LCR_DLAB: u8 = 0x80;
const MCR_OUT2: u8 = 0x08; // gates the UART's interrupt line on a PC
const LSR_DR: u8 = 0x01; // a received byte is waiting
const LSR_THRE: u8 = 0x20;
const IER_RDA: u8 = 0x01; // interrupt when a byte has been received
/// COM1 is IRQ 4.
const VECTOR: u8 = IRQ_BASE as u8 + 4;
/// 115200 bps from the 1.8432 MHz clock.
const DIVISOR: u16 = 1;

/// Programs 115200 8N1 with interrupts and FIFOs off.
pub fn init() {
    outb(IER, 0);
    outb(FCR, 0);
    outb(LCR, LCR_N81 | LCR_DLAB);
    outb(DLL, DIVISOR as u8);
    outb(DLM, (DIVISOR >> 8) as u8);
    outb(LCR, LCR_N81);
    outb(MCR, MCR_OUT2);
}

/// Sends one byte, waiting for the transmitter to take it.
pub fn putc(b: u8) {
    while inb(LSR) & LSR_THRE == 0 {}
    outb(THR, b);
}

/// Starts taking input by interrupt (`serial_init_queue`): needs the interrupt
/// controller set up.
pub fn init_queue() {
    interrupt::register_ext(VECTOR, serial_interrupt, "serial");
    resume_input();
}

/// Moves received bytes into the input queue while it has room. When it fills up, the
/// receive interrupt goes off and the rest wait in the UART until `resume_input`.
fn serial_interrupt(_frame: &mut IntrFrame) {
    while inb(LSR) & LSR_DR != 0 {
        if input::full() {
            outb(IER, 0);
            return;
        }
        input::putc(inb(RBR));
    }
}

/// Turns the receive interrupt (back) on unless the input queue is full. A byte already
/// waiting raises the interrupt at once.
pub fn resume_input() {
    cpu::without_interrupts(|| {
        if !input::full() {
            outb(IER, IER_RDA);
        }
    });
}
