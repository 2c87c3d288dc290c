//! Pintos `syn-read`: writes a 1 KiB file, then ten children (child-syn-read) read it
//! at the same time, each checking every byte.
//! Expected output: tests/expected/filesys/base/syn-read.exp.
#![no_std]
#![no_main]

#[path = "shared/syn_read.rs"]
mod syn_read;

use core::ptr::addr_of_mut;

use user::random::Random;
use user::syscall::{close, create, open, write};
use user::test::{exec_children, wait_children};
use user::{check, msg};

const CHILD_CNT: usize = 10;

static mut BUF: [u8; syn_read::BUF_SIZE] = [0; syn_read::BUF_SIZE];

user::test_main!(test_main);

fn test_main() {
    // SAFETY: the only reference to BUF, taken once.
    let buf = unsafe { &mut *addr_of_mut!(BUF) };
    let file_name = syn_read::FILE_NAME;
    check!(create(file_name, buf.len() as u32), "create \"{}\"", file_name);
    let fd = open(file_name);
    check!(fd > 1, "open \"{}\"", file_name);
    // The children make the same bytes with their own seed-0 generator.
    Random::default().bytes(buf);
    check!(write(fd, buf) > 0, "write \"{}\"", file_name);
    msg!("close \"{}\"", file_name);
    close(fd);

    let mut children = [0; CHILD_CNT];
    exec_children(c"child-syn-read", &mut children);
    wait_children(&children);
}
