//! The console: every character goes to COM1 and to the VGA text screen, as in Pintos.
//! `print!`/`println!` format into it.

use core::fmt::{self, Write};

use crate::arch::cell::IrqCell;
use crate::devices::{serial, vga};

struct Console {
    /// Characters written since boot (reported at power-off, as Pintos does).
    count: u64,
}

static CONSOLE: IrqCell<Console> = IrqCell::new(Console { count: 0 });

impl Write for Console {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for b in s.bytes() {
            serial::putc(b);
            vga::putc(b);
        }
        self.count += s.len() as u64;
        Ok(())
    }
}

#[doc(hidden)]
pub fn _print(args: fmt::Arguments) {
    // Interrupts stay off for the whole message, so lines from different contexts never
    // interleave.
    CONSOLE.with(|c| {
        let _ = c.write_fmt(args);
    });
}

/// Writes raw bytes (a user program's `write` to fd 1) in one piece, as Pintos' `putbuf`.
pub fn putbuf(buf: &[u8]) {
    CONSOLE.with(|c| {
        for &b in buf {
            serial::putc(b);
            vga::putc(b);
        }
        c.count += buf.len() as u64;
    });
}

/// Prints even if the panic struck while the console was in use (then the output goes
/// straight to the devices).
pub fn print_panic(args: fmt::Arguments) {
    if CONSOLE.try_with(|c| c.write_fmt(args)).is_none() {
        let _ = Console { count: 0 }.write_fmt(args);
    }
}

pub fn chars_written() -> u64 {
    CONSOLE.try_with(|c| c.count).unwrap_or(0)
}

#[macro_export]
macro_rules! print {
    ($($arg:tt)*) => ($crate::console::_print(format_args!($($arg)*)));
}

#[macro_export]
macro_rules! println {
    () => ($crate::print!("\n"));
    ($($arg:tt)*) => ($crate::console::_print(format_args!("{}\n", format_args!($($arg)*))));
}
