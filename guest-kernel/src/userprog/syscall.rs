//! System calls (Pintos-KAIST numbers; number in rax, arguments in rdi, rsi, rdx, r10,
//! r8, r9, result in rax), reached through `arch::user`'s `syscall` entry.
//!
//! User memory is only read or written through the process's page table (`vm::copy_in`
//! and `vm::copy_out`, which load pages not yet present and grow the stack as a user
//! fault would); a pointer to no user page (or to a read-only one, for a buffer the
//! kernel fills) ends the process with exit(-1). The file calls use the
//! process's fd table: the entry's `Arc<Mutex<File>>` is cloned out of it and locked for
//! the duration of the call. Fds 0 and 1 start as the keyboard and the console and can
//! be closed and dup'd like any other.

use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use super::process::{process_exec, process_exit, process_fork, process_wait, with_current, Fd, FIRST_FD, MAX_FD};
use crate::arch::cpu;
use alloc::sync::Arc;

use crate::filesys::{self, file::File};
use crate::threads::synch::Mutex;
use crate::threads::interrupt::IntrFrame;
use crate::threads::palloc::{self, PGSIZE};
use crate::vm;

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
const SYS_MMAP: u64 = 14;
const SYS_MUNMAP: u64 = 15;
const SYS_DUP2: u64 = 22;

/// Longest file name or string argument read from user memory.
const MAX_STRING: usize = 4096;

/// A system call that must end its process with exit(-1) (a bad user pointer, an
/// unknown call). It is an error value rather than an immediate `process_exit`, so the
/// call's own heap allocations (string and copy buffers) are dropped on the way out:
/// `process_exit` never returns, so anything still alive on this thread's stack then
/// would leak.
pub struct Kill;

type SysResult = Result<i64, Kill>;

/// Called by the entry stub with interrupts off; runs the call with interrupts on.
pub fn syscall_handler(f: &mut IntrFrame) {
    cpu::enable_interrupts();
    let ret = match dispatch(f) {
        Ok(ret) => ret,
        Err(Kill) => process_exit(-1),
    };
    f.rax = ret as u64;
    cpu::disable_interrupts();
}

fn dispatch(f: &IntrFrame) -> SysResult {
    let (a1, a2, a3) = (f.rdi, f.rsi, f.rdx);
    with_current(|p| p.user_rsp = f.rsp);
    Ok(match f.rax {
        SYS_HALT => crate::threads::init::power_off(),
        SYS_EXIT => process_exit(a1 as i32),
        SYS_FORK => {
            let name = user_string(a1)?;
            process_fork(&name, f)
        }
        SYS_EXEC => {
            // Returns only if the program could not be loaded: the process then dies.
            process_exec(user_string(a1)?);
            return Err(Kill);
        }
        SYS_WAIT => match i32::try_from(a1 as i64) {
            Ok(pid) if pid > 0 => process_wait(pid as u64) as i64,
            _ => -1,
        },
        SYS_CREATE => {
            let name = user_string(a1)?;
            // An empty name fails; the file system refuses over-long names.
            filesys::filesys_create(&name, a2 as u32) as i64
        }
        SYS_REMOVE => filesys::filesys_remove(&user_string(a1)?) as i64,
        SYS_OPEN => sys_open(a1)?,
        SYS_FILESIZE => with_file(a1 as i32, |file| file.length() as i64).unwrap_or(-1),
        SYS_READ => sys_read(a1 as i32, a2, a3)?,
        SYS_WRITE => sys_write(a1 as i32, a2, a3)?,
        SYS_SEEK => with_file(a1 as i32, |file| file.seek(a2 as u32)).map_or(-1, |_| 0),
        SYS_TELL => with_file(a1 as i32, |file| file.tell() as i64).unwrap_or(-1),
        SYS_CLOSE => {
            let entry = with_current(|p| p.files.remove(&(a1 as i32)));
            drop(entry);
            0
        }
        SYS_DUP2 => sys_dup2(a1 as i32, a2 as i32),
        SYS_MMAP => sys_mmap(a1, a2, a3 != 0, f.r10 as i32, f.r8 as i64),
        SYS_MUNMAP => {
            vm::munmap(a1);
            0
        }
        _ => return Err(Kill),
    })
}

