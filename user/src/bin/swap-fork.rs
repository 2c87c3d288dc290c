//! Pintos `swap-fork`: ten `child-swap` processes (fork then exec) run at once; each
//! must exit with 0. Expected output: tests/expected/vm/swap-fork.exp.
#![no_std]
#![no_main]

use user::fail;
use user::syscall::{exec, fork, wait, Pid};

user::test_main!(test_main);

const CHILDREN: usize = 10;

fn test_main() {
    let mut pids: [Pid; CHILDREN] = [0; CHILDREN];
    for pid in pids.iter_mut() {
        *pid = fork(c"child-swap");
        if *pid == 0 && exec(c"child-swap") == -1 {
            fail!("exec \"child-swap\"");
        }
    }
    for &pid in pids.iter() {
        if wait(pid) != 0 {
            fail!("More than one child process' stack is corrupted");
        }
    }
}
