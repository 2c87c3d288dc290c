//! Pintos `page-shuffle`: a 128 KiB static buffer (byte i = i * 257, truncated) is
//! shuffled ten times with Pintos' generator (seed 0); the checksum is printed after each.
//! Expected output: tests/expected/vm/page-shuffle.exp.
#![no_std]
#![no_main]

use core::ptr::addr_of_mut;

use user::cksum::cksum;
use user::msg;
use user::random::Random;
use user::test::shuffle;

user::test_main!(test_main);

const SIZE: usize = 128 * 1024;

static mut BUF: [u8; SIZE] = [0; SIZE];

fn test_main() {
    // SAFETY: the only reference to BUF, taken once.
    let buf = unsafe { &mut *addr_of_mut!(BUF) };
    for (i, b) in buf.iter_mut().enumerate() {
        *b = i.wrapping_mul(257) as u8;
    }
    msg!("init: cksum={}", cksum(buf));

    let mut rng = Random::default();
    for round in 0..10 {
        shuffle(buf, &mut rng);
        msg!("shuffle {}: cksum={}", round, cksum(buf));
    }
}
