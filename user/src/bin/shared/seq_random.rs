// Pintos' `tests/filesys/base/seq-random.inc` (sm-seq-random, lg-seq-random): the file
// written in blocks of 1 to 1031 random bytes, from the generator seeded with -1 that
// also made the contents.

#[path = "seq_test.rs"]
mod seq_test;

use user::random::Random;

pub fn run(buf: &mut [u8]) {
    // `random_init (-1)`: the seed is an unsigned int.
    let mut rng = Random::new(u32::MAX);
    seq_test::seq_test(c"nibble", buf, &mut rng, &mut |r| (r.ulong() % 1031 + 1) as usize);
}
