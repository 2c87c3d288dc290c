//! Pintos `wait-bad-pid`: waiting for a pid that was never a child fails or kills.
#![no_std]
#![no_main]

user::test_main!(test_main);

fn test_main() {
    user::syscall::wait(0x0c02_0304);
}
