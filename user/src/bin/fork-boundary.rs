//! Pintos `fork-boundary`: fork's name argument may straddle a page boundary.
#![no_std]
#![no_main]

#[path = "shared/boundary.rs"]
mod boundary;

use core::ffi::{c_char, CStr};
use user::syscall::{exit, fork, wait};
use user::{check, msg};

user::test_main!(test_main);

fn test_main() {
    let p = boundary::copy_across_boundary(b"child-simple");
    // SAFETY: NUL-terminated by copy_across_boundary.
    let name = unsafe { CStr::from_ptr(p as *const c_char) };
    let pid = fork(name);
    if pid == 0 {
        msg!("child run");
        exit(54);
    }
    let status = wait(pid);
    check!(pid > 0, "fork");
    check!(status == 54, "wait");
}
