//! Pintos `lg-seq-block`: writes a 75678-byte file sequentially in 513-byte blocks, then reads it back.
//! Expected output: tests/expected/filesys/base/lg-seq-block.exp.
#![no_std]
#![no_main]

#[path = "shared/seq_block.rs"]
mod shared;

user::buffer_test_main!(75678, shared::run, 513);
