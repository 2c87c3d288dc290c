//! Kernel panics: the message in Pintos' form, a backtrace, then shutdown.
//!
//! The backtrace lists return addresses ("Call stack: 0x... 0x..."), like Pintos. Turn
//! them into functions and lines on the host with
//! `addr2line -f -e <disk_images::KERNEL_ELF> ADDR...` (the kernel keeps its symbols and
//! line tables in the ELF next to os.dsk).

use core::panic::PanicInfo;
use core::sync::atomic::{AtomicU32, Ordering};

use crate::arch::{backtrace, cpu};
use crate::threads::init;

static LEVEL: AtomicU32 = AtomicU32::new(0);

#[panic_handler]
fn panic(info: &PanicInfo) -> ! {
    cpu::disable_interrupts();
    match LEVEL.fetch_add(1, Ordering::SeqCst) {
        0 => {
            let (file, line) = info.location().map(|l| (l.file(), l.line())).unwrap_or(("?", 0));
            crate::console::print_panic(format_args!("Kernel PANIC at {file}:{line}: {}\n", info.message()));
            print_backtrace();
        }
        1 => {
            let (file, line) = info.location().map(|l| (l.file(), l.line())).unwrap_or(("?", 0));
            crate::console::print_panic(format_args!("Kernel PANIC recursion at {file}:{line}.\n"));
        }
        // Don't print anything: printing is probably why we recursed.
        _ => cpu::halt_forever(),
    }
    init::shutdown()
}

pub fn print_backtrace() {
    crate::console::print_panic(format_args!("Call stack:"));
    backtrace::for_each_return_address(32, |a| crate::console::print_panic(format_args!(" {a:#x}")));
    crate::console::print_panic(format_args!(".\n"));
}
