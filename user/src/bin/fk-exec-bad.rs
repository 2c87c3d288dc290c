//! Exec of a missing program: the process exits with -1 under its own name.
#![no_std]
#![no_main]

use user::syscall::exec;

user::test_main!(test_main);

fn test_main() {
    exec(c"no-such-file arg");
    user::fail!("exec returned");
}
