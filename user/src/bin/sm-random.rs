//! Pintos `sm-random`: writes a file in 13-byte blocks in random order, reads it back in random order.
//! Expected output: tests/expected/filesys/base/sm-random.exp.
#![no_std]
#![no_main]

#[path = "shared/random_order.rs"]
mod shared;

user::buffer_test_main!(13 * 123, shared::run, 13);
