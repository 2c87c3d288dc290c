//! Pintos `open-twice`: opening one file twice gives two different descriptors.
//! Expected output: tests/expected/userprog/open-twice.exp.
#![no_std]
#![no_main]

use user::{check, fail};
use user::syscall::open;

user::test_main!(test_main);

fn test_main() {
    let h1 = open(c"sample.txt");
    check!(h1 > 1, "open \"sample.txt\" once");
    let h2 = open(c"sample.txt");
    check!(h2 > 1, "open \"sample.txt\" again");
    if h1 == h2 {
        fail!("open() returned {} both times", h1);
    }
}
