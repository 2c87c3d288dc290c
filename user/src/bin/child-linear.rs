//! Pintos `child-linear` (for page-parallel): XORs 1 MiB of static zeros with the ARC4
//! stream keyed by its last argument, does it again, checks the zeros are back, and
//! exits with 0x42. Prints nothing unless a byte is wrong.
#![no_std]
#![no_main]

use core::ptr::addr_of_mut;

use user::arc4::Arc4;
use user::{fail, Args};

const SIZE: usize = 1024 * 1024;

static mut BUF: [u8; SIZE] = [0; SIZE];

user::main!(main);

fn main(args: Args) -> i32 {
    let key = args.len().checked_sub(1).and_then(|i| args.get(i)).map(|k| k.to_bytes()).unwrap_or(b"");
    // SAFETY: the only reference to BUF, taken once.
    let buf = unsafe { &mut *addr_of_mut!(BUF) };
    if !key.is_empty() {
        Arc4::new(key).crypt(buf);
        Arc4::new(key).crypt(buf);
    }
    if let Some(i) = buf.iter().position(|&b| b != 0) {
        fail!("byte {} != 0", i);
    }
    0x42
}
