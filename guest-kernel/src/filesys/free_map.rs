//! The free map: one bit per sector of the file-system disk (set = in use), kept in
//! memory and stored in an ordinary file whose inode is at `FREE_MAP_SECTOR`.
//!
//! Bit `i` is bit `i % 8` of byte `i / 8` of the file, which is exactly as long as the
//! disk needs. Every change is written to the file at once (only the sectors of the
//! file that changed), so the disk is consistent after each operation.

use alloc::vec;
use alloc::vec::Vec;

use super::{FileSys, FREE_MAP_SECTOR, ROOT_DIR_SECTOR};
use crate::devices::block::Sector;

pub struct FreeMap {
    bits: Vec<u8>,
    sectors: u32,
    /// Whether the free-map file exists yet: while `-f` creates it, allocations (its own
    /// data's) stay in memory and are written once the file is there.
    file_open: bool,
}

impl FreeMap {
    /// A map of `sectors` sectors with the two fixed inode sectors in use.
    pub fn new(sectors: u32) -> FreeMap {
        let mut map = FreeMap { bits: vec![0; sectors.div_ceil(8) as usize], sectors, file_open: false };
        map.set(FREE_MAP_SECTOR, true);
        map.set(ROOT_DIR_SECTOR, true);
        map
    }

    fn get(&self, s: Sector) -> bool {
        self.bits[s as usize / 8] & (1 << (s % 8)) != 0
    }

    fn set(&mut self, s: Sector, used: bool) {
        if used {
            self.bits[s as usize / 8] |= 1 << (s % 8);
        } else {
            self.bits[s as usize / 8] &= !(1 << (s % 8));
        }
    }

    /// Free sectors.
    pub fn free_count(&self) -> u32 {
        (0..self.sectors).filter(|&s| !self.get(s)).count() as u32
    }

    /// The first run of `count` free sectors (first fit).
    fn find_run(&self, count: u32) -> Option<Sector> {
        let mut run = 0;
        for s in 0..self.sectors {
            run = if self.get(s) { 0 } else { run + 1 };
            if run == count {
                return Some(s + 1 - count);
            }
        }
        None
    }
}

impl FileSys {
    /// Allocates `count` consecutive sectors; None if no run that long is free.
    pub(super) fn free_map_allocate(&mut self, count: u32) -> Option<Sector> {
        let start = self.free_map.find_run(count)?;
        for s in start..start + count {
            self.free_map.set(s, true);
        }
        self.free_map_store(start, count);
        Some(start)
    }

    /// Frees `count` sectors from `start`, all of which must be in use.
    pub(super) fn free_map_release(&mut self, start: Sector, count: u32) {
        for s in start..start + count {
            assert!(self.free_map.get(s), "freeing free sector {s}");
            self.free_map.set(s, false);
        }
        self.free_map_store(start, count);
    }

    /// Writes the bytes holding the bits of sectors `start..start + count` to the file.
    fn free_map_store(&mut self, start: Sector, count: u32) {
        if !self.free_map.file_open || count == 0 {
            return;
        }
        let (first, last) = (start as usize / 8, (start + count - 1) as usize / 8);
        let bytes = self.free_map.bits[first..=last].to_vec();
        let written = self.inode_write_at(FREE_MAP_SECTOR, &bytes, first as u32);
        assert_eq!(written, bytes.len(), "free map file too short");
    }

    /// Creates the free-map file on a fresh disk (`-f`) and writes the map into it.
    pub(super) fn free_map_create(&mut self) {
        let len = self.free_map.bits.len() as u32;
        assert!(self.inode_create(FREE_MAP_SECTOR, len), "free map creation failed");
        self.inode_open(FREE_MAP_SECTOR).expect("free map inode just written");
        self.free_map.file_open = true;
        self.free_map_store(0, self.free_map.sectors);
    }

    /// Loads the free map from its file on an existing file system.
    pub(super) fn free_map_open(&mut self) -> Result<(), &'static str> {
        self.inode_open(FREE_MAP_SECTOR).ok_or("no free map inode")?;
        let len = self.free_map.bits.len();
        if self.inode_length(FREE_MAP_SECTOR) as usize != len {
            return Err("free map does not match the disk size");
        }
        let mut bits = vec![0; len];
        self.inode_read_at(FREE_MAP_SECTOR, &mut bits, 0);
        self.free_map.bits = bits;
        self.free_map.file_open = true;
        if !self.free_map.get(FREE_MAP_SECTOR) || !self.free_map.get(ROOT_DIR_SECTOR) {
            return Err("free map does not cover its own inodes");
        }
        Ok(())
    }
}
