// The VM tests' `large.txt` (tests/data/vm/large.txt, about 2 MB of plain ASCII), compiled
// in for the tests that compare the file, or pages of it, with what they map or read.

pub const LARGE: &[u8] = include_bytes!("../../../../tests/data/vm/large.txt");
