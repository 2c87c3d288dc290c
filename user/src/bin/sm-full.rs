//! Pintos `sm-full`: writes a 5678-byte file in one write, then reads it back.
//! Expected output: tests/expected/filesys/base/sm-full.exp.
#![no_std]
#![no_main]

#[path = "shared/full.rs"]
mod shared;

user::buffer_test_main!(5678, shared::run);
