//! Pintos `page-merge-seq`: about 1 MiB of random data in sixteen 63 KiB chunks; each
//! chunk in turn is written to the file "buffer", sorted there by a `child-sort` child
//! (fork then exec) and read back; then the chunks are merged and the result checked.
//! Expected output: tests/expected/vm/page-merge-seq.exp.
#![no_std]
#![no_main]

#[path = "shared/vm_merge.rs"]
mod vm_merge;

use core::ptr::addr_of_mut;

use user::syscall::{close, create, exec, fork, open, read, wait, write};
use user::test::set_quiet;
use user::{check, fail, msg};

user::test_main!(test_main);

/// The largest file of the old Pintos file system with 126 direct sectors.
const CHUNK_SIZE: usize = 126 * 512;
const CHUNKS: usize = 16;
const DATA_SIZE: usize = CHUNK_SIZE * CHUNKS;

static mut DATA: [u8; DATA_SIZE] = [0; DATA_SIZE];
static mut MERGED: [u8; DATA_SIZE] = [0; DATA_SIZE];
static mut HISTOGRAM: [usize; 256] = [0; 256];

fn test_main() {
    // SAFETY: the only references to these statics, taken once.
    let (data, merged, histogram) =
        unsafe { (&mut *addr_of_mut!(DATA), &mut *addr_of_mut!(MERGED), &mut *addr_of_mut!(HISTOGRAM)) };

    vm_merge::init(data, histogram);
    sort_chunks(data);
    vm_merge::merge(data, merged, CHUNK_SIZE);
    vm_merge::verify(merged, histogram);
}

/// Sorts each chunk with a child process, one after the other.
fn sort_chunks(data: &mut [u8]) {
    create(c"buffer", CHUNK_SIZE as u32);
    for (i, chunk) in data.chunks_mut(CHUNK_SIZE).enumerate() {
        msg!("sort chunk {}", i);

        set_quiet(true);
        let fd = open(c"buffer");
        check!(fd > 1, "open \"buffer\"");
        write(fd, chunk);
        close(fd);

        let child = fork(c"child-sort");
        if child == 0 {
            set_quiet(false);
            msg!("child[{}] exec", i);
            if exec(c"child-sort buffer") == -1 {
                fail!("child[{}] exec fail", i);
            }
            set_quiet(true);
        } else {
            set_quiet(false);
            if wait(child) != 123 {
                fail!("child[{}] wait fail", i);
            }
            msg!("child[{}] wait success", i);

            set_quiet(true);
            let fd = open(c"buffer");
            check!(fd > 1, "open \"buffer\"");
            read(fd, chunk);
            close(fd);
            set_quiet(false);
        }
    }
}
