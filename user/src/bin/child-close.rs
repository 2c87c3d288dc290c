//! Pintos `child-close`: `child-close FD` closes the descriptor it inherited through
//! fork and exec; the parent's stays open (multi-child-fd).
#![no_std]
#![no_main]

#[path = "shared/cmd.rs"]
mod cmd;

use user::{msg, Args};

user::main!(main);

fn main(args: Args) -> i32 {
    msg!("begin");
    let fd = args.get(1).map(cmd::atoi).unwrap_or(-1);
    user::syscall::close(fd);
    msg!("end");
    0
}
