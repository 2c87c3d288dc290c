//! Pintos `child-bad` (wait-killed's child): execs `pintos`, a program the file system
//! does not have; a failed exec ends the process with exit(-1), so it never fails.
#![no_std]
#![no_main]

user::test_main!(test_main);

fn test_main() {
    user::syscall::exec(c"pintos");
    user::fail!("should have exited with -1");
}
