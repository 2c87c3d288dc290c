//! Pintos `wait-killed`: a child the kernel kills (child-bad) has status -1.
#![no_std]
#![no_main]

use user::msg;
use user::syscall::{exec, fork, wait};

user::test_main!(test_main);

fn test_main() {
    let pid = fork(c"child-bad");
    if pid == 0 {
        exec(c"child-bad");
        user::fail!("exec returned");
    }
    msg!("wait(exec()) = {}", wait(pid));
}
