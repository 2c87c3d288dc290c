//! System calls (Pintos-KAIST numbers; number in rax, arguments in rdi, rsi, rdx, r10,
//! r8, r9, result in rax), reached through `arch::user`'s `syscall` entry.
//!
//! User memory is only read or written through the process's page table
//! (`PageTable::copy_in`/`copy_out`); a pointer that is not mapped (or not writable, for
//! a buffer the kernel fills) ends the process with exit(-1). The file calls use the
//! process's fd table: the entry's `Arc<Mutex<File>>` is cloned out of it and locked for
//! the duration of the call. Fds 0 and 1 start as the keyboard and the console and can
//! be closed and dup'd like any other.

use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use super::process::{process_exec, process_exit, process_fork, process_wait, with_current, Fd, FIRST_FD};
use crate::arch::cpu;
use alloc::sync::Arc;

use crate::filesys::{self, file::File};
use crate::threads::synch::Mutex;
use crate::threads::interrupt::IntrFrame;
use crate::threads::palloc::PGSIZE;

const SYS_HALT: u64 = 0;
const SYS_EXIT: u64 = 1;
const SYS_FORK: u64 = 2;
const SYS_EXEC: u64 = 3;
const SYS_WAIT: u64 = 4;
const SYS_CREATE: u64 = 5;
const SYS_REMOVE: u64 = 6;
const SYS_OPEN: u64 = 7;
const SYS_FILESIZE: u64 = 8;
const SYS_READ: u64 = 9;
const SYS_WRITE: u64 = 10;
const SYS_SEEK: u64 = 11;
const SYS_TELL: u64 = 12;
const SYS_CLOSE: u64 = 13;
const SYS_DUP2: u64 = 22;

/// Longest file name or string argument read from user memory.
const MAX_STRING: usize = 4096;

/// Called by the entry stub with interrupts off; runs the call with interrupts on.
pub fn syscall_handler(f: &mut IntrFrame) {
    cpu::enable_interrupts();
    let (a1, a2, a3) = (f.rdi, f.rsi, f.rdx);
    let ret: i64 = match f.rax {
        SYS_HALT => crate::threads::init::power_off(),
        SYS_EXIT => process_exit(a1 as i32),
        SYS_FORK => {
            let name = user_string(a1);
            process_fork(&name, f)
        }
        SYS_EXEC => process_exec(user_string(a1)),
        SYS_WAIT => match i32::try_from(a1 as i64) {
            Ok(pid) if pid > 0 => process_wait(pid as u64) as i64,
            _ => -1,
        },
        SYS_CREATE => {
            let name = user_string(a1);
            // An empty name fails; the file system refuses over-long names.
            filesys::filesys_create(&name, a2 as u32) as i64
        }
        SYS_REMOVE => filesys::filesys_remove(&user_string(a1)) as i64,
        SYS_OPEN => sys_open(a1),
        SYS_FILESIZE => with_file(a1 as i32, |file| file.length() as i64).unwrap_or(-1),
        SYS_READ => sys_read(a1 as i32, a2, a3),
        SYS_WRITE => sys_write(a1 as i32, a2, a3),
        SYS_SEEK => with_file(a1 as i32, |file| file.seek(a2 as u32)).map_or(-1, |_| 0),
        SYS_TELL => with_file(a1 as i32, |file| file.tell() as i64).unwrap_or(-1),
        SYS_CLOSE => {
            let entry = with_current(|p| p.files.remove(&(a1 as i32)));
            drop(entry);
            0
        }
        SYS_DUP2 => sys_dup2(a1 as i32, a2 as i32),
        _ => process_exit(-1),
    };
    f.rax = ret as u64;
    cpu::disable_interrupts();
}

/// Reads `len` bytes of user memory at `va`, or kills the process.
fn user_read(va: u64, len: usize) -> Vec<u8> {
    let mut buf = vec![0u8; len];
    if with_current(|p| p.pt.copy_in(va, &mut buf)).is_err() {
        process_exit(-1);
    }
    buf
}

/// Checks that [va, va+len) is mapped user memory (writable if `write`), or kills the
/// process.
fn check_user(va: u64, len: u64, write: bool) {
    if len == 0 {
        return;
    }
    let ok = with_current(|p| {
        let Some(end) = va.checked_add(len) else { return false };
        let mut page = va & !(PGSIZE - 1);
        while page < end {
            match p.pt.translate(page.max(va)) {
                Some((_, w)) if w || !write => {}
                _ => return false,
            }
            page += PGSIZE;
        }
        true
    });
    if !ok {
        process_exit(-1);
    }
}

