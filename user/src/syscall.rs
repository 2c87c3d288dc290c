//! System calls, Pintos-KAIST ABI: the `syscall` instruction with the number in rax and
//! the arguments in rdi, rsi, rdx, r10, r8, r9; the result comes back in rax. The CPU
//! itself clobbers rcx (return RIP) and r11 (RFLAGS).
//!
//! [`raw`] has the numbered entry points; the typed wrappers below follow the C prototypes
//! of Pintos' `lib/user/syscall.c`. Strings go to the kernel as NUL-terminated C strings
//! ([`CStr`]), as the kernel reads them from user memory byte by byte.

use core::ffi::CStr;

/// A process id; [`PID_ERROR`] when fork or exec fails.
pub type Pid = i32;
/// What fork returns when it cannot create the child.
pub const PID_ERROR: Pid = -1;
/// The standard file descriptors.
pub const STDIN_FILENO: i32 = 0;
pub const STDOUT_FILENO: i32 = 1;

/// System call numbers (Pintos-KAIST `include/lib/syscall-nr.h`).
pub mod nr {
    pub const HALT: u64 = 0;
    pub const EXIT: u64 = 1;
    pub const FORK: u64 = 2;
    pub const EXEC: u64 = 3;
    pub const WAIT: u64 = 4;
    pub const CREATE: u64 = 5;
    pub const REMOVE: u64 = 6;
    pub const OPEN: u64 = 7;
    pub const FILESIZE: u64 = 8;
    pub const READ: u64 = 9;
    pub const WRITE: u64 = 10;
    pub const SEEK: u64 = 11;
    pub const TELL: u64 = 12;
    pub const CLOSE: u64 = 13;
    pub const MMAP: u64 = 14;
    pub const MUNMAP: u64 = 15;
    pub const CHDIR: u64 = 16;
    pub const MKDIR: u64 = 17;
    pub const READDIR: u64 = 18;
    pub const ISDIR: u64 = 19;
    pub const INUMBER: u64 = 20;
    pub const SYMLINK: u64 = 21;
    pub const DUP2: u64 = 22;
    pub const MOUNT: u64 = 23;
    pub const UMOUNT: u64 = 24;
}

/// The raw entry points: `syscallN(number, args...)`.
pub mod raw {
    use core::arch::asm;

    /// # Safety
    /// The kernel may read or write user memory named by the arguments.
    #[inline(always)]
    pub unsafe fn syscall0(n: u64) -> u64 {
        let ret;
        unsafe { asm!("syscall", inlateout("rax") n => ret, out("rcx") _, out("r11") _, options(nostack)) };
        ret
    }

    /// # Safety
    /// As [`syscall0`].
    #[inline(always)]
    pub unsafe fn syscall1(n: u64, a1: u64) -> u64 {
        let ret;
        unsafe { asm!("syscall", inlateout("rax") n => ret, in("rdi") a1, out("rcx") _, out("r11") _, options(nostack)) };
        ret
    }

    /// # Safety
    /// As [`syscall0`].
    #[inline(always)]
    pub unsafe fn syscall2(n: u64, a1: u64, a2: u64) -> u64 {
        let ret;
        unsafe { asm!("syscall", inlateout("rax") n => ret, in("rdi") a1, in("rsi") a2, out("rcx") _, out("r11") _, options(nostack)) };
        ret
    }

    /// # Safety
    /// As [`syscall0`].
    #[inline(always)]
    pub unsafe fn syscall3(n: u64, a1: u64, a2: u64, a3: u64) -> u64 {
        let ret;
        unsafe {
            asm!("syscall", inlateout("rax") n => ret, in("rdi") a1, in("rsi") a2, in("rdx") a3,
                out("rcx") _, out("r11") _, options(nostack))
        };
        ret
    }

    /// # Safety
    /// As [`syscall0`].
    #[inline(always)]
    pub unsafe fn syscall5(n: u64, a1: u64, a2: u64, a3: u64, a4: u64, a5: u64) -> u64 {
        let ret;
        unsafe {
            asm!("syscall", inlateout("rax") n => ret, in("rdi") a1, in("rsi") a2, in("rdx") a3,
                in("r10") a4, in("r8") a5, out("rcx") _, out("r11") _, options(nostack))
        };
        ret
    }
}

use raw::*;

fn ptr(s: &CStr) -> u64 {
    s.as_ptr() as u64
}

/// Powers the machine off.
pub fn halt() -> ! {
    unsafe { syscall0(nr::HALT) };
    unreachable_exit()
}

/// Ends the process with `status` (the kernel prints `NAME: exit(STATUS)`).
pub fn exit(status: i32) -> ! {
    unsafe { syscall1(nr::EXIT, status as i64 as u64) };
    unreachable_exit()
}

/// The kernel returned from halt or exit: spin, as there is nothing sensible left to do.
fn unreachable_exit() -> ! {
    loop {
        core::hint::spin_loop();
    }
}

/// Clones the process; the child's thread is named `name`. Returns the child's pid in
/// the parent, 0 in the child, [`PID_ERROR`] on failure.
pub fn fork(name: &CStr) -> Pid {
    unsafe { syscall1(nr::FORK, ptr(name)) as i32 }
}

