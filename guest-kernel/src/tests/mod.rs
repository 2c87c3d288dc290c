//! Kernel tests run by name (`run NAME`), as Pintos' tests/threads/tests.c does: the
//! runner prints `(NAME) begin`, the test prints `(NAME) ...` lines through `msg!`, and
//! the runner prints `(NAME) end`, the format Pintos' checkers read. A failing test
//! prints `(NAME) FAIL: ...` and panics.
//!
//! The threads tests (alarm-*, priority-*, mlfqs-*) are our own Rust versions of
//! Pintos' tests: same threads, priorities, timings and output lines.

use core::sync::atomic::Ordering;

use crate::arch::cell::IrqCell;

#[macro_use]
mod msg {
    /// Prints `(TEST) MESSAGE`.
    macro_rules! msg {
        ($($arg:tt)*) => ($crate::tests::msg(format_args!($($arg)*)));
    }
    /// Prints `(TEST) FAIL: MESSAGE` and panics.
    macro_rules! fail {
        ($($arg:tt)*) => ($crate::tests::fail(format_args!($($arg)*)));
    }
}

mod alarm;
mod block;
mod exception;
mod filesys;
mod malloc;
mod mlfqs;
mod priority;
mod redzone;
mod vm;

/// (name, test).
const TESTS: &[(&str, fn())] = &[
    ("exception", exception::test_exception),
    ("malloc", malloc::test_malloc),
    ("redzone", redzone::test_redzone),
    ("block-rw", block::test_block_rw),
    ("vm-units", vm::test_vm_units),
    ("fs-basic", filesys::test_fs_basic),
    ("fs-threads", filesys::test_fs_threads),
    ("alarm-single", alarm::test_alarm_single),
    ("alarm-multiple", alarm::test_alarm_multiple),
    ("alarm-simultaneous", alarm::test_alarm_simultaneous),
    ("alarm-priority", alarm::test_alarm_priority),
    ("alarm-zero", alarm::test_alarm_zero),
    ("alarm-negative", alarm::test_alarm_negative),
    ("priority-change", priority::test_priority_change),
    ("priority-donate-one", priority::test_priority_donate_one),
    ("priority-donate-multiple", priority::test_priority_donate_multiple),
    ("priority-donate-multiple2", priority::test_priority_donate_multiple2),
    ("priority-donate-nest", priority::test_priority_donate_nest),
    ("priority-donate-sema", priority::test_priority_donate_sema),
    ("priority-donate-lower", priority::test_priority_donate_lower),
    ("priority-donate-chain", priority::test_priority_donate_chain),
    ("priority-fifo", priority::test_priority_fifo),
    ("priority-preempt", priority::test_priority_preempt),
    ("priority-sema", priority::test_priority_sema),
    ("priority-condvar", priority::test_priority_condvar),
    ("mlfqs-load-1", mlfqs::test_mlfqs_load_1),
    ("mlfqs-load-60", mlfqs::test_mlfqs_load_60),
    ("mlfqs-load-avg", mlfqs::test_mlfqs_load_avg),
    ("mlfqs-recent-1", mlfqs::test_mlfqs_recent_1),
    ("mlfqs-fair-2", mlfqs::test_mlfqs_fair_2),
    ("mlfqs-fair-20", mlfqs::test_mlfqs_fair_20),
    ("mlfqs-nice-2", mlfqs::test_mlfqs_nice_2),
    ("mlfqs-nice-10", mlfqs::test_mlfqs_nice_10),
    ("mlfqs-block", mlfqs::test_mlfqs_block),
];

static TEST_NAME: IrqCell<&'static str> = IrqCell::new("");

/// Is there a kernel test named `name`? (`run` runs user programs otherwise.)
pub fn has_test(name: &str) -> bool {
    TESTS.iter().any(|(n, _)| *n == name)
}

/// Not inlined, so a panic's backtrace names it (the boot test checks that).
#[inline(never)]
pub fn run_test(name: &str) {
    match TESTS.iter().find(|(n, _)| *n == name) {
        Some((n, test)) => {
            TEST_NAME.with(|t| *t = n);
            msg!("begin");
            test();
            msg!("end");
        }
        None => panic!("no test named \"{name}\""),
    }
}

pub fn msg(args: core::fmt::Arguments) {
    let name = TEST_NAME.with(|t| *t);
    crate::println!("({}) {}", name, args);
}

pub fn fail(args: core::fmt::Arguments) -> ! {
    let name = TEST_NAME.with(|t| *t);
    crate::println!("({}) FAIL: {}", name, args);
    panic!("test failed");
}

pub fn pass() {
    msg!("PASS");
}

/// Asserts the scheduler mode a test needs (Pintos' tests ASSERT on thread_mlfqs).
fn require_mlfqs(on: bool) {
    assert_eq!(crate::threads::init::THREAD_MLFQS.load(Ordering::Relaxed), on, "this test needs -mlfqs {}", if on { "on" } else { "off" });
}
