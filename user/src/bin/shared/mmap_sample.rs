// The VM tests' `sample.txt` (tests/data/vm/sample.txt, the file the harness puts), compiled
// in so the mmap tests can compare what they see through a mapping with the real contents.

/// The file's bytes (plain ASCII, no NUL, shorter than a page).
pub const SAMPLE: &[u8] = include_bytes!("../../../../tests/data/vm/sample.txt");

/// The file's length.
pub const SAMPLE_LEN: usize = SAMPLE.len();

/// The text with a NUL byte after it: what a C program's `sizeof sample` covers, and so
/// what child-mm-wrt writes through its mapping and mmap-exit finds in the file.
#[allow(dead_code)]
pub static SAMPLE_NUL: [u8; SAMPLE_LEN + 1] = {
    let mut out = [0u8; SAMPLE_LEN + 1];
    let mut i = 0;
    while i < SAMPLE_LEN {
        out[i] = SAMPLE[i];
        i += 1;
    }
    out
};
