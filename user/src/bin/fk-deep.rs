//! `fk-deep`: a chain of processes, each forking the next, until fork fails (out of
//! kernel pages or thread slots) or 400 deep; each waits for its child and exits with
//! the child's status + 1, so the first process exits with the depth reached. The
//! kernel must refuse the fork (-1) rather than panic.
#![no_std]
#![no_main]

use user::syscall::{exit, fork, wait};
use user::{msg, Args};

user::main!(main);

fn main(_args: Args) -> i32 {
    let mut depth = 0;
    loop {
        if depth == 400 {
            exit(0);
        }
        let pid = fork(c"fk-deep");
        if pid == -1 {
            msg!("fork failed at depth {}", depth);
            exit(0);
        }
        if pid != 0 {
            exit(wait(pid) + 1);
        }
        depth += 1;
    }
}
