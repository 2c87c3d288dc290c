//! User programs (Pintos project 2): processes, the ELF loader, system calls and
//! exceptions from user mode.
//!
//! - `process`: the initial process (`run 'PROG ARGS'`), fork, exec, wait, exit;
//! - `load`: the ELF64 loader and the argument-passing stack;
//! - `syscall`: the system calls (entry stub in `arch::user`);
//! - `exception`: a fault in user mode kills the process with exit(-1).

pub mod exception;
pub mod load;
pub mod process;
pub mod syscall;

/// Sets up the `syscall` MSRs and the exception handlers.
pub fn init() {
    crate::arch::user::init();
    exception::init();
}