/// The user stack pointer at this system call.
fn user_rsp() -> u64 {
    with_current(|p| p.user_rsp)
}

/// Copies user memory at `va` into `buf`.
fn copy_in(va: u64, buf: &mut [u8]) -> Result<(), Kill> {
    if vm::copy_in(va, buf, user_rsp()) { Ok(()) } else { Err(Kill) }
}

/// Copies `data` to user memory at `va`.
fn copy_out(va: u64, data: &[u8]) -> Result<(), Kill> {
    if vm::copy_out(va, data, user_rsp()) { Ok(()) } else { Err(Kill) }
}

/// Reads `len` bytes of user memory at `va`.
fn user_read(va: u64, len: usize) -> Result<Vec<u8>, Kill> {
    let mut buf = vec![0u8; len];
    copy_in(va, &mut buf)?;
    Ok(buf)
}

/// Checks that [va, va+len) is user memory (writable if `write`), present or not.
fn check_user(va: u64, len: u64, write: bool) -> Result<(), Kill> {
    if vm::check(va, len, write, user_rsp()) { Ok(()) } else { Err(Kill) }
}

/// Reads a NUL-terminated string from user memory (Kill also if it is longer than
/// MAX_STRING; a string that is not UTF-8 cannot name a file anyway, so it becomes a
/// name no file has).
fn user_string(va: u64) -> Result<String, Kill> {
    let mut out = Vec::new();
    let mut at = va;
    // Small pieces that never cross a page, so a string ending just before an unmapped
    // page is fine, and a short name costs a short copy.
    let mut chunk = [0u8; 64];
    loop {
        let n = ((PGSIZE - at % PGSIZE) as usize).min(chunk.len());
        let piece = &mut chunk[..n];
        copy_in(at, piece)?;
        if let Some(z) = piece.iter().position(|&b| b == 0) {
            out.extend_from_slice(&piece[..z]);
            break;
        }
        out.extend_from_slice(piece);
        if out.len() > MAX_STRING {
            return Err(Kill);
        }
        at = at.checked_add(n as u64).ok_or(Kill)?;
    }
    Ok(String::from_utf8(out).unwrap_or_else(|_| String::from("\u{fffd}")))
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
/// its file and position; the console descriptors are copied like files. Returns newfd
/// (also when they are equal and oldfd is open), or -1 if oldfd is not open, newfd is
/// not in 0..MAX_FD, or a new descriptor would need memory the kernel is short of.
fn sys_dup2(old: i32, new: i32) -> i64 {
    if !(0..MAX_FD).contains(&new) {
        return -1;
    }
    let low = palloc::kernel_low();
    let closed = with_current(|p| {
        let entry = p.files.get(&old)?.clone();
        if old == new {
            return Some(None);
        }
        if low && !p.files.contains_key(&new) {
            return None;
        }
        Some(p.files.insert(new, entry))
    });
    match closed {
        None => -1,
        Some(prev) => {
            // Closed outside the process table: closing a file takes the file-system lock.
            drop(prev);
            new as i64
        }
    }
}

/// `open(name)`: the lowest free descriptor from FIRST_FD, or -1 if the file does not
/// exist, all descriptors below MAX_FD are in use, or the kernel is short of memory
/// (then the process just gets -1: multi-oom opens files until open fails).
fn sys_open(name_va: u64) -> SysResult {
    let name = user_string(name_va)?;
    if name.is_empty() || palloc::kernel_low() {
        return Ok(-1);
    }
    let Some(file) = filesys::filesys_open(&name) else { return Ok(-1) };
    let entry = Fd::File(Arc::new(Mutex::new(file)));
    let placed = with_current(|p| match lowest_free_fd(&p.files) {
        Some(fd) => {
            p.files.insert(fd, entry);
            Ok(fd as i64)
        }
        None => Err(entry),
    });
    // A full table: the file is closed outside the process table.
    Ok(placed.unwrap_or(-1))
}

/// The lowest descriptor from FIRST_FD that `files` does not use, if below MAX_FD (one
/// pass over the table's keys, in order).
fn lowest_free_fd(files: &alloc::collections::BTreeMap<i32, Fd>) -> Option<i32> {
    let mut want = FIRST_FD;
    for &fd in files.range(FIRST_FD..).map(|(fd, _)| fd) {
        if fd != want {
            break;
        }
        want += 1;
    }
    (want < MAX_FD).then_some(want)
}

fn sys_write(fd: i32, buf: u64, len: u64) -> SysResult {
    check_user(buf, len, false)?;
    let file = match fd_entry(fd) {
        Some(Fd::File(f)) => f,
        Some(Fd::Stdout) => return write_console(buf, len),
        _ => return Ok(-1),
    };
    let mut file = file.lock();
    let mut done = 0;
    while done < len {
        let n = (len - done).min(PGSIZE);
        let data = user_read(buf + done, n as usize)?;
        let w = file.write(&data) as u64;
        done += w;
        if w < n {
            break;
        }
    }
    Ok(done as i64)
}

/// Writes user buffer [buf, buf+len) to the console.
fn write_console(buf: u64, len: u64) -> SysResult {
    let mut done = 0;
    while done < len {
        let n = (len - done).min(PGSIZE);
        crate::console::putbuf(&user_read(buf + done, n as usize)?);
        done += n;
    }
    Ok(len as i64)
}

/// Reads `len` bytes of console input into user buffer [buf, buf+len), waiting for each
/// (Pintos' `input_getc` loop: a read from stdin returns only when it has them all).
fn read_console(buf: u64, len: u64) -> SysResult {
    let mut chunk = vec![0u8; len.min(PGSIZE) as usize];
    let mut done = 0;
    while done < len {
        let n = (len - done).min(PGSIZE) as usize;
        for b in &mut chunk[..n] {
            *b = crate::devices::input::getc();
        }
        copy_out(buf + done, &chunk[..n])?;
        done += n as u64;
    }
    Ok(len as i64)
}

fn sys_read(fd: i32, buf: u64, len: u64) -> SysResult {
    check_user(buf, len, true)?;
    if let Some(Fd::Stdin) = fd_entry(fd) {
        return read_console(buf, len);
    }
    // A bad fd, or the console's output side: nothing to read.
    let Some(file) = fd_file(fd) else { return Ok(-1) };
    let mut file = file.lock();
    let mut done = 0;
    let mut chunk = vec![0u8; PGSIZE as usize];
    while done < len {
        let n = (len - done).min(PGSIZE) as usize;
        let got = file.read(&mut chunk[..n]);
        copy_out(buf + done, &chunk[..got])?;
        done += got as u64;
        if got < n {
            break;
        }
    }
    Ok(done as i64)
}

/// `mmap(addr, length, writable, fd, offset)`: the address mapped, or 0 (MAP_FAILED)
/// if the request is refused (see `vm::mmap`), the fd is not an open file (the console's
/// included), the file is empty, or the offset is negative or past 4 GiB.
fn sys_mmap(addr: u64, length: u64, writable: bool, fd: i32, offset: i64) -> i64 {
    let Ok(offset) = u32::try_from(offset) else { return 0 };
    let Some(file) = fd_file(fd) else { return 0 };
    let mapped = file.lock().reopen();
    if mapped.length() == 0 {
        return 0;
    }
    vm::mmap(addr, length, writable, Arc::new(mapped), offset).map_or(0, |a| a as i64)
}
