// Command lines with a number in them ("multi-recurse 14", "child-rox 3",
// "child-close 5") and the number back out of an argument, without core::fmt.

use core::ffi::CStr;

/// A NUL-terminated `PREFIX N` in a fixed buffer.
pub struct Cmd {
    buf: [u8; 64],
}

impl Cmd {
    pub fn new(prefix: &[u8], n: i32) -> Cmd {
        let mut buf = [0u8; 64];
        user::fmt::snprintf(&mut buf, "{} {}", &[&prefix, &n]);
        Cmd { buf }
    }

    pub fn as_cstr(&self) -> &CStr {
        CStr::from_bytes_until_nul(&self.buf).unwrap_or(c"")
    }
}

/// Pintos' `atoi`: optional sign, then decimal digits up to the first non-digit.
pub fn atoi(s: &CStr) -> i32 {
    let bytes = s.to_bytes();
    let (neg, digits) = match bytes.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, bytes),
    };
    let mut v: i32 = 0;
    for &b in digits.iter().take_while(|b| b.is_ascii_digit()) {
        v = v.wrapping_mul(10).wrapping_add((b - b'0') as i32);
    }
    if neg { -v } else { v }
}
