//! The runtime every program links: the `_start` entry, the panic handler and the C
//! memory functions the compiler and the precompiled `core` call.
//!
//! Entry (Pintos-KAIST): the kernel jumps to `_start` with rdi = argc, rsi = argv
//! (argv[argc] = NULL) and a fake return address 0 at [rsp]. `_start` clears rbp (the end
//! of the frame chain), aligns the stack as a call expects and calls the program's main
//! (defined by [`main!`](crate::main)); what main returns becomes the exit status.

use core::arch::{asm, global_asm};
use core::ffi::c_char;

use crate::args::Args;

global_asm!(
    ".globl _start",
    ".type _start, @function",
    "_start:",
    "    xor ebp, ebp",
    "    and rsp, -16",
    "    call {start}",
    "    ud2",
    ".size _start, . - _start",
    start = sym start,
);

extern "C" {
    /// The program's main, defined by `user::main!`.
    fn __pintos_user_main(argc: i32, argv: *const *const c_char) -> i32;
}

/// Sets the test name from argv[0], runs main, exits with its result.
extern "C" fn start(argc: i32, argv: *const *const c_char) -> ! {
    // SAFETY: the kernel passes a valid argument vector of argc strings.
    let args = unsafe { Args::from_raw(argc, argv) };
    if let Some(name) = args.get(0) {
        crate::test::set_test_name(name);
    }
    // SAFETY: defined by `main!` with this signature.
    let status = unsafe { __pintos_user_main(argc, argv) };
    crate::syscall::exit(status)
}

/// A Rust panic ends the process like a kernel kill would: status -1, after a line
/// saying where (Pintos' user `debug_panic` prints "User process ABORT at ...").
#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    // Only a literal message is printed: formatting one would link `core::fmt` (SSE).
    let message = info.message().as_str().unwrap_or("(formatted message)");
    match info.location() {
        Some(l) => crate::println!("User process ABORT at {}:{}: {}", l.file(), l.line(), message),
        None => crate::println!("User process ABORT: {}", message),
    }
    crate::syscall::exit(-1)
}

#[no_mangle]
unsafe extern "C" fn memcpy(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    // SAFETY: the caller guarantees both ranges are valid and do not overlap.
    unsafe { asm!("rep movsb", inout("rdi") dst => _, inout("rsi") src => _, inout("rcx") n => _, options(nostack, preserves_flags)) };
    dst
}

#[no_mangle]
unsafe extern "C" fn memmove(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    if (dst as usize).wrapping_sub(src as usize) >= n {
        // SAFETY: forwards copying never reads a byte already written.
        unsafe { memcpy(dst, src, n) };
    } else {
        // SAFETY: dst overlaps src's tail: copy backwards, DF set only for the copy.
        unsafe {
            asm!("std", "rep movsb", "cld",
                inout("rdi") dst.add(n - 1) => _, inout("rsi") src.add(n - 1) => _, inout("rcx") n => _,
                options(nostack));
        }
    }
    dst
}

#[no_mangle]
unsafe extern "C" fn memset(dst: *mut u8, value: i32, n: usize) -> *mut u8 {
    // SAFETY: the caller guarantees the range is valid.
    unsafe { asm!("rep stosb", inout("rdi") dst => _, inout("rcx") n => _, in("al") value as u8, options(nostack, preserves_flags)) };
    dst
}

#[no_mangle]
unsafe extern "C" fn memcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    for i in 0..n {
        // SAFETY: the caller guarantees both ranges are valid for n bytes.
        let (x, y) = unsafe { (a.add(i).read_volatile(), b.add(i).read_volatile()) };
        if x != y {
            return x as i32 - y as i32;
        }
    }
    0
}

#[no_mangle]
unsafe extern "C" fn bcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    // SAFETY: same contract as memcmp.
    unsafe { memcmp(a, b, n) }
}

/// The precompiled `core` may refer to it; nothing unwinds (panic = abort).
#[no_mangle]
extern "C" fn rust_eh_personality() {}

#[no_mangle]
unsafe extern "C" fn strlen(s: *const c_char) -> usize {
    let mut n = 0;
    // SAFETY: the caller passes a NUL-terminated string.
    while unsafe { s.add(n).read_volatile() } != 0 {
        n += 1;
    }
    n
}
