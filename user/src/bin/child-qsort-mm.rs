//! Pintos `child-qsort-mm` (for page-merge-mm): `child-qsort-mm FILE` maps FILE
//! (writable, 33 pages from offset 0) at 0x10000000 and quicksorts its first 128 KiB in
//! place (shared/vm_qsort.rs); exiting unmaps it, which writes the sorted bytes back.
//! Exits with 80. Quiet: prints only a failure.
#![no_std]
#![no_main]

#[path = "shared/vm_qsort.rs"]
mod vm_qsort;

use user::random::Random;
use user::syscall::{mmap, open};
use user::test::set_quiet;
use user::{check, Args};

user::main!(main);

const MAP_AT: usize = 0x1000_0000;
const MAP_LEN: usize = 4096 * 33;
const SORT_LEN: usize = 128 * 1024;

fn main(args: Args) -> i32 {
    set_quiet(true);
    let file = args.get(1).unwrap_or(c"");
    let fd = open(file);
    check!(fd > 1, "open \"{}\"", file);
    // SAFETY: nothing of this program lives at MAP_AT.
    let map = unsafe { mmap(MAP_AT as *mut u8, MAP_LEN, true, fd, 0) };
    check!(!map.is_null(), "mmap \"{}\"", file);
    // SAFETY: the mapping covers SORT_LEN bytes (the file is that long) and nothing else
    // refers to it.
    let data = unsafe { core::slice::from_raw_parts_mut(map, SORT_LEN) };
    vm_qsort::qsort_bytes(data, &mut Random::default());
    80
}
