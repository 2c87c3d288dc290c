//! Pintos `exec-boundary`: exec's command line may straddle a page boundary.
#![no_std]
#![no_main]

#[path = "shared/boundary.rs"]
mod boundary;

use core::ffi::{c_char, CStr};
use user::syscall::{exec, fork, wait};
use user::{check, fail};

user::test_main!(test_main);

fn test_main() {
    let p = boundary::copy_across_boundary(b"child-simple");
    // SAFETY: NUL-terminated by copy_across_boundary.
    let cmd = unsafe { CStr::from_ptr(p as *const c_char) };
    let pid = fork(c"child-simple");
    if pid == 0 {
        exec(cmd);
        fail!("exec returned");
    }
    let status = wait(pid);
    check!(pid > 0, "fork");
    check!(status == 81, "wait");
}
