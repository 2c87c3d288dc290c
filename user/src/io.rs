//! Console output: a small buffered writer over `write(fd, ...)` and the
//! `print!`/`println!` macros on it (stdout, fd 1), formatting with [`crate::fmt`].
//!
//! Output is gathered in a buffer and written with as few system calls as possible (one
//! per message when it fits), so that a line is not interleaved with the kernel's own
//! messages or another process's output, as Pintos' `vmsg` does.

use crate::fmt::{self, Out, Sink};
use crate::syscall::{write, STDOUT_FILENO};

/// Gathers output for file descriptor `fd`; writes it when full and on
/// [`BufWriter::flush`] (or drop).
pub struct BufWriter<const N: usize> {
    fd: i32,
    buf: [u8; N],
    len: usize,
}

impl<const N: usize> BufWriter<N> {
    pub const fn new(fd: i32) -> Self {
        BufWriter { fd, buf: [0; N], len: 0 }
    }

    /// Formats `fmt` with `args` (see [`crate::fmt::format`]) into the buffer.
    pub fn format(&mut self, fmt: &str, args: &[&dyn Out]) {
        fmt::format(self, fmt, args)
    }

    /// Writes out what is buffered.
    pub fn flush(&mut self) {
        let mut done = 0;
        while let Some(rest) = self.buf.get(done..self.len).filter(|r| !r.is_empty()) {
            let n = write(self.fd, rest);
            if n <= 0 {
                break;
            }
            done += n as usize;
        }
        self.len = 0;
    }
}

impl<const N: usize> Sink for BufWriter<N> {
    fn put(&mut self, bytes: &[u8]) {
        for &b in bytes {
            if self.len >= N {
                self.flush();
            }
            if let Some(slot) = self.buf.get_mut(self.len) {
                *slot = b;
                self.len += 1;
            }
        }
    }
}

impl<const N: usize> Drop for BufWriter<N> {
    fn drop(&mut self) {
        self.flush();
    }
}

/// Formats to stdout in (usually) one `write`; `suffix` follows the message.
pub fn print_out(fmt: &str, args: &[&dyn Out], suffix: &str) {
    let mut w = BufWriter::<1024>::new(STDOUT_FILENO);
    w.format(fmt, args);
    w.put(suffix.as_bytes());
}

/// `print!("x = {}", x)` to stdout (fd 1); see [`crate::fmt`] for the format.
#[macro_export]
macro_rules! print {
    ($fmt:expr $(, $arg:expr)* $(,)?) => { $crate::io::print_out($fmt, $crate::__out_args!($($arg),*), "") };
}

/// `println!`: as `print!`, the newline going out in the same `write`.
#[macro_export]
macro_rules! println {
    () => { $crate::io::print_out("", &[], "\n") };
    ($fmt:expr $(, $arg:expr)* $(,)?) => { $crate::io::print_out($fmt, $crate::__out_args!($($arg),*), "\n") };
}

/// Pintos' `hex_dump(ofs, buf, size, ascii)` (`lib/stdio.c`): 16 bytes a line, each line
/// starting with its offset rounded down to 16 (16 hex digits), a `-` after the eighth
/// byte, and with `ascii` the printable characters between `|`s. A first line that
/// starts mid-row is indented to its column. Each line goes out in one `write`.
pub fn hex_dump(mut ofs: usize, buf: &[u8], ascii: bool) {
    const PER_LINE: usize = 16;
    let mut rest = buf;
    while !rest.is_empty() {
        let start = ofs % PER_LINE;
        let n = (PER_LINE - start).min(rest.len());
        let end = start + n;
        let Some((line, tail)) = rest.split_at_checked(n) else { break };
        let mut w = BufWriter::<128>::new(STDOUT_FILENO);
        put_hex(&mut w, (ofs - start) as u64, 16);
        w.put(b"  ");
        for _ in 0..start {
            w.put(b"   ");
        }
        for (k, &b) in line.iter().enumerate() {
            put_hex(&mut w, b as u64, 2);
            w.put(if start + k == PER_LINE / 2 - 1 { b"-" } else { b" " });
        }
        if ascii {
            for _ in end..PER_LINE {
                w.put(b"   ");
            }
            w.put(b"|");
            for _ in 0..start {
                w.put(b" ");
            }
            for &b in line {
                w.put(if (0x20..0x7f).contains(&b) { core::slice::from_ref(&b) } else { b"." });
            }
            for _ in end..PER_LINE {
                w.put(b" ");
            }
            w.put(b"|");
        }
        w.put(b"\n");
        ofs += n;
        rest = tail;
    }
}

/// `v` as exactly `digits` lower-case hex digits (the low ones), zero-padded.
fn put_hex(s: &mut dyn Sink, v: u64, digits: u32) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for k in (0..digits).rev() {
        let d = (v >> (4 * k)) & 0xf;
        if let Some(c) = DIGITS.get(d as usize) {
            s.put(core::slice::from_ref(c));
        }
    }
}
