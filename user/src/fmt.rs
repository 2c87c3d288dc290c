//! A tiny formatter that does not use `core::fmt`.
//!
//! Why not `core::fmt`: the precompiled `core` (the only one on this toolchain) formats
//! with SSE (`Formatter::pad`, `pad_integral`, the integer `Display` impls), and Pintos
//! user programs are built without SSE (`-mno-sse`), which the artifact tests enforce.
//! So messages are formatted here: a format string whose `{}` take the next argument
//! (`{{` and `}}` are literal braces), with arguments of any type implementing [`Out`]
//! (strings, C strings, integers, bool, char, [`Hex`]). Extra arguments are ignored; a
//! `{}` without an argument prints nothing.
//!
//! This code (and the rest of the library) is written to contain no panicking paths that
//! format (bounds checks, `copy_from_slice`, ...), since those link `core::fmt` too.

use core::ffi::CStr;

/// Where formatted bytes go.
pub trait Sink {
    fn put(&mut self, bytes: &[u8]);
}

/// A value that can be printed by [`format`].
pub trait Out {
    fn out(&self, s: &mut dyn Sink);
}

impl<T: Out + ?Sized> Out for &T {
    fn out(&self, s: &mut dyn Sink) {
        (**self).out(s)
    }
}

impl Out for str {
    fn out(&self, s: &mut dyn Sink) {
        s.put(self.as_bytes())
    }
}

/// The bytes as they are (Pintos prints arguments and file names raw).
impl Out for CStr {
    fn out(&self, s: &mut dyn Sink) {
        s.put(self.to_bytes())
    }
}

impl Out for [u8] {
    fn out(&self, s: &mut dyn Sink) {
        s.put(self)
    }
}

impl Out for bool {
    fn out(&self, s: &mut dyn Sink) {
        s.put(if *self { b"true" } else { b"false" })
    }
}

impl Out for char {
    fn out(&self, s: &mut dyn Sink) {
        let mut b = [0u8; 4];
        s.put(self.encode_utf8(&mut b).as_bytes())
    }
}

/// Writes `v` in `radix` (2..=16), most significant digit first.
fn put_unsigned(s: &mut dyn Sink, mut v: u64, radix: u64) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut buf = [0u8; 64];
    let mut i = buf.len();
    loop {
        i -= 1;
        if let (Some(slot), Some(&d)) = (buf.get_mut(i), DIGITS.get((v % radix) as usize)) {
            *slot = d;
        }
        v /= radix;
        if v == 0 || i == 0 {
            break;
        }
    }
    if let Some(digits) = buf.get(i..) {
        s.put(digits);
    }
}

fn put_signed(s: &mut dyn Sink, v: i64) {
    if v < 0 {
        s.put(b"-");
    }
    put_unsigned(s, v.unsigned_abs(), 10);
}

macro_rules! out_unsigned {
    ($($t:ty)*) => {$(
        impl Out for $t {
            fn out(&self, s: &mut dyn Sink) { put_unsigned(s, *self as u64, 10) }
        }
    )*};
}
macro_rules! out_signed {
    ($($t:ty)*) => {$(
        impl Out for $t {
            fn out(&self, s: &mut dyn Sink) { put_signed(s, *self as i64) }
        }
    )*};
}
out_unsigned!(u8 u16 u32 u64 usize);
out_signed!(i8 i16 i32 i64 isize);

/// Prints an unsigned integer in lower-case hexadecimal, without prefix.
pub struct Hex<T>(pub T);

impl<T: Copy + Into<u64>> Out for Hex<T> {
    fn out(&self, s: &mut dyn Sink) {
        put_unsigned(s, self.0.into(), 16)
    }
}

/// Prints a pointer as `0x` + hexadecimal.
impl<T> Out for *const T {
    fn out(&self, s: &mut dyn Sink) {
        s.put(b"0x");
        put_unsigned(s, *self as usize as u64, 16)
    }
}

impl<T> Out for *mut T {
    fn out(&self, s: &mut dyn Sink) {
        (*self as *const T).out(s)
    }
}

