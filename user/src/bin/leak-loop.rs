//! `leak-loop N`: N rounds of everything a process can make the kernel allocate, for
//! the leak check (disk-images/tests/leaks.rs): per round, a child that opens and
//! dup2()s files and exits; a child that does the same and dies on a bad pointer; a
//! child that execs `leak-loop child` (which opens files and exits with 7); a child
//! whose exec fails (missing program); a child whose exec fails because its arguments
//! do not fit the one-page user stack; a child that passes exec a command line longer
//! than the kernel reads (and is killed); a child that forks a grandchild and exits
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

/// Room for the over-long command lines.
static mut LONG: [u8; 6000] = [0; 6000];

/// `leak-loop x x x ...`, `len` bytes long, NUL-terminated, in LONG.
fn long_command(len: usize) -> &'static core::ffi::CStr {
    // SAFETY: one thread; LONG is only used here, and the slice ends before the NUL slot.
    let buf = unsafe { &mut *core::ptr::addr_of_mut!(LONG) };
    let len = len.min(buf.len() - 1);
    for (i, b) in buf.iter_mut().enumerate() {
        *b = match i {
            _ if i >= len => 0,
            0..9 => b"leak-loop".get(i).copied().unwrap_or(b' '),
            _ if i % 2 == 1 => b' ',
            _ => b'x',
        };
    }
    core::ffi::CStr::from_bytes_until_nul(buf).unwrap_or(c"")
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
        // 1,500 arguments need 15 KB of stack: the load fails, the process exits -1.
        let f = in_child(c"big-args", || {
            exec(long_command(3009));
            exit(5);
        });
        // Longer than the 4 KiB the kernel reads of a string: the process is killed.
        let g = in_child(c"huge-cmd", || {
            exec(long_command(5000));
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
        if (a, b, c, d, e, f, g) != (3, -1, 7, -1, 4, -1, -1) {
            fail!("statuses {} {} {} {} {} {} {}", a, b, c, d, e, f, g);
        }
        let fd = open(c"leak-loop");
        let copy = dup2(fd, 200);
        close(fd);
        close(copy);
    }
    // Give the last orphan time to finish before this process (and the run) ends.
    for _ in 0..3 {
        in_child(c"last", || exit(0));
    }
    msg!("{} rounds", rounds);
    0
}
