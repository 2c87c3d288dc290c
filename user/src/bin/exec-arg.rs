//! Pintos `exec-arg`: says it is the father, then execs child-args with an argument. The
//! process keeps its name across exec, so it exits as `exec-arg: exit(0)`.
#![no_std]
#![no_main]

user::test_main!(test_main);

fn test_main() {
    user::msg!("I'm your father");
    user::syscall::exec(c"child-args childarg");
    user::fail!("exec returned");
}