/// Writes `fmt` with each `{}` replaced by the next of `args`.
pub fn format(s: &mut dyn Sink, fmt: &str, args: &[&dyn Out]) {
    let mut args = args.iter();
    let mut bytes = fmt.as_bytes().iter().peekable();
    while let Some(&b) = bytes.next() {
        match (b, bytes.peek()) {
            (b'{', Some(b'}')) => {
                bytes.next();
                if let Some(arg) = args.next() {
                    arg.out(s);
                }
            }
            (b'{', Some(b'{')) | (b'}', Some(b'}')) => {
                bytes.next();
                s.put(core::slice::from_ref(&b));
            }
            _ => s.put(core::slice::from_ref(&b)),
        }
    }
}

/// A [`Sink`] over a byte buffer that keeps what fits and counts everything.
struct SliceSink<'a> {
    buf: &'a mut [u8],
    len: usize,
}

impl Sink for SliceSink<'_> {
    fn put(&mut self, bytes: &[u8]) {
        for &b in bytes {
            // The last byte stays free for the NUL.
            if self.len + 1 < self.buf.len() {
                if let Some(slot) = self.buf.get_mut(self.len) {
                    *slot = b;
                }
            }
            self.len += 1;
        }
    }
}

/// C's `snprintf`: formats into `buf` (truncating, always NUL-terminated when `buf` is
/// not empty) and returns the C string written, e.g. a command line or a thread name.
pub fn snprintf<'a>(buf: &'a mut [u8], fmt: &str, args: &[&dyn Out]) -> &'a CStr {
    let mut sink = SliceSink { buf, len: 0 };
    format(&mut sink, fmt, args);
    let SliceSink { buf, len } = sink;
    let end = len.min(buf.len().saturating_sub(1));
    if let Some(slot) = buf.get_mut(end) {
        *slot = 0;
    }
    CStr::from_bytes_until_nul(buf).unwrap_or(c"")
}

/// `user::format_args!`-like helper for the macros: builds the argument slice.
#[doc(hidden)]
#[macro_export]
macro_rules! __out_args {
    ($($arg:expr),* $(,)?) => { &[$(&$arg as &dyn $crate::fmt::Out),*] };
}

#[cfg(test)]
mod tests {
    use super::*;

    impl Sink for Vec<u8> {
        fn put(&mut self, bytes: &[u8]) {
            self.extend_from_slice(bytes)
        }
    }

    #[test]
    fn snprintf_truncates_and_terminates() {
        let mut buf = [0xffu8; 8];
        assert_eq!(snprintf(&mut buf, "child_{}_{}", &[&12, &'X']).to_bytes(), b"child_1");
        assert_eq!(buf[7], 0);
        let mut buf = [0xffu8; 16];
        assert_eq!(snprintf(&mut buf, "{} {}", &[&"child-close", &-5]).to_bytes(), b"child-close -5");
        assert_eq!(snprintf(&mut [0u8; 0], "x", &[]).to_bytes(), b"");
    }

    fn f(fmt: &str, args: &[&dyn Out]) -> String {
        let mut v = Vec::new();
        format(&mut v, fmt, args);
        String::from_utf8(v).unwrap()
    }

    /// Placeholders, escapes, integers of every sign and size, hex, C strings.
    #[test]
    fn format_substitutes_placeholders() {
        assert_eq!(f("argc = {}", &[&3usize]), "argc = 3");
        assert_eq!(f("argv[{}] = '{}'", &[&0, &c"echo"]), "argv[0] = 'echo'");
        assert_eq!(f("{} {} {} {}", &[&i64::MIN, &u64::MAX, &-1i32, &0u8]), "-9223372036854775808 18446744073709551615 -1 0");
        assert_eq!(f("{{}} {}", &[&Hex(0xdead_beefu32)]), "{} deadbeef");
        assert_eq!(f("{}{}", &[&true, &'x']), "truex");
        assert_eq!(f("missing {} here", &[]), "missing  here");
        assert_eq!(f("{}", &[&"str", &"extra"]), "str");
    }
}
