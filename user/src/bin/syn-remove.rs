//! Pintos `syn-remove`: a file removed while open stays readable and writable through
//! the open descriptor until it is closed.
//! Expected output: tests/expected/filesys/base/syn-remove.exp.
#![no_std]
#![no_main]

use core::ptr::addr_of_mut;

use user::random::Random;
use user::syscall::{close, create, open, read, remove, seek, write};
use user::test::compare_bytes;
use user::{check, msg};

const SIZE: usize = 1234;

static mut BUF1: [u8; SIZE] = [0; SIZE];
static mut BUF2: [u8; SIZE] = [0; SIZE];

user::test_main!(test_main);

fn test_main() {
    // SAFETY: the only references to BUF1 and BUF2, taken once.
    let (buf1, buf2) = unsafe { (&mut *addr_of_mut!(BUF1), &mut *addr_of_mut!(BUF2)) };
    let file_name = c"deleteme";
    check!(create(file_name, SIZE as u32), "create \"{}\"", file_name);
    let fd = open(file_name);
    check!(fd > 1, "open \"{}\"", file_name);
    check!(remove(file_name), "remove \"{}\"", file_name);
    Random::default().bytes(buf1);
    check!(write(fd, buf1) > 0, "write \"{}\"", file_name);
    msg!("seek \"{}\" to 0", file_name);
    seek(fd, 0);
    check!(read(fd, buf2) > 0, "read \"{}\"", file_name);
    compare_bytes(buf2, buf1, 0, file_name);
    msg!("close \"{}\"", file_name);
    close(fd);
}
