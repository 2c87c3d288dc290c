//! Pintos `mmap-shuffle`: a 128 KiB file mapped writable is filled with a pattern and then
//! shuffled in place ten times, the checksum printed after each step (the same numbers
//! as Pintos' checker, since the shuffles draw from Pintos' seed-0 random stream).
//! Expected output: tests/expected/vm/mmap-shuffle.exp.
#![no_std]
#![no_main]

#[path = "shared/mmap_mem.rs"]
mod mem;

use user::cksum::cksum;
use user::random::Random;
use user::syscall::{create, mmap, open};
use user::test::shuffle;
use user::{check, msg};

use mem::MAP_ADDR;

user::test_main!(test_main);

const SIZE: usize = 128 * 1024;

fn test_main() {
    check!(create(c"buffer", SIZE as u32), "create \"buffer\"");
    let fd = open(c"buffer");
    check!(fd > 1, "open \"buffer\"");
    // SAFETY: nothing of ours lives at MAP_ADDR.
    let map = unsafe { mmap(MAP_ADDR as *mut u8, SIZE, true, fd, 0) };
    check!(!map.is_null(), "mmap \"buffer\"");

    // SAFETY: the whole range was just mapped writable.
    let buf = unsafe { mem::region(MAP_ADDR, SIZE) };
    for (i, b) in buf.iter_mut().enumerate() {
        *b = i.wrapping_mul(257) as u8;
    }
    msg!("init: cksum={}", cksum(buf));

    let mut rng = Random::default();
    for i in 0..10 {
        shuffle(buf, &mut rng);
        msg!("shuffle {}: cksum={}", i, cksum(buf));
    }
}
