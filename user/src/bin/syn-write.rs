//! Pintos `syn-write`: ten children (child-syn-wrt) write their own parts of one file at
//! the same time; then the file must hold the whole random stream.
//! Expected output: tests/expected/filesys/base/syn-write.exp.
#![no_std]
#![no_main]

#[path = "shared/syn_write.rs"]
mod syn_write;

use core::ptr::addr_of_mut;

use user::random::Random;
use user::syscall::{create, open, read};
use user::test::{compare_bytes, exec_children, wait_children};
use user::check;

use syn_write::{BUF_SIZE, CHILD_CNT, FILE_NAME};

static mut BUF1: [u8; BUF_SIZE] = [0; BUF_SIZE];
static mut BUF2: [u8; BUF_SIZE] = [0; BUF_SIZE];

user::test_main!(test_main);

fn test_main() {
    // SAFETY: the only references to BUF1 and BUF2, taken once.
    let (got, want) = unsafe { (&mut *addr_of_mut!(BUF1), &mut *addr_of_mut!(BUF2)) };
    check!(create(FILE_NAME, BUF_SIZE as u32), "create \"{}\"", FILE_NAME);

    let mut children = [0; CHILD_CNT];
    exec_children(c"child-syn-wrt", &mut children);
    wait_children(&children);

    let fd = open(FILE_NAME);
    check!(fd > 1, "open \"{}\"", FILE_NAME);
    check!(read(fd, got) > 0, "read \"{}\"", FILE_NAME);
    Random::default().bytes(want);
    compare_bytes(got, want, 0, FILE_NAME);
}
