//! Fork: the child gets 0 and a copy of the address space and open files; the parent
//! gets the child's pid and, from `wait`, its exit status. Expected output: `begin`, the
//! child's three lines and `child: exit(81)`, then the parent's three lines, `end`,
//! `fk-basic: exit(0)`.
#![no_std]
#![no_main]

use user::syscall::{create, exit, fork, open, read, seek, wait, write};
use user::{check, msg};

user::test_main!(test_main);

fn test_main() {
    let mut value = [7u8; 64];
    check!(create(c"shared", 8), "create \"shared\"");
    let fd = open(c"shared");
    check!(write(fd, b"abcdefgh") == 8, "write 8 bytes");
    seek(fd, 2);
    let pid = fork(c"child");
    if pid == 0 {
        value[0] = 99;
        msg!("child: fork returned 0, value {}", value[0]);
        let mut buf = [0u8; 3];
        check!(read(fd, &mut buf) == 3 && &buf == b"cde", "child: reads \"cde\" from the inherited fd");
        exit(81);
    }
    check!(pid > 0, "parent: fork returned a pid");
    check!(wait(pid) == 81, "parent: wait returned 81");
    let mut buf = [0u8; 3];
    check!(read(fd, &mut buf) == 3 && &buf == b"cde" && value[0] == 7, "parent: own position and memory unchanged");
}
