// What syn-read and its child-syn-read share (Pintos' `tests/filesys/base/syn-read.h`).

use core::ffi::CStr;

/// Size of the file the children read.
pub const BUF_SIZE: usize = 1024;
pub const FILE_NAME: &CStr = c"data";
