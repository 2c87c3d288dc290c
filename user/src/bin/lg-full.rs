//! Pintos `lg-full`: writes a 75678-byte file in one write, then reads it back.
//! Expected output: tests/expected/filesys/base/lg-full.exp.
#![no_std]
#![no_main]

#[path = "shared/full.rs"]
mod shared;

user::buffer_test_main!(75678, shared::run);
