//! Pintos `child-close` (multi-child-fd's child): `child-close FD` checks that the
//! descriptor it inherited through fork and exec reads sample.txt, then closes it; the
//! parent's stays open.
#![no_std]
#![no_main]

#[path = "shared/cmd.rs"]
mod cmd;
#[path = "shared/sample.rs"]
mod sample;

use user::{fail, msg, Args};

user::main!(main);

fn main(args: Args) -> i32 {
    msg!("begin");
    let Some(arg) = args.get(1).filter(|a| a.to_bytes().first().is_some_and(u8::is_ascii_digit)) else {
        fail!("bad command-line arguments");
    };
    let fd = cmd::atoi(arg);
    user::test::check_file_handle(fd, c"sample.txt", sample::SAMPLE);
    user::syscall::close(fd);
    msg!("end");
    0
}
