//! Pintos `child-qsort` (for page-merge-stk): `child-qsort FILE` reads 128 KiB of FILE
//! into a buffer on the stack, quicksorts it (shared/vm_qsort.rs), writes it back over
//! the file and exits with 72. Quiet: prints only a failure.
#![no_std]
#![no_main]

#[path = "shared/vm_qsort.rs"]
mod vm_qsort;

use user::random::Random;
use user::syscall::{close, open, read, seek, write};
use user::test::set_quiet;
use user::{check, Args};

user::main!(main);

fn main(args: Args) -> i32 {
    set_quiet(true);
    let file = args.get(1).unwrap_or(c"");
    let fd = open(file);
    check!(fd > 1, "open \"{}\"", file);

    // 128 KiB of stack: the stack grows to hold it.
    let mut stack_buf = [0u8; 128 * 1024];
    let buf = core::hint::black_box(&mut stack_buf);
    let size = read(fd, buf).max(0) as usize;
    vm_qsort::qsort_bytes(buf, &mut Random::default());
    seek(fd, 0);
    write(fd, buf.get(..size).unwrap_or(&[]));
    close(fd);
    72
}
