//! COM1, a 16550 UART, driven by polling (an interrupt-driven queue comes with threads).

use crate::arch::io::{inb, outb};

const BASE: u16 = 0x3f8;
const THR: u16 = BASE; // transmit holding register (DLAB = 0)
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
const LSR_THRE: u8 = 0x20;
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
