// Shared body of the args-* programs (Pintos' `tests/userprog/args.c` behaviour): the
// test name is "args" whatever the program is called, then argc, every argv entry and
// the terminating null. Included by args-none.rs, args-single.rs, ... with `#[path]`.

use user::test::set_test_name;
use user::{msg, Args};

pub fn main(args: Args) -> i32 {
    set_test_name(c"args");
    if args.as_ptr() as usize % 8 != 0 {
        msg!("argv and stack must be word-aligned, actually {}", args.as_ptr());
    }
    msg!("begin");
    msg!("argc = {}", args.len());
    for (i, arg) in args.iter().enumerate() {
        msg!("argv[{}] = '{}'", i, arg);
    }
    // SAFETY: the ABI puts a NULL after the last argument; reading it is what the test checks.
    let last = unsafe { *args.as_ptr().add(args.len()) };
    if last.is_null() {
        msg!("argv[{}] = null", args.len());
    } else {
        msg!("argv[{}] = {} (not null)", args.len(), last);
    }
    msg!("end");
    0
}
