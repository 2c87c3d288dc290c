//! Pintos `page-linear`: fills 5 MiB of static memory with 0x5a, checks it, XORs it
//! twice with the same ARC4 stream (read/modify/write over every page, twice) and checks
//! that the 0x5a bytes are back. Expected output: tests/expected/vm/page-linear.exp.
#![no_std]
#![no_main]

use core::ptr::addr_of_mut;

use user::arc4::Arc4;
use user::{fail, msg};

user::test_main!(test_main);

const SIZE: usize = 5 * 1024 * 1024;
const FILL: u8 = 0x5a;

static mut BUF: [u8; SIZE] = [0; SIZE];

fn check_filled(buf: &[u8]) {
    if let Some(i) = buf.iter().position(|&b| b != FILL) {
        fail!("byte {} != 0x5a", i);
    }
}

fn test_main() {
    // SAFETY: the only reference to BUF, taken once.
    let buf = unsafe { &mut *addr_of_mut!(BUF) };

    msg!("initialize");
    buf.fill(FILL);

    msg!("read pass");
    check_filled(buf);

    msg!("read/modify/write pass one");
    Arc4::new(b"foobar").crypt(buf);

    msg!("read/modify/write pass two");
    Arc4::new(b"foobar").crypt(buf);

    msg!("read pass");
    check_filled(buf);
}
