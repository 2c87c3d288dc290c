// Pintos' `tests/filesys/base/seq-block.inc` (sm-seq-block, lg-seq-block): the file
// written in fixed-size blocks of `block_size` bytes (the last one shorter).

#[path = "seq_test.rs"]
mod seq_test;

use user::random::Random;

pub fn run(buf: &mut [u8], block_size: usize) {
    seq_test::seq_test(c"noodle", buf, &mut Random::default(), &mut |_| block_size);
}
