//! Pintos `lg-seq-random`: writes a 75678-byte file sequentially in random-sized blocks, then reads it back.
//! Expected output: tests/expected/filesys/base/lg-seq-random.exp.
#![no_std]
#![no_main]

#[path = "shared/seq_random.rs"]
mod shared;

user::buffer_test_main!(75678, shared::run);