/// Reads a NUL-terminated string from user memory, or kills the process (also if it
/// is longer than MAX_STRING or not UTF-8; non-UTF-8 names cannot name a file anyway,
/// so they become a name no file has).
fn user_string(va: u64) -> String {
    let mut out = Vec::new();
    let mut at = va;
    loop {
        let n = (PGSIZE - at % PGSIZE) as usize;
        let chunk = user_read(at, n);
        if let Some(z) = chunk.iter().position(|&b| b == 0) {
            out.extend_from_slice(&chunk[..z]);
            break;
        }
        out.extend_from_slice(&chunk);
        if out.len() > MAX_STRING {
            process_exit(-1);
        }
        at += n as u64;
    }
    String::from_utf8(out).unwrap_or_else(|_| String::from("\u{fffd}"))
}

/// The entry of `fd` in the running process's table.
fn fd_entry(fd: i32) -> Option<Fd> {
    with_current(|p| p.files.get(&fd).cloned())
}

/// The open file of `fd` (None for a bad fd or the console).
fn fd_file(fd: i32) -> Option<Arc<Mutex<File>>> {
    match fd_entry(fd)? {
        Fd::File(f) => Some(f),
        _ => None,
    }
}

/// Runs `f` on open file `fd` (locked meanwhile); None for a bad fd or the console.
fn with_file<R>(fd: i32, f: impl FnOnce(&mut File) -> R) -> Option<R> {
    let file = fd_file(fd)?;
    let r = f(&mut file.lock());
    Some(r)
}

/// `dup2(oldfd, newfd)`: newfd (closed first if open) becomes a copy of oldfd, sharing
/// its file and position. Returns newfd, or -1 if oldfd is not open.
fn sys_dup2(old: i32, new: i32) -> i64 {
    if new < 0 {
        return -1;
    }
    let closed = with_current(|p| {
        let entry = p.files.get(&old)?.clone();
        if old == new {
            return Some(None);
        }
        Some(p.files.insert(new, entry))
    });
    match closed {
        None => -1,
        Some(prev) => {
            drop(prev);
            new as i64
        }
    }
}

fn sys_open(name_va: u64) -> i64 {
    let name = user_string(name_va);
    if name.is_empty() {
        return -1;
    }
    match filesys::filesys_open(&name) {
        None => -1,
        Some(file) => with_current(|p| {
            let mut fd = FIRST_FD;
            while p.files.contains_key(&fd) {
                fd += 1;
            }
            p.files.insert(fd, Fd::File(Arc::new(Mutex::new(file))));
            fd as i64
        }),
    }
}

fn sys_write(fd: i32, buf: u64, len: u64) -> i64 {
    check_user(buf, len, false);
    let file = match fd_entry(fd) {
        Some(Fd::File(f)) => f,
        Some(Fd::Stdout) => return write_console(buf, len),
        _ => return -1,
    };
    let mut file = file.lock();
    let mut done = 0;
    while done < len {
        let n = (len - done).min(PGSIZE);
        let data = user_read(buf + done, n as usize);
        let w = file.write(&data) as u64;
        done += w;
        if w < n {
            break;
        }
    }
    done as i64
}

/// Writes user buffer [buf, buf+len) to the console.
fn write_console(buf: u64, len: u64) -> i64 {
    let mut done = 0;
    while done < len {
        let n = (len - done).min(PGSIZE);
        crate::console::putbuf(&user_read(buf + done, n as usize));
        done += n;
    }
    len as i64
}

/// Reads `len` bytes of console input into user buffer [buf, buf+len), waiting for each
/// (Pintos' `input_getc` loop: a read from stdin returns only when it has them all).
fn read_console(buf: u64, len: u64) -> i64 {
    let mut chunk = vec![0u8; len.min(PGSIZE) as usize];
    let mut done = 0;
    while done < len {
        let n = (len - done).min(PGSIZE) as usize;
        for b in &mut chunk[..n] {
            *b = crate::devices::input::getc();
        }
        if with_current(|p| p.pt.copy_out(buf + done, &chunk[..n], false)).is_err() {
            drop(chunk);
            process_exit(-1);
        }
        done += n as u64;
    }
    len as i64
}

fn sys_read(fd: i32, buf: u64, len: u64) -> i64 {
    check_user(buf, len, true);
    if let Some(Fd::Stdin) = fd_entry(fd) {
        return read_console(buf, len);
    }
    // A bad fd, or the console's output side: nothing to read.
    let Some(file) = fd_file(fd) else { return -1 };
    let mut done = 0;
    let mut chunk = vec![0u8; PGSIZE as usize];
    let mut bad = false;
    {
        let mut file = file.lock();
        while done < len {
            let n = (len - done).min(PGSIZE) as usize;
            let got = file.read(&mut chunk[..n]);
            if with_current(|p| p.pt.copy_out(buf + done, &chunk[..got], false)).is_err() {
                bad = true;
                break;
            }
            done += got as u64;
            if got < n {
                break;
            }
        }
    }
    if bad {
        drop(file);
        drop(chunk);
        process_exit(-1);
    }
    done as i64
}
