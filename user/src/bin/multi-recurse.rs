//! Pintos `multi-recurse`: `multi-recurse N` runs `multi-recurse N-1` (fork, exec,
//! wait) down to 0; each level exits with its N.
#![no_std]
#![no_main]

#[path = "shared/cmd.rs"]
mod cmd;

use user::syscall::{exec, fork, wait};
use user::{fail, msg, Args};

user::main!(main);

fn main(args: Args) -> i32 {
    let n = args.get(1).map(cmd::atoi).unwrap_or(0);
    msg!("begin {}", n);
    if n != 0 {
        let child = cmd::Cmd::new(b"multi-recurse", n - 1);
        msg!("exec(\"{}\")", child.as_cstr());
        let pid = fork(c"multi-recurse");
        if pid == 0 {
            exec(child.as_cstr());
            fail!("exec(\"{}\") returned", child.as_cstr());
        }
        let code = wait(pid);
        if code != n - 1 {
            fail!("wait(exec(\"{}\")) returned {}", child.as_cstr(), code);
        }
    }
    msg!("end {}", n);
    n
}
