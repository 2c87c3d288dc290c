//! Directories: a file of fixed-size entries. Only the root directory exists (there are
//! no subdirectories before project 4), and it cannot grow past the entries it was
//! created with.
//!
//! An entry is 20 bytes: the inode sector (u32, little-endian), the name (at most
//! `NAME_MAX` bytes, NUL-padded to 15), and an in-use byte. Removing a file clears the
//! in-use byte, and the slot is reused by the next file added.

use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use super::FileSys;
use crate::devices::block::Sector;

/// Longest file name, in bytes.
pub const NAME_MAX: usize = 14;
/// Bytes per directory entry.
const ENTRY_SIZE: usize = 20;
const IN_USE: usize = 4 + NAME_MAX + 1;

/// Whether `name` can be a file name: 1 to `NAME_MAX` bytes, no NUL (it ends a name on
/// disk) and no `/` (reserved for paths).
pub fn name_ok(name: &str) -> bool {
    !name.is_empty() && name.len() <= NAME_MAX && !name.bytes().any(|b| b == 0 || b == b'/')
}

/// A directory entry.
#[derive(Clone, Copy)]
pub struct DirEntry {
    pub sector: Sector,
    name: [u8; NAME_MAX + 1],
    pub in_use: bool,
}

impl DirEntry {
    fn new(name: &str, sector: Sector) -> DirEntry {
        let mut n = [0; NAME_MAX + 1];
        n[..name.len()].copy_from_slice(name.as_bytes());
        DirEntry { sector, name: n, in_use: true }
    }

    pub fn name(&self) -> &[u8] {
        let len = self.name.iter().position(|&b| b == 0).unwrap_or(NAME_MAX);
        &self.name[..len]
    }

    fn encode(&self) -> [u8; ENTRY_SIZE] {
        let mut b = [0; ENTRY_SIZE];
        b[..4].copy_from_slice(&self.sector.to_le_bytes());
        b[4..IN_USE].copy_from_slice(&self.name);
        b[IN_USE] = self.in_use as u8;
        b
    }

    fn decode(b: &[u8; ENTRY_SIZE]) -> DirEntry {
        let mut name = [0; NAME_MAX + 1];
        name.copy_from_slice(&b[4..IN_USE]);
        DirEntry { sector: u32::from_le_bytes([b[0], b[1], b[2], b[3]]), name, in_use: b[IN_USE] != 0 }
    }
}

impl FileSys {
    /// Creates a directory inode at `sector` with room for `entries` entries.
    pub(super) fn dir_create(&mut self, sector: Sector, entries: usize) -> bool {
        self.inode_create(sector, (entries * ENTRY_SIZE) as u32)
    }

    /// Every slot of directory `dir`, in use or not; slot `i` is at byte `i * ENTRY_SIZE`.
    /// One read of the whole file: a directory is a few sectors, and reading it entry
    /// by entry would cost a disk access per entry.
    fn dir_slots(&mut self, dir: Sector) -> Vec<DirEntry> {
        let mut bytes = vec![0; self.inode_length(dir) as usize];
        let n = self.inode_read_at(dir, &mut bytes, 0);
        bytes[..n].chunks_exact(ENTRY_SIZE).map(|c| DirEntry::decode(c.try_into().expect("exact chunk"))).collect()
    }

    /// The entry called `name` in `dir` and its byte offset.
    pub(super) fn dir_lookup(&mut self, dir: Sector, name: &str) -> Option<(DirEntry, u32)> {
        let slots = self.dir_slots(dir);
        let i = slots.iter().position(|e| e.in_use && e.name() == name.as_bytes())?;
        Some((slots[i], (i * ENTRY_SIZE) as u32))
    }

    /// Adds `name` → `sector` to `dir` in its first free slot. Fails for a bad or taken
    /// name, or a full directory.
    pub(super) fn dir_add(&mut self, dir: Sector, name: &str, sector: Sector) -> bool {
        if !name_ok(name) {
            return false;
        }
        let slots = self.dir_slots(dir);
        if slots.iter().any(|e| e.in_use && e.name() == name.as_bytes()) {
            return false;
        }
        let free = slots.iter().position(|e| !e.in_use).unwrap_or(slots.len());
        // Past the last slot the write comes back short: the directory is full.
        self.inode_write_at(dir, &DirEntry::new(name, sector).encode(), (free * ENTRY_SIZE) as u32) == ENTRY_SIZE
    }

    /// Removes `name` from `dir` and marks its inode removed (freed at its last close).
    pub(super) fn dir_remove(&mut self, dir: Sector, name: &str) -> bool {
        let Some((mut entry, ofs)) = self.dir_lookup(dir, name) else { return false };
        if self.inode_open(entry.sector).is_none() {
            return false;
        }
        entry.in_use = false;
        let ok = self.inode_write_at(dir, &entry.encode(), ofs) == ENTRY_SIZE;
        if ok {
            self.inode_remove(entry.sector);
        }
        self.inode_close(entry.sector);
        ok
    }

    /// The name of the first in-use entry of `dir` at or after byte offset `*pos`, moving
    /// `*pos` past it (`dir_readdir`; a caller keeps `*pos` between calls, from 0).
    pub(super) fn dir_readdir(&mut self, dir: Sector, pos: &mut u32) -> Option<String> {
        let slots = self.dir_slots(dir);
        let first = (*pos as usize).div_ceil(ENTRY_SIZE);
        let i = first + slots.get(first..)?.iter().position(|e| e.in_use)?;
        *pos = ((i + 1) * ENTRY_SIZE) as u32;
        // Names are written from `&str`, so they are UTF-8 unless the disk was changed
        // behind our back.
        Some(String::from_utf8_lossy(slots[i].name()).into_owned())
    }

    /// The names in `dir`, in entry order (one read of the directory).
    pub(super) fn dir_names(&mut self, dir: Sector) -> Vec<String> {
        self.dir_slots(dir).iter().filter(|e| e.in_use).map(|e| String::from_utf8_lossy(e.name()).into_owned()).collect()
    }
}
