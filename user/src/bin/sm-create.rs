//! Pintos `sm-create`: a newly created 5678-byte file reads back as zeros.
//! Expected output: tests/expected/filesys/base/sm-create.exp.
#![no_std]
#![no_main]

#[path = "shared/create.rs"]
mod shared;

user::buffer_test_main!(5678, shared::run);
