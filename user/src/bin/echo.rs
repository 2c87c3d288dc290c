//! Prints its argument vector the way Pintos' `args-*` tests do: `begin`, `argc = N`,
//! `argv[i] = 'ARG'` for each argument, `argv[N] = null`, `end`; exits with 0.
#![no_std]
#![no_main]

use user::{msg, Args};

user::main!(main);

fn main(args: Args) -> i32 {
    msg!("begin");
    msg!("argc = {}", args.len());
    for (i, arg) in args.iter().enumerate() {
        msg!("argv[{}] = '{}'", i, arg);
    }
    // SAFETY: the ABI puts a NULL after the last argument.
    let last = unsafe { *args.as_ptr().add(args.len()) };
    if last.is_null() {
        msg!("argv[{}] = null", args.len());
    } else {
        user::fail!("argv[{}] is not null", args.len());
    }
    msg!("end");
    0
}
