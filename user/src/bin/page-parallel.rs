//! Pintos `page-parallel`: four `child-linear` processes (each started by fork then
//! exec) run at once; each must exit with 0x42.
//! Expected output: tests/expected/vm/page-parallel.exp.
#![no_std]
#![no_main]

use user::syscall::{exec, fork, wait, Pid};
use user::{check, fail};

user::test_main!(test_main);

const CHILDREN: usize = 4;

fn test_main() {
    let mut pids: [Pid; CHILDREN] = [0; CHILDREN];
    for pid in pids.iter_mut() {
        *pid = fork(c"child-linear");
        if *pid == 0 && exec(c"child-linear") == -1 {
            fail!("failed to exec child-linear");
        }
    }
    for (i, &pid) in pids.iter().enumerate() {
        check!(wait(pid) == 0x42, "wait for child {}", i);
    }
}
