//! Exec: with an argument `fork`, forks a child that execs `echo x y` and waits for it
//! (status 0); without, execs `echo exec'd  arg` itself, so the exit line is echo's.
#![no_std]
#![no_main]

use user::syscall::{exec, fork, wait};
use user::{check, msg, Args};

user::main!(main);

fn main(args: Args) -> i32 {
    msg!("begin");
    if args.len() > 1 {
        let pid = fork(c"fk-child");
        if pid == 0 {
            exec(c"echo x y");
            user::fail!("exec returned");
        }
        check!(wait(pid) == 0, "wait for the exec'd child returns 0");
        msg!("end");
        return 0;
    }
    exec(c"echo exec'd  arg");
    user::fail!("exec returned");
}
