//! Pintos `page-merge-par`: 1 MiB of random data in eight 128 KiB chunks, each sorted
//! in its own file by a `child-sort` child, all eight children at once; then merged and
//! checked (shared/vm_par_merge.rs). Expected output: tests/expected/vm/page-merge-par.exp.
#![no_std]
#![no_main]

#[path = "shared/vm_merge.rs"]
mod vm_merge;
#[path = "shared/vm_par_merge.rs"]
mod vm_par_merge;

user::test_main!(test_main);

fn test_main() {
    vm_par_merge::parallel_merge(c"child-sort", 123);
}
