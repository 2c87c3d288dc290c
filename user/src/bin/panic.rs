//! A Rust panic ends the process with status -1 after a `User process ABORT` line.
#![no_std]
#![no_main]

use user::{msg, Args};

user::main!(main);

fn main(args: Args) -> i32 {
    msg!("begin");
    // argv[argc] is never there: unwrapping it panics.
    let missing = args.get(args.len());
    msg!("argv[{}] = {}", args.len(), missing.unwrap());
    0
}
