//! Helper of Pintos `mmap-inherit`: writes to the address where its parent mapped a file;
//! an exec'd program has no such mapping, so the kernel must end it with -1.
#![no_std]
#![no_main]

#[path = "shared/mmap_mem.rs"]
mod mem;

user::test_main!(test_main);

fn test_main() {
    for ofs in (0..4096).step_by(4) {
        mem::store_i32(0x5432_1000 + ofs, 0);
    }
    user::fail!("wrote to the page of the parent's mapping");
}
