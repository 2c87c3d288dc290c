//! Open files: an open inode plus a position, as Pintos' `struct file`.
//!
//! Each operation takes the file-system lock itself. Dropping a `File` closes it (which
//! frees a removed file's sectors if it was the last opener), so a `File` must not be
//! dropped inside the file system's own code while the lock is held.

use super::{with_fs, FileSys};
use crate::devices::block::Sector;

/// An open file.
pub struct File {
    inode: Sector,
    pos: u32,
    /// Whether this handle called `deny_write` (undone when it closes).
    deny_write: bool,
}

impl File {
    /// Wraps an inode the caller has just opened.
    pub(super) fn new(inode: Sector) -> File {
        File { inode, pos: 0, deny_write: false }
    }

    /// Another handle on the same inode, with its own position at 0 (`file_reopen`).
    pub fn reopen(&self) -> File {
        with_fs(|fs| fs.inode_reopen(self.inode));
        File::new(self.inode)
    }

    /// A copy with the same position and write denial (`file_duplicate`, for fork).
    pub fn duplicate(&self) -> File {
        let mut f = self.reopen();
        f.pos = self.pos;
        if self.deny_write {
            f.deny_write();
        }
        f
    }

    /// The inode's sector, which identifies the file (`inode_get_inumber`).
    pub fn inumber(&self) -> Sector {
        self.inode
    }

    /// Reads at the position and advances it; returns the bytes read (0 at the end).
    pub fn read(&mut self, buf: &mut [u8]) -> usize {
        let n = self.read_at(buf, self.pos);
        self.pos += n as u32;
        n
    }

    /// Reads at `offset`, leaving the position alone.
    pub fn read_at(&self, buf: &mut [u8], offset: u32) -> usize {
        with_fs(|fs| fs.inode_read_at(self.inode, buf, offset))
    }

    /// Writes at the position and advances it; returns the bytes written, fewer than
    /// asked at the end of the file (files do not grow) and none while writes are denied.
    pub fn write(&mut self, buf: &[u8]) -> usize {
        let n = self.write_at(buf, self.pos);
        self.pos += n as u32;
        n
    }

    /// Writes at `offset`, leaving the position alone.
    pub fn write_at(&self, buf: &[u8], offset: u32) -> usize {
        with_fs(|fs| fs.inode_write_at(self.inode, buf, offset))
    }

    /// Size in bytes.
    pub fn length(&self) -> u32 {
        with_fs(|fs| fs.inode_length(self.inode))
    }

    /// Moves the position (past the end is allowed: reads there return 0 bytes).
    pub fn seek(&mut self, pos: u32) {
        self.pos = pos;
    }

    pub fn tell(&self) -> u32 {
        self.pos
    }

    /// Makes writes to the file fail, through every handle, until `allow_write` or
    /// until this handle closes (an executable while it runs).
    pub fn deny_write(&mut self) {
        if !self.deny_write {
            self.deny_write = true;
            with_fs(|fs| fs.inode_deny_write(self.inode));
        }
    }

    /// Undoes this handle's `deny_write`.
    pub fn allow_write(&mut self) {
        if self.deny_write {
            self.deny_write = false;
            with_fs(|fs| fs.inode_allow_write(self.inode));
        }
    }

    fn close(&mut self, fs: &mut FileSys) {
        if self.deny_write {
            self.deny_write = false;
            fs.inode_allow_write(self.inode);
        }
        fs.inode_close(self.inode);
    }
}

impl Drop for File {
    fn drop(&mut self) {
        // After `filesys_done` there is nothing left to close.
        if super::filesys_mounted() {
            with_fs(|fs| self.close(fs));
        }
    }
}
