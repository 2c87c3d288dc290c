//! Dup2: fd 5 made a copy of the console writes to it; after close(1) writes to 1
//! fail; dup2(5, 1) restores stdout; a dup'd file shares its position; dup2 of a bad fd
//! fails. Output goes through fd 5 while 1 is closed.
#![no_std]
#![no_main]

use user::syscall::{close, create, dup2, open, read, seek, tell, write};
use user::{check, msg};

user::test_main!(test_main);

fn test_main() {
    check!(dup2(1, 5) == 5, "dup2(1, 5) returns 5");
    check!(write(5, b"(fk-dup2) written to fd 5\n") == 26, "write to fd 5");
    close(1);
    let r = write(1, b"lost\n");
    write(5, if r == -1 { b"(fk-dup2) write to closed fd 1 fails\n" } else { b"(fk-dup2) write to closed fd 1 worked: FAILED\n" });
    let r = dup2(5, 1);
    check!(r == 1, "dup2(5, 1) restores stdout");
    check!(create(c"f", 16), "create \"f\"");
    let fd = open(c"f");
    check!(dup2(fd, 9) == 9, "dup2(fd, 9)");
    check!(write(fd, b"012345") == 6 && tell(9) == 6, "dup'd fd shares the position");
    seek(9, 1);
    let mut b = [0u8; 2];
    check!(read(fd, &mut b) == 2 && &b == b"12", "seek on one moves the other");
    close(fd);
    check!(read(9, &mut b) == 2 && &b == b"34", "the copy stays open after close");
    check!(dup2(42, 3) == -1, "dup2 of a bad fd fails");
    check!(dup2(9, 9) == 9, "dup2(fd, fd) returns fd");
    close(0);
    check!(dup2(0, 3) == -1, "dup2 of closed stdin fails");
    msg!("opened next: {}", open(c"f"));
}
