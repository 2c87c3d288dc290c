//! `leak-loop N`: N rounds of everything a process can make the kernel allocate, for
//! the leak check (disk-images/tests/leaks.rs): per round, a child that opens and
//! dup2()s files and exits; a child that does the same and dies on a bad pointer; a
//! child that execs `leak-loop child` (which opens files and exits with 7); a child
//! whose exec fails (missing program); a child that forks a grandchild and exits
//! without waiting for it; and files opened, dup'd and closed by the parent itself. The
//! kernel's free pages and heap use at power-off must equal those before the first
//! process.
#![no_std]
#![no_main]

#[path = "shared/cmd.rs"]
#[allow(dead_code)]
mod cmd;

use user::syscall::{close, dup2, exec, exit, fork, open, wait};
use user::{fail, msg, Args};

user::main!(main);

/// Opens the program's own file `n` times and makes a few copies; leaves them open.
fn open_some(n: i32) {
    for i in 0..n {
        let fd = open(c"leak-loop");
        if fd < 0 {
            fail!("open failed");
        }
        if i % 3 == 0 {
            dup2(fd, 100 + i);
        }
    }
    dup2(1, 300);
}

/// Forks a child that runs `body`; returns its status.
fn in_child(name: &core::ffi::CStr, body: fn()) -> i32 {
    let pid = fork(name);
    if pid == 0 {
        body();
        exit(0);
    }
    if pid < 0 {
        fail!("fork failed");
    }
    wait(pid)
}

fn main(args: Args) -> i32 {
    if args.get(1).is_some_and(|a| a.to_bytes() == b"child") {
        open_some(5);
        return 7;
    }
    let rounds = args.get(1).map(cmd::atoi).unwrap_or(1);
    for _ in 0..rounds {
        let a = in_child(c"opener", || {
            open_some(20);
            exit(3);
        });
        let b = in_child(c"crasher", || {
            open_some(10);
            close(0);
            // SAFETY: none: the read faults and the kernel ends the process.
            unsafe { core::ptr::read_volatile(core::ptr::null::<u8>()) };
        });
        let c = in_child(c"execer", || {
            open_some(4);
            exec(c"leak-loop child");
            fail!("exec returned");
        });
        let d = in_child(c"bad-exec", || {
            exec(c"no-such-program");
            exit(5);
        });
        let e = in_child(c"orphaner", || {
            let pid = fork(c"orphan");
            if pid == 0 {
                open_some(3);
                exit(9);
            }
            exit(4);
        });
        if (a, b, c, d, e) != (3, -1, 7, -1, 4) {
            fail!("statuses {} {} {} {} {}", a, b, c, d, e);
        }
        let fd = open(c"leak-loop");
        let copy = dup2(fd, 200);
        close(fd);
        close(copy);
    }
    msg!("{} rounds", rounds);
    0
}
