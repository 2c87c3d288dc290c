//! Pintos `pt-grow-stk-sc`: the stack must grow even when the first access to a stack
//! page happens inside a system call. A 64 KiB buffer is reserved on the stack without
//! touching it (Rust's stack probes would touch every page of a big local array, so the
//! space is reserved by hand), and read() fills its middle.
//! Expected output: tests/expected/vm/pt-grow-stk-sc.exp.
#![no_std]
#![no_main]

#[path = "shared/sample.rs"]
mod sample;

use sample::SAMPLE;
use user::check;
use user::syscall::{close, create, open, read, write};

user::test_main!(test_main);

const BUF_SIZE: usize = 65536;
/// Where in the buffer the file is read back: 8 pages above its bottom.
const READ_AT: usize = 32768;

fn test_main() {
    // Lower rsp by BUF_SIZE (aligned for the call), call `with_buffer` with the reserved
    // area, then restore rsp from r12 (callee-saved, so the call keeps it).
    // SAFETY: the area between the new and the old rsp belongs to this frame until rsp
    // is restored; `with_buffer` only uses it through its argument.
    unsafe {
        core::arch::asm!(
            "mov r12, rsp",
            "sub rsp, {size}",
            "and rsp, -16",
            "mov rdi, rsp",
            "call {body}",
            "mov rsp, r12",
            size = const BUF_SIZE,
            body = sym with_buffer,
            out("r12") _,
            clobber_abi("C"),
        );
    }
}

extern "C" fn with_buffer(area: *mut u8) {
    // SAFETY: `area` is BUF_SIZE bytes reserved on the stack by `test_main`.
    let buf = unsafe { core::slice::from_raw_parts_mut(area, BUF_SIZE) };
    let slen = SAMPLE.len();

    check!(create(c"sample.txt", slen as u32), "create \"sample.txt\"");
    let fd = open(c"sample.txt");
    check!(fd > 1, "open \"sample.txt\"");
    check!(write(fd, SAMPLE) == slen as i32, "write \"sample.txt\"");
    close(fd);

    let fd = open(c"sample.txt");
    check!(fd > 1, "2nd open \"sample.txt\"");
    let Some(dst) = buf.get_mut(READ_AT..READ_AT + slen) else { return };
    // The buffer's pages are first touched here, by the kernel.
    check!(read(fd, dst) == slen as i32, "read \"sample.txt\"");
    check!(dst == SAMPLE, "compare written data against read data");
    close(fd);
}
