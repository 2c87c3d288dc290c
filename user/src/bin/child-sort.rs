//! Pintos `child-sort` (for page-merge-seq and -par): `child-sort FILE` reads up to
//! 128 KiB of FILE into static memory, sorts the bytes by counting them, writes them
//! back over the file and exits with 123. Quiet: prints only a failure.
#![no_std]
#![no_main]

use core::ptr::addr_of_mut;

use user::syscall::{close, open, read, seek, write};
use user::test::set_quiet;
use user::{check, Args};

static mut BUF: [u8; 128 * 1024] = [0; 128 * 1024];
static mut COUNTS: [usize; 256] = [0; 256];

user::main!(main);

fn main(args: Args) -> i32 {
    set_quiet(true);
    let file = args.get(1).unwrap_or(c"");
    let fd = open(file);
    check!(fd > 1, "open \"{}\"", file);

    // SAFETY: the only references to these statics, taken once.
    let (buf, counts) = unsafe { (&mut *addr_of_mut!(BUF), &mut *addr_of_mut!(COUNTS)) };
    let size = read(fd, buf).max(0) as usize;
    let data = buf.get_mut(..size).unwrap_or(&mut []);
    for &b in data.iter() {
        if let Some(n) = counts.get_mut(b as usize) {
            *n += 1;
        }
    }
    let mut pos = 0;
    for (value, &n) in counts.iter().enumerate() {
        if let Some(run) = data.get_mut(pos..pos + n) {
            run.fill(value as u8);
        }
        pos += n;
    }
    seek(fd, 0);
    write(fd, data);
    close(fd);
    123
}
