//! Pintos `child-rox`: `child-rox N` checks that its own executable cannot be written,
//! runs `child-rox N-1` (fork, exec, wait) while N > 1, checks again and exits 12.
#![no_std]
#![no_main]

#[path = "shared/cmd.rs"]
mod cmd;

use user::syscall::{close, exec, fork, open, wait, write};
use user::{check, fail, msg, Args};

user::main!(main);

fn try_write() {
    let fd = open(c"child-rox");
    check!(fd > 1 && write(fd, b"x") == 0, "try to write \"child-rox\"");
    close(fd);
}

fn main(args: Args) -> i32 {
    msg!("begin");
    try_write();
    let n = args.get(1).map(cmd::atoi).unwrap_or(0);
    if n > 1 {
        let child = cmd::Cmd::new(b"child-rox", n - 1);
        msg!("exec \"{}\"", child.as_cstr());
        let pid = fork(c"child-rox");
        if pid == 0 {
            exec(child.as_cstr());
            fail!("exec returned");
        }
        if wait(pid) != 12 {
            fail!("wait for \"{}\" failed", child.as_cstr());
        }
    }
    try_write();
    msg!("end");
    12
}
