//! Pintos `child-syn-wrt` (for syn-write): `child-syn-wrt N` writes chunk N of the
//! seed-0 random stream at its place in the file "stuff" while its siblings write
//! theirs, and exits with N. Quiet: it prints only a failure.
#![no_std]
#![no_main]

#[path = "shared/cmd.rs"]
#[allow(dead_code)]
mod cmd;
#[path = "shared/syn_write.rs"]
#[allow(dead_code)]
mod syn_write;

use core::ptr::addr_of_mut;

use user::random::Random;
use user::syscall::{close, open, seek, write};
use user::test::set_quiet;
use user::{check, msg, Args};

use syn_write::{BUF_SIZE, CHUNK_SIZE, FILE_NAME};

static mut BUF: [u8; BUF_SIZE] = [0; BUF_SIZE];

user::main!(main);

fn main(args: Args) -> i32 {
    set_quiet(true);
    check!(args.len() == 2, "argc must be 2, actually {}", args.len());
    let child_idx = args.get(1).map(cmd::atoi).unwrap_or(-1);

    // SAFETY: the only reference to BUF, taken once.
    let buf = unsafe { &mut *addr_of_mut!(BUF) };
    Random::new(0).bytes(buf);
    let fd = open(FILE_NAME);
    check!(fd > 1, "open \"{}\"", FILE_NAME);
    let ofs = CHUNK_SIZE * child_idx as usize;
    seek(fd, ofs as u32);
    let chunk = buf.get(ofs..ofs + CHUNK_SIZE).unwrap_or(&[]);
    check!(write(fd, chunk) > 0, "write \"{}\"", FILE_NAME);
    msg!("close \"{}\"", FILE_NAME);
    close(fd);
    child_idx
}
