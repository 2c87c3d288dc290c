//! `stdin-echo N [CHUNK]`: reads N bytes of console input from file descriptor 0, CHUNK
//! bytes per `read` (default: all N at once), checks each read returns exactly what it
//! asked for (a read from stdin waits until it has them all), then writes them back to
//! the console between two message lines.
#![no_std]
#![no_main]

#[path = "shared/cmd.rs"]
mod cmd;

use user::syscall::{read, write};
use user::{fail, msg, Args};

user::main!(main);

static mut BUF: [u8; 4096] = [0; 4096];

fn main(args: Args) -> i32 {
    user::test::set_test_name(c"stdin-echo");
    let total = args.get(1).map_or(0, cmd::atoi).clamp(0, 4096) as usize;
    let chunk = args.get(2).map_or(total as i32, cmd::atoi).max(1) as usize;
    // SAFETY: single-threaded program; the only reference to BUF.
    let buf = unsafe { &mut *core::ptr::addr_of_mut!(BUF) };
    let mut done = 0;
    while done < total {
        let n = chunk.min(total - done);
        let Some(part) = buf.get_mut(done..done + n) else { fail!("bad range") };
        let got = read(0, part);
        if got != n as i32 {
            fail!("read({}) from stdin returned {}", n, got);
        }
        done += n;
    }
    msg!("read {} bytes", done);
    write(1, buf.get(..done).unwrap_or(&[]));
    msg!("end");
    0
}
