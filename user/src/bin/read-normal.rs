//! Pintos `read-normal`: reads sample.txt block by block and compares it with the expected text.
//! Expected output: tests/expected/userprog/read-normal.exp.
#![no_std]
#![no_main]

#[path = "shared/sample.rs"]
mod sample;

use user::{check, fail, msg};
use user::syscall::{close, filesize, open, read};

user::test_main!(test_main);

fn test_main() {
    let fd = open(c"sample.txt");
    check!(fd > 1, "open \"sample.txt\" for verification");
    let want = sample::SAMPLE;
    let size = filesize(fd);
    if size as usize != want.len() {
        msg!("size of sample.txt ({}) differs from expected ({})", size, want.len());
    }
    let mut ofs = 0;
    let mut block = [0u8; 512];
    while ofs < want.len() {
        let n = (want.len() - ofs).min(block.len());
        let got = read(fd, &mut block[..n]);
        if got as usize != n {
            fail!("read of {} bytes at offset {} in \"sample.txt\" returned {}", n, ofs, got);
        }
        if let Some(i) = (0..n).find(|&i| block[i] != want[ofs + i]) {
            fail!("{} bytes read starting at offset {} in \"sample.txt\" differ from expected", n - i, ofs + i);
        }
        ofs += n;
    }
    msg!("verified contents of \"sample.txt\"");
    msg!("close \"sample.txt\"");
    close(fd);
}
