//! The file system calls end to end: create, open, write, filesize, seek, tell, read
//! back, close, and remove; bad descriptors fail with -1 without killing the process.
//! Expected output: `(file-calls) begin`, one line per check, `(file-calls) end`, then
//! `file-calls: exit(0)`.
#![no_std]
#![no_main]

use user::{check, msg};
use user::syscall::{close, create, filesize, open, read, remove, seek, tell, write};

user::test_main!(test_main);

fn test_main() {
    check!(create(c"data", 20), "create \"data\"");
    check!(!create(c"data", 20), "create \"data\" again fails");
    let fd = open(c"data");
    check!(fd > 1, "open \"data\"");
    check!(open(c"missing") == -1, "open \"missing\" fails");
    check!(filesize(fd) == 20, "filesize is 20");
    check!(write(fd, b"hello, world") == 12, "write 12 bytes");
    check!(tell(fd) == 12, "tell is 12");
    seek(fd, 7);
    let mut buf = [0u8; 5];
    check!(read(fd, &mut buf) == 5, "read 5 bytes at 7");
    check!(&buf == b"world", "read back \"world\"");
    seek(fd, 0);
    let mut all = [0u8; 32];
    check!(read(fd, &mut all) == 20, "read stops at the end of the file");
    close(fd);
    check!(read(fd, &mut buf) == -1, "read of a closed fd fails");
    check!(write(99, b"x") == -1, "write to a bad fd fails");
    check!(remove(c"data"), "remove \"data\"");
    check!(open(c"data") == -1, "open after remove fails");
}
