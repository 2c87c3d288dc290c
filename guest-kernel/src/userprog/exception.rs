//! CPU exceptions: from user mode they end the process with exit(-1) (a bad pointer
//! dereference, a jump into the kernel, an invalid opcode...); from kernel mode they
//! are kernel bugs and panic with a register dump, as before.

use super::process::process_exit;
use crate::threads::interrupt::{self, IntrFrame};

/// Registers the handler for every CPU exception except NMI (2) and the double fault
/// (8), which stay fatal.
pub fn init() {
    for vec in 0..20u8 {
        if vec != 2 && vec != 8 && vec != 15 {
            interrupt::register_int(vec, false, on_exception, interrupt::exception_name(vec));
        }
    }
}

fn on_exception(frame: &mut IntrFrame) {
    if frame.cs & 3 == 3 {
        process_exit(-1);
    }
    interrupt::unexpected(frame);
}