/// Replaces the process image with `cmd_line` ("prog arg..."); returns only on failure.
pub fn exec(cmd_line: &CStr) -> i32 {
    unsafe { syscall1(nr::EXEC, ptr(cmd_line)) as i32 }
}

/// Waits for child `pid` and returns its exit status (-1 if it is not a waitable child).
pub fn wait(pid: Pid) -> i32 {
    unsafe { syscall1(nr::WAIT, pid as i64 as u64) as i32 }
}

pub fn create(file: &CStr, initial_size: u32) -> bool {
    unsafe { syscall2(nr::CREATE, ptr(file), initial_size as u64) as u8 != 0 }
}

pub fn remove(file: &CStr) -> bool {
    unsafe { syscall1(nr::REMOVE, ptr(file)) as u8 != 0 }
}

/// Opens `file`; returns a file descriptor or -1.
pub fn open(file: &CStr) -> i32 {
    unsafe { syscall1(nr::OPEN, ptr(file)) as i32 }
}

pub fn filesize(fd: i32) -> i32 {
    unsafe { syscall1(nr::FILESIZE, fd as i64 as u64) as i32 }
}

/// Reads into `buf`; returns the bytes read or -1.
pub fn read(fd: i32, buf: &mut [u8]) -> i32 {
    unsafe { syscall3(nr::READ, fd as i64 as u64, buf.as_mut_ptr() as u64, buf.len() as u64) as i32 }
}

/// Writes `buf`; returns the bytes written or -1.
pub fn write(fd: i32, buf: &[u8]) -> i32 {
    unsafe { syscall3(nr::WRITE, fd as i64 as u64, buf.as_ptr() as u64, buf.len() as u64) as i32 }
}

pub fn seek(fd: i32, position: u32) {
    unsafe { syscall2(nr::SEEK, fd as i64 as u64, position as u64) };
}

pub fn tell(fd: i32) -> u32 {
    unsafe { syscall1(nr::TELL, fd as i64 as u64) as u32 }
}

pub fn close(fd: i32) {
    unsafe { syscall1(nr::CLOSE, fd as i64 as u64) };
}

/// Makes `newfd` a copy of `oldfd`; returns `newfd` or -1.
pub fn dup2(oldfd: i32, newfd: i32) -> i32 {
    unsafe { syscall2(nr::DUP2, oldfd as i64 as u64, newfd as i64 as u64) as i32 }
}

/// Maps `length` bytes of `fd` from `offset` at `addr`; returns the address or null.
///
/// # Safety
/// The mapping replaces whatever the program expects at `addr`.
pub unsafe fn mmap(addr: *mut u8, length: usize, writable: bool, fd: i32, offset: i64) -> *mut u8 {
    unsafe { syscall5(nr::MMAP, addr as u64, length as u64, writable as u64, fd as i64 as u64, offset as u64) as *mut u8 }
}

/// # Safety
/// The pages at `addr` disappear; no reference into them may be used afterwards.
pub unsafe fn munmap(addr: *mut u8) {
    unsafe { syscall1(nr::MUNMAP, addr as u64) };
}

pub fn chdir(dir: &CStr) -> bool {
    unsafe { syscall1(nr::CHDIR, ptr(dir)) as u8 != 0 }
}

pub fn mkdir(dir: &CStr) -> bool {
    unsafe { syscall1(nr::MKDIR, ptr(dir)) as u8 != 0 }
}

/// Reads the next entry of directory `fd` into `name` (NUL-terminated, at most
/// READDIR_MAX_LEN = 14 characters); false at the end.
pub fn readdir(fd: i32, name: &mut [u8; 15]) -> bool {
    unsafe { syscall2(nr::READDIR, fd as i64 as u64, name.as_mut_ptr() as u64) as u8 != 0 }
}

pub fn isdir(fd: i32) -> bool {
    unsafe { syscall1(nr::ISDIR, fd as i64 as u64) as u8 != 0 }
}

pub fn inumber(fd: i32) -> i32 {
    unsafe { syscall1(nr::INUMBER, fd as i64 as u64) as i32 }
}

/// Creates `linkpath` pointing to `target`; 0 on success, -1 on failure.
pub fn symlink(target: &CStr, linkpath: &CStr) -> i32 {
    unsafe { syscall2(nr::SYMLINK, ptr(target), ptr(linkpath)) as i32 }
}

pub fn mount(path: &CStr, chan_no: i32, dev_no: i32) -> i32 {
    unsafe { syscall3(nr::MOUNT, ptr(path), chan_no as i64 as u64, dev_no as i64 as u64) as i32 }
}

pub fn umount(path: &CStr) -> i32 {
    unsafe { syscall1(nr::UMOUNT, ptr(path)) as i32 }
}

/// The physical address user address `addr` maps to, or 0 if its page is not present
/// (Pintos-KAIST's `get_phys_addr`, `int 0x42`): the lazy-loading tests check with it
/// that untouched pages have no frame.
pub fn get_phys_addr(addr: *const u8) -> u64 {
    let pa: u64;
    // SAFETY: `int 0x42` only reads rax and writes it back; it touches no memory.
    unsafe { core::arch::asm!("int 0x42", inlateout("rax") addr as u64 => pa, options(nostack)) };
    pa
}
