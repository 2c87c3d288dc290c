//! Pintos `fork-multiple`: four children in turn, exiting 4..7.
#![no_std]
#![no_main]

use user::msg;
use user::syscall::{exit, fork, wait};

user::test_main!(test_main);

fn test_main() {
    for status in 4..8 {
        let pid = fork(c"child");
        if pid == 0 {
            msg!("child run");
            exit(status);
        }
        msg!("Parent: child exit status is {}", wait(pid));
    }
}
