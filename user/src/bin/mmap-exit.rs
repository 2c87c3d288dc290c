//! Pintos `mmap-exit`: child-mm-wrt writes sample.txt through a mapping and exits without
//! unmapping it; afterwards the file must hold what it wrote.
//! Expected output: tests/expected/vm/mmap-exit.exp.
#![no_std]
#![no_main]

#[path = "shared/mmap_sample.rs"]
mod sample;

use user::check;
use user::syscall::{exec, fork, wait};
use user::test::{check_file, set_quiet};

use sample::SAMPLE_NUL;

user::test_main!(test_main);

fn test_main() {
    // The parent's own steps stay quiet until the child is done (only the child prints).
    set_quiet(true);
    let child = fork(c"child-mm-wrt");
    if child == 0 {
        // As Pintos' CHECK, the message goes out before exec runs.
        check!(exec(c"child-mm-wrt") != -1, "exec \"child-mm-wrt\"");
    } else {
        check!(wait(child) == 0, "wait for child (should return 0)");
        set_quiet(false);
        check_file(c"sample.txt", &SAMPLE_NUL);
    }
}
