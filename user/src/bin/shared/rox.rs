// Shared body of rox-child and rox-multichild: child-rox's executable can be written
// before and after it runs, not while it runs (`child-rox N` nests N copies).

#[path = "cmd.rs"]
mod cmd;

use user::syscall::{close, exec, fork, open, read, seek, wait, write};
use user::{check, fail, msg};

pub fn run(depth: i32) {
    let fd = open(c"child-rox");
    check!(fd > 1, "open \"child-rox\"");
    let mut b = [0u8; 1];
    check!(read(fd, &mut b) == 1, "read \"child-rox\"");
    seek(fd, 0);
    check!(write(fd, &b) == 1, "write \"child-rox\"");
    let child = cmd::Cmd::new(b"child-rox", depth);
    msg!("exec \"{}\"", child.as_cstr());
    let pid = fork(c"child-rox");
    if pid == 0 {
        exec(child.as_cstr());
        fail!("exec returned");
    }
    if wait(pid) != 12 {
        fail!("wait for child failed");
    }
    seek(fd, 0);
    check!(write(fd, &b) == 1, "write \"child-rox\"");
    close(fd);
}
