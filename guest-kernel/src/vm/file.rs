//! File-backed pages (Pintos-KAIST's `file`): the pages of `mmap`. A page reads its part
//! of the file on its first fault (zeros past the end of the file) and is written back
//! only if it was written: when it is evicted, unmapped, or its process exits. A clean
//! page is simply dropped and read again when needed.
//!
//! A mapping keeps its own reopened `File`, so it outlives `close` of the descriptor and
//! `remove` of the file.

use alloc::sync::Arc;

use crate::arch::io::with_frame;
use crate::filesys::file::File;

/// Where a file-backed page comes from.
#[derive(Clone)]
pub struct FilePage {
    pub file: Arc<File>,
    pub offset: u32,
    /// Bytes of the page that come from the file (the rest is zero and never written
    /// back).
    pub read_bytes: u16,
}

impl FilePage {
    /// Reads the page into the frame at `kva` (may sleep on the file system); returns the
    /// bytes read from the file (the rest of the page is zero).
    pub fn read_into(&self, kva: u64) -> usize {
        with_frame(kva, |page| {
            let n = self.file.read_at(&mut page[..self.read_bytes as usize], self.offset);
            page[n..].fill(0);
            n
        })
    }

    /// Writes the file's part of the page at `kva` back to the file.
    pub fn write_back(&self, kva: u64) {
        with_frame(kva, |page| self.file.write_at(&page[..self.read_bytes as usize], self.offset));
    }
}
