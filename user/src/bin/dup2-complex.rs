//! Pintos `dup2-complex` (tests/userprog/dup2), "the final boss of project 2": reads
//! `sample.txt` piece by piece into a buffer across a page boundary through two opens
//! and a web of dup2() copies (fd 0x1CE, a negative fd, copies of copies, closing the
//! originals), copies stdout to a spare fd and writes through it, redirects stdout (fd
//! 1) into the file `up` so that `msg` output lands there, forks a child that inherits
//! the table and hands back the position it read to through its exit status, and checks
//! that the pieces make up the whole text. The child's exit status (110) depends only on
//! the read sizes, not the text, as long as it is longer than 110 bytes.
//! Expected output: tests/expected/userprog/dup2/dup2-complex.exp.
#![no_std]
#![no_main]

#[path = "shared/boundary.rs"]
mod boundary;
#[path = "shared/cmd.rs"]
#[allow(dead_code)]
mod cmd;
#[path = "shared/sample.rs"]
mod sample;

use core::ffi::CStr;

use user::syscall::{close, create, dup2, exit, fork, nr, open, raw, seek, tell, wait, write};
use user::{check, fail, msg, Args};

user::main!(main);

/// read() into raw memory; returns the count (or -1).
fn rd(fd: i32, buf: *mut u8, len: i32) -> i32 {
    // SAFETY: the buffers lie inside the boundary area (or `magic`) with room for `len`.
    unsafe { raw::syscall3(nr::READ, fd as i64 as u64, buf as u64, len as i64 as u64) as i32 }
}

/// write() from raw memory; returns the count (or -1).
fn wr(fd: i32, buf: *const u8, len: i32) -> i32 {
    // SAFETY: as for `rd`.
    unsafe { raw::syscall3(nr::WRITE, fd as i64 as u64, buf as u64, len as i64 as u64) as i32 }
}

fn c_str(buf: &[u8]) -> &CStr {
    CStr::from_bytes_until_nul(buf).unwrap_or(c"")
}

fn main(_args: Args) -> i32 {
    let want = sample::SAMPLE;
    // Pintos' `sizeof sample`: the text and its NUL.
    let size = want.len() as i32 + 1;
    let mut magic: [u8; 17] = *b"Pintos is funny\n\0";
    let (fd3, mut fd4) = (0x1CE, 0x1CE - 0xC0FFEE);

    close(0);
    let fd1 = open(c"sample.txt");
    check!(fd1 > -1, "open \"sample.txt\"");
    let fd2 = open(c"sample.txt");
    check!(fd2 > -1, "open \"sample.txt\"");

    let buffer = boundary::boundary_area().wrapping_sub(size as usize / 2);
    let at = |n: i32| buffer.wrapping_offset(n as isize);
    let mut byte_cnt = 0;
    byte_cnt += rd(fd1, at(byte_cnt), 10);
    seek(fd2, 10);
    byte_cnt += rd(fd2, at(byte_cnt), 10);
    check!(dup2(fd2, fd3) > 1, "first dup2()");
    byte_cnt += rd(fd3, at(byte_cnt), 10);
    seek(fd1, 15);
    byte_cnt += rd(fd1, at(15), 30) - 15;

    let inner = dup2(fd3, fd3);
    dup2(inner, dup2(fd1, fd2));
    seek(fd2, tell(fd1));
    byte_cnt += rd(fd2, at(byte_cnt), 17 + 2 * dup2(fd4, fd1));
    close(fd1);
    close(fd2);

    seek(fd3, 60);
    byte_cnt += rd(fd3, at(byte_cnt), 10);
    dup2(dup2(fd3, fd2), fd1);
    byte_cnt += rd(fd2, at(byte_cnt), 10);
    byte_cnt += rd(fd1, at(byte_cnt), 10);

    let mut fd5 = 10;
    while fd5 == fd1 || fd5 == fd2 || fd5 == fd3 || fd5 == fd4 {
        fd5 += 1;
    }
    dup2(1, fd5);
    wr(fd5, magic.as_ptr(), magic.len() as i32 - 1);

    create(c"cheer", size as u32);
    create(c"up", size as u32);
    fd4 = open(c"cheer");
    let fd6 = open(c"up");
    dup2(fd6, 1);

    msg!("{}", byte_cnt);
    user::fmt::snprintf(&mut magic, "{}", &[&byte_cnt]);
    write(fd4, c_str(&magic).to_bytes());

    let pid = fork(c"child");
    if pid == 0 {
        msg!("child begin");
        close(fd1);
        close(fd2);
        dup2(fd4, fd2);
        dup2(fd3, fd1);
        seek(fd2, 0);
        byte_cnt = rd(fd2, magic.as_mut_ptr(), 3);
        msg!("{}", byte_cnt);
        byte_cnt = cmd::atoi(c_str(&magic));
        msg!("{}", byte_cnt);
        rd(fd1, buffer, 20);
        seek(fd4, 0);
        let write_cnt = wr(fd4, buffer, 20);
        byte_cnt += write_cnt;
        for fd in [fd1, fd2, fd3, fd4, fd5, fd6] {
            close(fd);
        }
        seek(fd4, 0);
        msg!("child end");
        exit(byte_cnt);
    }

    let cur_pos = wait(pid);
    dup2(fd5, 1);
    seek(fd4, 0);
    byte_cnt += rd(fd4, at(byte_cnt), 20);
    close(fd4);
    seek(fd2, cur_pos as u32);
    byte_cnt += rd(fd2, at(byte_cnt), size - byte_cnt);
    seek(1, 0);

    // SAFETY: the area around the boundary has room for the text and its NUL.
    let got = unsafe { core::slice::from_raw_parts(buffer, size as usize) };
    if got.split_last() != Some((&0, want)) {
        msg!("expected text:\n{}", want);
        msg!("text actually read:\n{}", got.split(|&b| b == 0).next().unwrap_or(&[]));
        fail!("expected text differs from actual");
    }
    msg!("Parent success");
    close(1);
    0
}
