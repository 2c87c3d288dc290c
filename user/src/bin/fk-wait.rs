//! Wait: a child's status is kept after it exits until the parent waits (once); a
//! second wait and a wait on a pid that is not a child return -1. Expected output:
//! `begin`, `early: exit(5)`, the checks, `late: exit(6)`, ..., `end`, `fk-wait: exit(0)`.
#![no_std]
#![no_main]

use user::syscall::{exit, fork, wait};
use user::{check, msg};

user::test_main!(test_main);

fn test_main() {
    let early = fork(c"early");
    if early == 0 {
        exit(5);
    }
    // Spin long enough for the timer to run the child to its exit first.
    let mut x = 0u64;
    for i in 0..3_000_000u64 {
        x = core::hint::black_box(x.wrapping_add(i));
    }
    core::hint::black_box(x);
    msg!("spun");
    check!(wait(early) == 5, "wait for the exited child returns 5");
    check!(wait(early) == -1, "second wait returns -1");
    check!(wait(12345) == -1, "wait on a non-child returns -1");
    check!(wait(-1) == -1, "wait on -1 returns -1");
    let late = fork(c"late");
    if late == 0 {
        let grandchild = fork(c"grandchild");
        if grandchild == 0 {
            exit(7);
        }
        exit(6);
    }
    check!(wait(late) == 6, "wait for the running child returns 6");
}
