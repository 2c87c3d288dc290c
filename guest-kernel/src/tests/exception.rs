//! An unhandled CPU exception (a breakpoint) must print a register dump and panic.

pub fn test_exception() {
    crate::arch::selftest::breakpoint();
    msg!("FAIL: the breakpoint returned");
}
