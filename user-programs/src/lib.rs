//! The Pintos user programs, built by this crate's build script during the host build
//! (see build.rs and user/README.md): Rust programs from `user/src/bin/NAME.rs` as
//! `NAME`, C programs from `user/c/bin/NAME.c` as `c-NAME`, all static ELF64 executables
//! linked at 0x400000 for the Pintos-KAIST user ABI, in [`USER_DIR`]
//! (`<target>/pintos/user/`).
//!
//! The kernel runs them from its file system (`disk-images/tests/userprog.rs`);
//! `tests/elf.rs` checks the built files.
//!
//! The pure modules of the user library (no system calls, `core` only) are compiled here
//! too, so their unit tests run with `cargo test --workspace`.

use std::path::PathBuf;

/// The directory holding every built user program: `<target>/pintos/user`.
pub const USER_DIR: &str = env!("USER_PROGRAMS_DIR");

/// The Rust programs' names (file names in [`USER_DIR`]), sorted.
pub fn rust_programs() -> Vec<&'static str> {
    split(env!("USER_PROGRAMS_RUST"))
}

/// The C programs' names (`c-` + source stem), sorted.
pub fn c_programs() -> Vec<&'static str> {
    split(env!("USER_PROGRAMS_C"))
}

/// Every program: Rust then C.
pub fn all_programs() -> Vec<&'static str> {
    let mut v = rust_programs();
    v.extend(c_programs());
    v
}

/// The path of program `name`.
pub fn path(name: &str) -> PathBuf {
    PathBuf::from(USER_DIR).join(name)
}

fn split(list: &'static str) -> Vec<&'static str> {
    list.split(',').filter(|s| !s.is_empty()).collect()
}

#[path = "../../user/src/arc4.rs"]
pub mod arc4;
#[path = "../../user/src/cksum.rs"]
pub mod cksum;
#[path = "../../user/src/fmt.rs"]
pub mod fmt;
#[path = "../../user/src/random.rs"]
pub mod random;
