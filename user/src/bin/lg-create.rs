//! Pintos `lg-create`: a newly created 75678-byte file reads back as zeros.
//! Expected output: tests/expected/filesys/base/lg-create.exp.
#![no_std]
#![no_main]

#[path = "shared/create.rs"]
mod shared;

user::buffer_test_main!(75678, shared::run);
