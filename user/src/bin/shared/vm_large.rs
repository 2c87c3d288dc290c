// The contents of `large.txt` (tests/data/vm/large.txt, about 2 MB of text) compiled
// into the program's writable data, followed by a NUL, as the swap and copy-on-write
// tests expect it: they map the file (the text plus one byte) and compare, or check that
// a forked child shares the pages.

/// The file's length (whatever text tests/data/vm/large.txt holds).
pub const TEXT_LEN: usize = include_bytes!("../../../../tests/data/vm/large.txt").len();
/// The text of the file (only used to initialise LARGE and PREFIX).
const TEXT: &[u8; TEXT_LEN] = include_bytes!("../../../../tests/data/vm/large.txt");

/// The file's first 11 bytes (as many as Pintos' "Lorem ipsum"), kept apart from LARGE
/// so a test can tell whether LARGE still starts as the file does.
#[allow(dead_code)]
pub const PREFIX: [u8; 11] = {
    let mut p = [0u8; 11];
    let mut i = 0;
    while i < p.len() {
        p[i] = TEXT[i];
        i += 1;
    }
    p
};

/// The text and its terminating NUL, laid out as one array would be.
#[repr(C)]
pub struct Large {
    pub text: [u8; TEXT_LEN],
    pub nul: u8,
}

/// In `.data`, so its pages are writable and are loaded from the executable on demand.
pub static mut LARGE: Large = Large { text: *TEXT, nul: 0 };

/// `sizeof large`: the text and its NUL.
#[allow(dead_code)]
pub const SIZE: usize = TEXT_LEN + 1;

/// The first byte of LARGE.
pub fn start() -> *mut u8 {
    // SAFETY: only a raw pointer is made.
    unsafe { core::ptr::addr_of_mut!(LARGE.text).cast::<u8>() }
}

/// The text as it is now in memory.
#[allow(dead_code)]
pub fn text() -> &'static [u8] {
    // SAFETY: TEXT_LEN bytes from `start()` are LARGE.text; callers do not hold this
    // slice across a write to LARGE.
    unsafe { core::slice::from_raw_parts(start(), TEXT_LEN) }
}
