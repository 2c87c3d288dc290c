//! The user-program library for the Pintos-KAIST user ABI: what Pintos' `lib/user/`
//! (entry, system calls) and `tests/lib.c` (test messages) give C programs, for Rust
//! programs built `#![no_std]` for the Pintos user address space (see user/README.md).
//!
//! A program:
//!
//! ```ignore
//! #![no_std]
//! #![no_main]
//! use user::{msg, Args};
//! user::main!(main);
//! fn main(args: Args) -> i32 { msg!("{} arguments", args.len()); 0 }
//! ```
//!
//! The pure modules ([`arc4`], [`cksum`], [`random`]) use only `core` and are unit-tested on the host
//! (`cargo test --lib`); the build for the host test harness leaves out the runtime.

#![cfg_attr(not(test), no_std)]

pub mod arc4;
pub mod args;
pub mod cksum;
pub mod fmt;
pub mod io;
pub mod random;
#[cfg(not(test))]
mod rt;
pub mod syscall;
pub mod test;

pub use args::Args;
pub use fmt::Hex;

/// Defines the program's main: `user::main!(f)` with `f: fn(Args) -> i32` (a function
/// or a non-capturing closure). `_start` calls it; its result is the exit status.
#[macro_export]
macro_rules! main {
    ($main:expr) => {
        #[no_mangle]
        extern "C" fn __pintos_user_main(argc: i32, argv: *const *const ::core::ffi::c_char) -> i32 {
            let main: fn($crate::Args) -> i32 = $main;
            // SAFETY: called once by `_start` with the kernel's argument vector.
            main(unsafe { $crate::Args::from_raw(argc, argv) })
        }
    };
}
