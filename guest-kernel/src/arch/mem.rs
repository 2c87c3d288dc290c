//! The C memory functions the compiler and the precompiled `core` call, and the empty
//! `rust_eh_personality` and `_Unwind_Resume` the precompiled `alloc` refers to (we never unwind: panic =
//! abort). Written with `rep movsb`/`rep stosb` so the compiler cannot turn them back
//! into calls to themselves.

use core::arch::asm;

#[no_mangle]
pub unsafe extern "C" fn memcpy(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    // SAFETY: the caller guarantees both ranges are valid and do not overlap.
    unsafe { asm!("rep movsb", inout("rdi") dst => _, inout("rsi") src => _, inout("rcx") n => _, options(nostack, preserves_flags)) }
    dst
}

#[no_mangle]
pub unsafe extern "C" fn memmove(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    if (dst as usize).wrapping_sub(src as usize) >= n {
        // No harmful overlap: copying forwards never reads a byte already written.
        // SAFETY: the caller guarantees both ranges are valid.
        unsafe { memcpy(dst, src, n) };
    } else {
        // dst overlaps the tail of src: copy backwards, with DF set only for the copy.
        // SAFETY: as above; DF is restored before returning (the ABI wants it clear).
        unsafe {
            asm!("std", "rep movsb", "cld",
                inout("rdi") dst.add(n - 1) => _, inout("rsi") src.add(n - 1) => _, inout("rcx") n => _,
                options(nostack));
        }
    }
    dst
}

#[no_mangle]
pub unsafe extern "C" fn memset(dst: *mut u8, value: i32, n: usize) -> *mut u8 {
    // SAFETY: the caller guarantees the range is valid.
    unsafe { asm!("rep stosb", inout("rdi") dst => _, inout("rcx") n => _, in("al") value as u8, options(nostack, preserves_flags)) }
    dst
}

#[no_mangle]
pub unsafe extern "C" fn memcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    for i in 0..n {
        // SAFETY: the caller guarantees both ranges are valid for n bytes.
        let (x, y) = unsafe { (a.add(i).read(), b.add(i).read()) };
        if x != y {
            return x as i32 - y as i32;
        }
    }
    0
}

#[no_mangle]
pub unsafe extern "C" fn bcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    // SAFETY: same contract as memcmp.
    unsafe { memcmp(a, b, n) }
}

#[no_mangle]
pub extern "C" fn rust_eh_personality() {}

/// Referenced by the precompiled `alloc`'s landing pads (e.g. in `format!`); never called,
/// since panics abort.
#[no_mangle]
pub extern "C" fn _Unwind_Resume() -> ! {
    panic!("_Unwind_Resume: unwinding is not supported")
}
