//! Pintos `exec-once`: exec replaces the process with child-simple.
#![no_std]
#![no_main]

user::test_main!(test_main);

fn test_main() {
    user::msg!("I'm your father");
    user::syscall::exec(c"child-simple");
    user::fail!("exec returned");
}
