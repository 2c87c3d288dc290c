// Pintos' `tests/filesys/base/full.inc` (sm-full, lg-full): the whole file in one write.

#[path = "seq_test.rs"]
mod seq_test;

use user::random::Random;

pub fn run(buf: &mut [u8]) {
    let size = buf.len();
    seq_test::seq_test(c"quux", buf, &mut Random::default(), &mut |_| size);
}
