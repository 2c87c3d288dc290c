//! Pintos `child-syn-read` (for syn-read): `child-syn-read N` reads the file "data" one
//! byte at a time (many small reads, to contend in the file system with its siblings),
//! checks each byte against the seed-0 random stream, and exits with N. Quiet: it prints
//! only a failure.
#![no_std]
#![no_main]

#[path = "shared/cmd.rs"]
#[allow(dead_code)]
mod cmd;
#[path = "shared/syn_read.rs"]
mod syn_read;

use core::ptr::addr_of_mut;

use user::random::Random;
use user::syscall::{close, open, read};
use user::test::{compare_bytes, set_quiet};
use user::{check, Args};

static mut BUF: [u8; syn_read::BUF_SIZE] = [0; syn_read::BUF_SIZE];

user::main!(main);

fn main(args: Args) -> i32 {
    set_quiet(true);
    check!(args.len() == 2, "argc must be 2, actually {}", args.len());
    let child_idx = args.get(1).map(cmd::atoi).unwrap_or(-1);

    // SAFETY: the only reference to BUF, taken once.
    let buf = unsafe { &mut *addr_of_mut!(BUF) };
    Random::new(0).bytes(buf);
    let file_name = syn_read::FILE_NAME;
    let fd = open(file_name);
    check!(fd > 1, "open \"{}\"", file_name);
    for (i, want) in buf.iter().enumerate() {
        let mut c = [0u8; 1];
        check!(read(fd, &mut c) > 0, "read \"{}\"", file_name);
        compare_bytes(&c, core::slice::from_ref(want), i, file_name);
    }
    close(fd);
    child_idx
}
