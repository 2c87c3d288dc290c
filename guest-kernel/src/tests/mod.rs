//! Kernel tests run by name (`run NAME`), as Pintos' tests/threads/tests.c does. The
//! Pintos threads tests join this table with the scheduler.

#[macro_use]
mod msg {
    /// Prints `(NAME) MESSAGE`, the form Pintos' checkers read.
    macro_rules! msg {
        ($name:expr, $($arg:tt)*) => ($crate::println!("({}) {}", $name, format_args!($($arg)*)));
    }
}

mod exception;
mod malloc;
mod redzone;

/// (name, test).
const TESTS: &[(&str, fn())] = &[("exception", exception::test_exception), ("malloc", malloc::test_malloc), ("redzone", redzone::test_redzone)];

pub fn run_test(name: &str) {
    match TESTS.iter().find(|(n, _)| *n == name) {
        Some((_, test)) => test(),
        None => panic!("no test named \"{name}\""),
    }
}
