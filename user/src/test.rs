//! The Pintos test helpers (`tests/lib.c`, `tests/main.c`), with Pintos' output format so
//! the `.ck` checkers apply unchanged:
//!
//! - [`msg!`](crate::msg) prints `(NAME) text` and a newline;
//! - [`fail!`](crate::fail) prints `(NAME) text: FAILED` and exits with status 1;
//! - [`check!`](crate::check) (Pintos' `CHECK`) prints the message, then fails with it
//!   if the condition is false;
//!
//! each message going out in one `write`. NAME is the test name: `argv[0]` unless the
//! program sets another with [`set_test_name`] (as Pintos' `args.c` sets "args").
//! [`test_main!`](crate::test_main) is Pintos' `tests/main.c`: `begin`, the test, `end`.
//!
//! The rest of `tests/lib.c` the file-system tests use: [`compare_bytes`],
//! [`check_file`] / [`check_file_handle`], [`shuffle`], [`exec_children`] and
//! [`wait_children`], with the same messages.

use core::ffi::CStr;
use core::sync::atomic::{AtomicBool, AtomicPtr, Ordering};

use crate::fmt::{Out, Sink};
use crate::io::{hex_dump, BufWriter};
use crate::random::Random;
use crate::syscall::{close, exec, exit, filesize, fork, open, read, wait, Pid, PID_ERROR, STDOUT_FILENO};

static TEST_NAME: AtomicPtr<u8> = AtomicPtr::new(core::ptr::null_mut());
/// Pintos' `quiet`: when set, [`msg!`](crate::msg) prints nothing (failures still do).
static QUIET: AtomicBool = AtomicBool::new(false);

/// Sets the name `msg!` and `fail!` print in parentheses.
pub fn set_test_name(name: &'static CStr) {
    TEST_NAME.store(name.as_ptr() as *mut u8, Ordering::Relaxed);
}

/// The current test name ("" before any is set).
pub fn test_name() -> &'static CStr {
    let p = TEST_NAME.load(Ordering::Relaxed);
    if p.is_null() {
        c""
    } else {
        // SAFETY: only set from a `&'static CStr`.
        unsafe { CStr::from_ptr(p as *const core::ffi::c_char) }
    }
}

pub fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

/// Pintos' `vmsg`: "(NAME) " + message + suffix, in one write.
fn vmsg(fmt: &str, args: &[&dyn Out], suffix: &str) {
    let mut w = BufWriter::<1024>::new(STDOUT_FILENO);
    w.put(b"(");
    w.put(test_name().to_bytes());
    w.put(b") ");
    w.format(fmt, args);
    w.put(suffix.as_bytes());
}

#[doc(hidden)]
pub fn msg_out(fmt: &str, args: &[&dyn Out]) {
    if !QUIET.load(Ordering::Relaxed) {
        vmsg(fmt, args, "\n");
    }
}

#[doc(hidden)]
pub fn fail_out(fmt: &str, args: &[&dyn Out]) -> ! {
    vmsg(fmt, args, ": FAILED\n");
    exit(1)
}

/// `msg!("argc = {}", n)` prints `(NAME) argc = 3` (format: see [`crate::fmt`]).
#[macro_export]
macro_rules! msg {
    ($fmt:expr $(, $arg:expr)* $(,)?) => { $crate::test::msg_out($fmt, $crate::__out_args!($($arg),*)) };
}

/// Prints `(NAME) text: FAILED` and exits with status 1.
#[macro_export]
macro_rules! fail {
    ($fmt:expr $(, $arg:expr)* $(,)?) => { $crate::test::fail_out($fmt, $crate::__out_args!($($arg),*)) };
}

/// Pintos' `CHECK(cond, ...)`: prints the message, and fails with it if `cond` is false.
#[macro_export]
macro_rules! check {
    ($cond:expr, $fmt:expr $(, $arg:expr)* $(,)?) => {{
        let args = $crate::__out_args!($($arg),*);
        $crate::test::msg_out($fmt, args);
        if !($cond) {
            $crate::test::fail_out($fmt, args);
        }
    }};
}

/// Pintos' `tests/main.c`: the program's main prints `begin`, runs `$test`, prints `end`
/// and returns 0. `$test` is a `fn()`.
#[macro_export]
macro_rules! test_main {
    ($test:path) => {
        $crate::main!(|_args: $crate::Args| -> i32 {
            $crate::msg!("begin");
            let test: fn() = $test;
            test();
            $crate::msg!("end");
            0
        });
    };
}

/// `test_main!` for a test that works on a zeroed static buffer of `$size` bytes (the
/// file-system tests' file contents: they live in the data segment because the user
/// stack is one page). `buffer_test_main!(75678, shared::run, 513)` calls
/// `shared::run(buf, 513)` between `begin` and `end`.
#[macro_export]
macro_rules! buffer_test_main {
    ($size:expr, $test:path $(, $arg:expr)* $(,)?) => {
        static mut BUF: [u8; $size] = [0; $size];
        $crate::test_main!(buffer_test);
        fn buffer_test() {
            // SAFETY: the program's only reference to BUF, taken once.
            let buf: &mut [u8] = unsafe { &mut *core::ptr::addr_of_mut!(BUF) };
            $test(buf $(, $arg)*);
        }
    };
}

