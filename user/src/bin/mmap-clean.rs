//! Pintos `mmap-clean`: a mapped page that was only read must not be written back on
//! munmap, so a change made to the file with write() meanwhile survives.
//! Expected output: tests/expected/vm/mmap-clean.exp.
#![no_std]
#![no_main]

#[path = "shared/mmap_mem.rs"]
mod mem;
#[path = "shared/mmap_sample.rs"]
mod sample;

use user::syscall::{munmap, read, seek, write};
use user::{check, fail, msg};

use sample::{SAMPLE, SAMPLE_LEN};

user::test_main!(test_main);

const ADDR: usize = 0x5432_1000;
/// What the test writes over the start of the file with write().
const PATCH: &[u8] = b"[patched by write(), not mmap]";

fn test_main() {
    let (fd, map) = mem::map_sample(ADDR, 4096);
    {
        // SAFETY: the page is mapped; the slice ends before munmap.
        let text = unsafe { mem::region(ADDR, SAMPLE_LEN) };
        if text != SAMPLE {
            fail!("the mapped page does not hold the text of sample.txt");
        }
    }

    check!(write(fd, PATCH) == PATCH.len() as i32, "write \"sample.txt\"");

    msg!("munmap \"sample.txt\"");
    // SAFETY: no reference into the mapping is left.
    unsafe { munmap(map) };

    msg!("seek \"sample.txt\"");
    seek(fd, 0);
    let mut buf = [0u8; SAMPLE_LEN];
    check!(read(fd, &mut buf) == SAMPLE_LEN as i32, "read \"sample.txt\"");

    let (head, rest) = buf.split_at(PATCH.len());
    if head == PATCH && rest == SAMPLE.get(PATCH.len()..).unwrap_or(&[]) {
        msg!("file change was retained after munmap");
    } else if buf[..] == *SAMPLE {
        fail!("munmap put the unmodified page back into the file");
    } else {
        fail!("the file holds neither the patched nor the original text");
    }
}
