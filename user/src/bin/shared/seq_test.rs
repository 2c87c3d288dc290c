// Pintos' `tests/filesys/seq-test.c`: fill a buffer with random bytes, create a file of
// its size, write it sequentially in blocks whose sizes `block_size` picks, close it,
// and check that the file holds the buffer.

use core::ffi::CStr;

use user::random::Random;
use user::syscall::{close, create, open, write};
use user::test::check_file;
use user::{check, fail, msg};

/// `seq_test` with the file created at its final size (files do not grow in the base
/// file system). `block_size` draws from the same generator that filled the buffer.
pub fn seq_test(file_name: &CStr, buf: &mut [u8], rng: &mut Random, block_size: &mut dyn FnMut(&mut Random) -> usize) {
    let size = buf.len();
    rng.bytes(buf);
    check!(create(file_name, size as u32), "create \"{}\"", file_name);
    let fd = open(file_name);
    check!(fd > 1, "open \"{}\"", file_name);

    msg!("writing \"{}\"", file_name);
    let mut ofs = 0;
    while ofs < size {
        let n = block_size(rng).min(size - ofs);
        let block = buf.get(ofs..ofs + n).unwrap_or(&[]);
        if write(fd, block) != n as i32 {
            fail!("write {} bytes at offset {} in \"{}\" failed", n, ofs, file_name);
        }
        ofs += n;
    }
    msg!("close \"{}\"", file_name);
    close(fd);
    check_file(file_name, buf);
}
