//! The console's input side (Pintos' `devices/input.c`): bytes that arrive at the serial
//! port wait here until a reader (`read` on file descriptor 0) takes them.
//!
//! The `pintos` launcher feeds the host's standard input (when it is a file or a pipe) to
//! COM1, so `echo hi | pintos -- run cat` has the program read "hi\n". The queue is
//! bounded: when it is full the serial driver stops taking bytes and they stay in the
//! UART until a reader makes room, so no input is ever dropped.

use alloc::collections::VecDeque;

use crate::arch::cell::IrqCell;
use crate::devices::serial;
use crate::threads::synch::{sema_down, Semaphore};

/// Bytes held at most (Pintos' interrupt queue holds 64 too).
const CAPACITY: usize = 64;

static QUEUE: IrqCell<VecDeque<u8>> = IrqCell::new(VecDeque::new());
/// One count per queued byte: readers sleep on it while the queue is empty.
static AVAILABLE: Semaphore = Semaphore::new(0);

/// Whether the queue has no room (the serial driver then leaves bytes in the UART).
pub fn full() -> bool {
    QUEUE.with(|q| q.len() >= CAPACITY)
}

/// Queues a received byte; called from the serial interrupt handler, which checks
/// `full` first (a byte it has read from the UART must not be lost).
pub fn putc(b: u8) {
    QUEUE.with(|q| q.push_back(b));
    crate::threads::synch::sema_up(&AVAILABLE);
}

/// Takes the next input byte, sleeping until one arrives (`input_getc`).
pub fn getc() -> u8 {
    sema_down(&AVAILABLE);
    let b = QUEUE.with(|q| q.pop_front()).expect("input semaphore counted a byte the queue does not have");
    // There is room again: let the serial driver take what waits in the UART.
    serial::resume_input();
    b
}
