// The VM tests' `small.txt` (tests/data/vm/small.txt, 10016 bytes of plain ASCII), compiled
// in for lazy-file, which maps it and compares the start of each mapped page.

pub const SMALL: &[u8] = include_bytes!("../../../../tests/data/vm/small.txt");
