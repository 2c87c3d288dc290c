//! Pintos `exec-missing`: exec of a file that does not exist fails or kills.
#![no_std]
#![no_main]

user::test_main!(test_main);

fn test_main() {
    user::msg!("exec(\"no-such-file\"): {}", user::syscall::exec(c"no-such-file"));
}
