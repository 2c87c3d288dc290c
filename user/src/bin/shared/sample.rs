// The contents of `sample.txt` as the tests that read or write it expect (the file the
// harness puts is tests/data/userprog/sample.txt; the same bytes are compiled in here).

/// The whole file.
pub const SAMPLE: &[u8] = include_bytes!("../../../../tests/data/userprog/sample.txt");
