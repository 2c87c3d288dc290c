//! Pintos `exec-arg`: exec passes the arguments to child-args.
#![no_std]
#![no_main]

user::test_main!(test_main);

fn test_main() {
    user::syscall::exec(c"child-args childarg");
    user::fail!("exec returned");
}
