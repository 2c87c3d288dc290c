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

use core::ffi::CStr;
use core::sync::atomic::{AtomicBool, AtomicPtr, Ordering};

use crate::fmt::{Out, Sink};
use crate::io::BufWriter;
use crate::syscall::{exit, STDOUT_FILENO};

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
