//! Pintos `child-args`: the args-* body, run by exec-arg.
#![no_std]
#![no_main]

#[path = "shared/args.rs"]
mod args;

user::main!(args::main);
