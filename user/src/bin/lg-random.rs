//! Pintos `lg-random`: writes a file in 512-byte blocks in random order, reads it back in random order.
//! Expected output: tests/expected/filesys/base/lg-random.exp.
#![no_std]
#![no_main]

#[path = "shared/random_order.rs"]
mod shared;

user::buffer_test_main!(512 * 150, shared::run, 512);
