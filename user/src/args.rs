//! The argument vector the kernel builds on the user stack.

use core::ffi::{c_char, CStr};

/// argc and argv as `_start` received them; the strings live for the whole process.
#[derive(Clone, Copy)]
pub struct Args {
    argc: usize,
    argv: *const *const c_char,
}

impl Args {
    /// # Safety
    /// `argv` must point to `argc` valid NUL-terminated strings that are never freed.
    pub unsafe fn from_raw(argc: i32, argv: *const *const c_char) -> Args {
        Args { argc: if argv.is_null() { 0 } else { argc.max(0) as usize }, argv }
    }

    pub fn len(&self) -> usize {
        self.argc
    }

    pub fn is_empty(&self) -> bool {
        self.argc == 0
    }

    /// argv[i], or None past the end.
    pub fn get(&self, i: usize) -> Option<&'static CStr> {
        if i >= self.argc {
            return None;
        }
        // SAFETY: `from_raw`'s contract: argv[0..argc] are valid, lasting strings.
        unsafe {
            let p = *self.argv.add(i);
            (!p.is_null()).then(|| CStr::from_ptr(p))
        }
    }

    /// The raw vector (argv[argc] is NULL when the kernel follows the ABI).
    pub fn as_ptr(&self) -> *const *const c_char {
        self.argv
    }

    pub fn iter(&self) -> impl Iterator<Item = &'static CStr> + '_ {
        (0..self.argc).filter_map(|i| self.get(i))
    }
}
