//! Pintos `args-single`: prints its argument vector under the test name "args" (see
//! shared/args.rs). Expected output: tests/expected/userprog/args-single.exp.
#![no_std]
#![no_main]

#[path = "shared/args.rs"]
mod args;

user::main!(args::main);
