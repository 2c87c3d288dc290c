//! Pintos `cow-simple`: after fork, parent and child share the physical page holding the
//! start of `large` (compiled-in data) until the child writes to it; then the child has
//! its own copy and the parent's page and data are unchanged. Needs copy-on-write fork.
//! Expected output: tests/expected/vm/cow/cow-simple.exp.
#![no_std]
#![no_main]

#[path = "shared/vm_large.rs"]
mod vm_large;

use user::check;
use user::syscall::{fork, get_phys_addr, wait};

user::test_main!(test_main);

/// Whether LARGE (in memory) still starts with the file's first bytes.
fn starts_as_file() -> bool {
    let prefix = &vm_large::PREFIX[..];
    vm_large::text().get(..prefix.len()) == Some(prefix)
}

fn test_main() {
    check!(starts_as_file(), "check data consistency");
    let pa_parent = get_phys_addr(vm_large::start());

    let child = fork(c"child");
    if child == 0 {
        check!(starts_as_file(), "check data consistency");
        check!(get_phys_addr(vm_large::start()) == pa_parent, "two phys addrs should be the same.");

        // SAFETY: the first byte of LARGE; no reference into it is held.
        unsafe { vm_large::start().write_volatile(b'@') };
        check!(!starts_as_file(), "check data change");
        check!(get_phys_addr(vm_large::start()) != pa_parent, "two phys addrs should not be the same.");
        return;
    }
    wait(child);
    check!(get_phys_addr(vm_large::start()) == pa_parent, "two phys addrs should be the same.");
    check!(starts_as_file(), "check data consistency");
}
