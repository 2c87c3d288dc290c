//! `fk-bomb D`: a tree of processes D levels deep where every process forks two
//! children before it waits for either, and each opens its own executable until open
//! fails; many forks are in flight at once when memory or thread slots run out. The
//! kernel must fail the forks and opens cleanly (no panic), and give everything back
//! (disk-images/tests/leaks.rs compares the memory figures). Each process exits with the
//! number of processes in its subtree that ran.
#![no_std]
#![no_main]

#[path = "shared/cmd.rs"]
#[allow(dead_code)]
mod cmd;

use user::syscall::{exit, fork, open, wait};
use user::{msg, Args};

user::main!(main);

fn main(args: Args) -> i32 {
    let depth = args.get(1).map(cmd::atoi).unwrap_or(6);
    let mut level = 0;
    'tree: loop {
        while open(c"fk-bomb") >= 0 {}
        if level == depth {
            exit(1);
        }
        let mut pids = [0; 2];
        for slot in pids.iter_mut() {
            let pid = fork(c"fk-bomb");
            if pid == 0 {
                level += 1;
                continue 'tree;
            }
            *slot = pid;
        }
        let mut ran = 1;
        for pid in pids {
            if pid > 0 {
                ran += wait(pid);
            }
        }
        if level == 0 {
            msg!("{} processes ran", ran);
            return 0;
        }
        exit(ran);
    }
}
