//! Pintos `wait-twice`: the second wait for the same child returns -1.
#![no_std]
#![no_main]

use user::msg;
use user::syscall::{exec, fork, wait};

user::test_main!(test_main);

fn test_main() {
    let pid = fork(c"child-simple");
    if pid == 0 {
        exec(c"child-simple");
        user::fail!("exec returned");
    }
    msg!("wait(exec()) = {}", wait(pid));
    msg!("wait(exec()) = {}", wait(pid));
}
