//! `fk-loop N`: N times, forks a child that exits with its index and waits for it.
//! Used to check that fork, exit and wait give back every page.
#![no_std]
#![no_main]

use user::syscall::{exit, fork, wait};
use user::{msg, Args};

user::main!(main);

fn main(args: Args) -> i32 {
    let n: i32 = args.get(1).and_then(|a| a.to_str().ok()).and_then(|s| s.parse().ok()).unwrap_or(1);
    for i in 0..n {
        let pid = fork(c"fk-loop-child");
        if pid == 0 {
            exit(i);
        }
        if wait(pid) != i {
            user::fail!("wait for child {} failed", i);
        }
    }
    msg!("{} forks", n);
    0
}
