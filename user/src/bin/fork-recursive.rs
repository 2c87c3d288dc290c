//! Pintos `fork-recursive`: a chain of eight children, each forking the next and
//! reporting its status.
#![no_std]
#![no_main]

use user::msg;
use user::syscall::{exit, fork, wait};

user::test_main!(test_main);

fn spawn(level: i32) {
    let pid = fork(c"child");
    if pid == 0 {
        msg!("child run");
        if level < 8 {
            spawn(level + 1);
            exit(level + 3);
        }
        exit(10);
    }
    msg!("Parent: child exit status is {}", wait(pid));
}

fn test_main() {
    spawn(1);
}
