//! An unhandled CPU exception (a breakpoint) must print a register dump and panic.

pub fn test_exception() {
    msg!("exception", "begin");
    crate::arch::selftest::breakpoint();
    msg!("exception", "FAIL: the breakpoint returned");
}