/// Pintos' `compare_bytes`: returns if `read_data` equals the start of `expected`;
/// otherwise reports the first run of differing bytes (at file offset `ofs` + its index
/// in the buffers), hex-dumps up to 64 of them from both, and fails. Reporting turns
/// `quiet` off, as a child's failure must be seen.
pub fn compare_bytes(read_data: &[u8], expected: &[u8], ofs: usize, file_name: &CStr) {
    let size = read_data.len().min(expected.len());
    let (Some(got), Some(want)) = (read_data.get(..size), expected.get(..size)) else { return };
    if got == want {
        return;
    }
    let pairs = || got.iter().zip(want.iter());
    let i = pairs().position(|(a, b)| a != b).unwrap_or(size);
    let j = pairs().skip(i + 1).position(|(a, b)| a == b).map_or(size, |k| i + 1 + k);
    set_quiet(false);
    msg!("{} bytes read starting at offset {} in \"{}\" differ from expected.", j - i, ofs + i, file_name);
    let show = (j - i).min(64);
    if j - i > 64 {
        msg!("Showing first differing {} bytes.", show);
    }
    msg!("Data actually read:");
    hex_dump(ofs + i, got.get(i..i + show).unwrap_or(&[]), true);
    msg!("Expected data:");
    hex_dump(ofs + i, want.get(i..i + show).unwrap_or(&[]), true);
    fail!("{} bytes read starting at offset {} in \"{}\" differ from expected", j - i, ofs + i, file_name);
}

/// Pintos' `check_file_handle`: the open file `fd` must hold exactly `expected`. It is
/// read 512 bytes at a time from its current position and compared as it goes; a wrong
/// size is reported first but fails only after the contents were checked.
pub fn check_file_handle(fd: i32, file_name: &CStr, expected: &[u8]) {
    let size = expected.len();
    // `size_t file_size = filesize (fd)`: an error (-1) is a huge size, as in C.
    let file_size = filesize(fd) as isize as usize;
    if file_size != size {
        msg!("size of {} ({}) differs from expected ({})", file_name, file_size, size);
    }
    let mut block = [0u8; 512];
    for (k, want) in expected.chunks(block.len()).enumerate() {
        let ofs = k * block.len();
        let Some(got) = block.get_mut(..want.len()) else { break };
        let ret = read(fd, got) as isize as usize;
        if ret != want.len() {
            fail!("read of {} bytes at offset {} in \"{}\" returned {}", want.len(), ofs, file_name, ret);
        }
        compare_bytes(got, want, ofs, file_name);
    }
    if file_size != size {
        fail!("size of {} ({}) differs from expected ({})", file_name, file_size, size);
    }
    msg!("verified contents of \"{}\"", file_name);
}

/// Pintos' `check_file`: opens `file_name`, checks that it holds exactly `expected`,
/// closes it.
pub fn check_file(file_name: &CStr, expected: &[u8]) {
    let fd = open(file_name);
    crate::check!(fd > 1, "open \"{}\" for verification", file_name);
    check_file_handle(fd, file_name, expected);
    msg!("close \"{}\"", file_name);
    close(fd);
}

/// Pintos' `shuffle`: a Fisher-Yates shuffle drawing from `rng` (one `random_ulong`
/// per element, as Pintos does, so the order matches its for the same stream).
pub fn shuffle<T>(items: &mut [T], rng: &mut Random) {
    let cnt = items.len();
    for i in 0..cnt {
        let j = i + (rng.ulong() % (cnt - i) as u64) as usize;
        // Swap items[i] and items[j] without an indexing panic path.
        if let Some((first, rest)) = items.get_mut(i..=j).and_then(|s| s.split_first_mut()) {
            if let Some(last) = rest.last_mut() {
                core::mem::swap(first, last);
            }
        }
    }
}

/// A NUL-terminated command line formatted into a fixed buffer (Pintos' 128-byte
/// `cmd_line`); longer text is cut.
struct CmdLine {
    buf: [u8; 128],
    len: usize,
}

impl Sink for CmdLine {
    fn put(&mut self, bytes: &[u8]) {
        for &b in bytes {
            // Keep the last byte for the NUL.
            if self.len + 1 < self.buf.len() {
                if let Some(slot) = self.buf.get_mut(self.len) {
                    *slot = b;
                }
                self.len += 1;
            }
        }
    }
}

impl CmdLine {
    fn as_cstr(&self) -> &CStr {
        CStr::from_bytes_until_nul(&self.buf).unwrap_or(c"")
    }
}

/// Pintos' `exec_children`: starts `pids.len()` children running `CHILD_NAME I` (I from
/// 0), each by fork then exec, checking in the parent that each fork worked. A child
/// whose exec fails exits with -1 (what Pintos-KAIST's `exec` does to the caller).
pub fn exec_children(child_name: &CStr, pids: &mut [Pid]) {
    let cnt = pids.len();
    for (i, pid) in pids.iter_mut().enumerate() {
        let mut cmd = CmdLine { buf: [0; 128], len: 0 };
        crate::fmt::format(&mut cmd, "{} {}", crate::__out_args!(child_name, i));
        *pid = fork(child_name);
        if *pid == 0 {
            exec(cmd.as_cstr());
            exit(-1);
        }
        crate::check!(*pid != PID_ERROR, "exec child {} of {}: \"{}\"", i + 1, cnt, cmd.as_cstr());
    }
}

/// Pintos' `wait_children`: waits for each child in turn; child I must exit with I.
pub fn wait_children(pids: &[Pid]) {
    let cnt = pids.len();
    for (i, &pid) in pids.iter().enumerate() {
        let status = wait(pid);
        crate::check!(status == i as i32, "wait for child {} of {} returned {} (expected {})", i + 1, cnt, status, i);
    }
}
