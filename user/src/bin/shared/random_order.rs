// Pintos' `tests/filesys/base/random.inc` (sm-random, lg-random): a file written block by
// block in a random order, then read back block by block in another random order.

use user::random::Random;
use user::syscall::{close, create, open, read, seek, write};
use user::test::{compare_bytes, shuffle};
use user::{check, fail, msg};

/// Most blocks a test may have (the order is kept in bytes on the one-page stack).
const MAX_BLOCKS: usize = 256;
/// Largest block size.
const MAX_BLOCK: usize = 512;

/// `buf.len()` must be a multiple of `block_size`.
pub fn run(buf: &mut [u8], block_size: usize) {
    let file_name = c"bazzle";
    let cnt = buf.len() / block_size;
    if cnt > MAX_BLOCKS || block_size > MAX_BLOCK || buf.len() % block_size != 0 {
        fail!("bad test parameters: {} bytes in blocks of {}", buf.len(), block_size);
    }
    let mut rng = Random::new(57);
    rng.bytes(buf);
    let mut order_space = [0u8; MAX_BLOCKS];
    let order = order_space.get_mut(..cnt).unwrap_or(&mut []);
    for (i, o) in order.iter_mut().enumerate() {
        *o = i as u8;
    }

    check!(create(file_name, buf.len() as u32), "create \"{}\"", file_name);
    let fd = open(file_name);
    check!(fd > 1, "open \"{}\"", file_name);

    msg!("write \"{}\" in random order", file_name);
    shuffle(order, &mut rng);
    for &b in order.iter() {
        let ofs = block_size * b as usize;
        seek(fd, ofs as u32);
        if write(fd, buf.get(ofs..ofs + block_size).unwrap_or(&[])) != block_size as i32 {
            fail!("write {} bytes at offset {} failed", block_size, ofs);
        }
    }

    msg!("read \"{}\" in random order", file_name);
    shuffle(order, &mut rng);
    let mut block_space = [0u8; MAX_BLOCK];
    let block = block_space.get_mut(..block_size).unwrap_or(&mut []);
    for &b in order.iter() {
        let ofs = block_size * b as usize;
        seek(fd, ofs as u32);
        if read(fd, block) != block_size as i32 {
            fail!("read {} bytes at offset {} failed", block_size, ofs);
        }
        compare_bytes(block, buf.get(ofs..).unwrap_or(&[]), ofs, file_name);
    }

    msg!("close \"{}\"", file_name);
    close(fd);
}
