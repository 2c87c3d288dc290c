//! CPU exceptions: a page fault from user mode goes to the VM layer, which loads the
//! page or grows the stack (`vm::handle_fault`); any other exception from user mode, and
//! a fault the VM layer refuses, ends the process with exit(-1) (a bad pointer
//! dereference, a jump into the kernel, an invalid opcode...); from kernel mode they are
//! kernel bugs and panic with a register dump, as before.

use super::process::process_exit;
use crate::arch::cpu;
use crate::threads::interrupt::{self, IntrFrame};
use crate::vm;

const PAGE_FAULT: u64 = 14;
/// Page-fault error code: the access was a write.
const PF_WRITE: u64 = 2;

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
        if frame.vec == PAGE_FAULT {
            // Read CR2 before anything can fault again; loading the page may sleep.
            let addr = cpu::cr2();
            let write = frame.error & PF_WRITE != 0;
            cpu::enable_interrupts();
            if vm::handle_fault(addr, write, frame.rsp) {
                cpu::disable_interrupts();
                return;
            }
        }
        process_exit(-1);
    }
    interrupt::unexpected(frame);
}
