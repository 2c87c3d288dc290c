//! Pintos `fork-once`: one child exits 81; the parent reports the status.
#![no_std]
#![no_main]

use user::msg;
use user::syscall::{exit, fork, wait};

user::test_main!(test_main);

fn test_main() {
    let pid = fork(c"child");
    if pid == 0 {
        msg!("child run");
        exit(81);
    }
    msg!("Parent: child exit status is {}", wait(pid));
}
