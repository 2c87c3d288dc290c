// What syn-write and its child-syn-wrt share (Pintos' `tests/filesys/base/syn-write.h`):
// each of the CHILD_CNT children writes its own CHUNK_SIZE-byte chunk of the file.

use core::ffi::CStr;

pub const CHILD_CNT: usize = 10;
pub const CHUNK_SIZE: usize = 512;
/// Size of the file.
pub const BUF_SIZE: usize = CHILD_CNT * CHUNK_SIZE;
pub const FILE_NAME: &CStr = c"stuff";
