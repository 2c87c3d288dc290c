//! Pintos `child-simple`: the child the wait-* and exec-* tests run; prints `run` and
//! exits with 81.
#![no_std]
#![no_main]

user::main!(|_args: user::Args| -> i32 {
    user::test::set_test_name(c"child-simple");
    user::msg!("run");
    81
});
