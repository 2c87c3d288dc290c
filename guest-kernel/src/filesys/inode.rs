//! Inodes: a file's length and where its data lies.
//!
//! The on-disk inode fills one sector: the first data sector, the length in bytes and a
//! magic number (little-endian u32s), then zeros. A file's data is one contiguous run of
//! sectors fixed at creation, as in base Pintos, so a write never goes past the length.
//!
//! Open inodes live in `FileSys::inodes`, keyed by their sector, so every opener of a
//! sector shares one entry with an open count. Removing an inode only marks it: the
//! directory entry is already gone, but the inode and its data stay allocated (and
//! readable through the handles still open) until the last opener closes it.

use super::FileSys;
use crate::devices::block::{Sector, SectorBuf, SECTOR_SIZE};

/// Identifies an inode sector ("INOD"), so mounting a disk that holds no file system
/// fails instead of trusting garbage.
const INODE_MAGIC: u32 = 0x494e_4f44;

/// Sectors needed for `bytes` bytes of data.
pub fn bytes_to_sectors(bytes: u32) -> u32 {
    bytes.div_ceil(SECTOR_SIZE as u32)
}

/// The on-disk inode.
#[derive(Clone, Copy, Debug)]
pub struct DiskInode {
    /// First data sector (meaningless for an empty file).
    pub start: Sector,
    /// File size in bytes.
    pub length: u32,
}

impl DiskInode {
    fn encode(&self) -> SectorBuf {
        let mut buf = [0; SECTOR_SIZE];
        buf[0..4].copy_from_slice(&self.start.to_le_bytes());
        buf[4..8].copy_from_slice(&self.length.to_le_bytes());
        buf[8..12].copy_from_slice(&INODE_MAGIC.to_le_bytes());
        buf
    }

    fn decode(buf: &SectorBuf) -> Option<DiskInode> {
        let word = |i: usize| u32::from_le_bytes([buf[i], buf[i + 1], buf[i + 2], buf[i + 3]]);
        (word(8) == INODE_MAGIC).then(|| DiskInode { start: word(0), length: word(4) })
    }
}

/// An open inode's shared state.
pub struct OpenInode {
    disk: DiskInode,
    open_cnt: u32,
    removed: bool,
    /// While positive, writes fail (an executable being run, from project 2's rox tests).
    deny_write_cnt: u32,
}

impl FileSys {
    fn open_inode(&mut self, sector: Sector) -> &mut OpenInode {
        self.inodes.get_mut(&sector).unwrap_or_else(|| panic!("inode {sector} is not open"))
    }

    /// Writes a new inode for `length` bytes at `sector`, allocating and zeroing its
    /// data. Fails if the disk has no run of free sectors that long.
    pub(super) fn inode_create(&mut self, sector: Sector, length: u32) -> bool {
        let sectors = bytes_to_sectors(length);
        let start = if sectors == 0 {
            0
        } else {
            match self.free_map_allocate(sectors) {
                Some(s) => s,
                None => return false,
            }
        };
        let zeros = [0; SECTOR_SIZE];
        for s in start..start + sectors {
            self.disk.write(s, &zeros);
        }
        self.disk.write(sector, &DiskInode { start, length }.encode());
        true
    }

    /// Opens the inode at `sector` (sharing it if it is open already); None if the sector
    /// holds no inode.
    pub(super) fn inode_open(&mut self, sector: Sector) -> Option<()> {
        if let Some(inode) = self.inodes.get_mut(&sector) {
            inode.open_cnt += 1;
            return Some(());
        }
        let mut buf = [0; SECTOR_SIZE];
        self.disk.read(sector, &mut buf);
        let disk = DiskInode::decode(&buf)?;
        self.inodes.insert(sector, OpenInode { disk, open_cnt: 1, removed: false, deny_write_cnt: 0 });
        Some(())
    }

    /// One more opener of an inode that is already open.
    pub(super) fn inode_reopen(&mut self, sector: Sector) {
        self.open_inode(sector).open_cnt += 1;
    }

    /// One opener fewer; the last one frees a removed inode's sectors.
    pub(super) fn inode_close(&mut self, sector: Sector) {
        let inode = self.open_inode(sector);
        inode.open_cnt -= 1;
        if inode.open_cnt > 0 {
            return;
        }
        let inode = self.inodes.remove(&sector).expect("open inode");
        if inode.removed {
            self.free_map_release(sector, 1);
            let sectors = bytes_to_sectors(inode.disk.length);
            if sectors > 0 {
                self.free_map_release(inode.disk.start, sectors);
            }
        }
    }

    /// Marks an open inode for deletion when its last opener closes it.
    pub(super) fn inode_remove(&mut self, sector: Sector) {
        self.open_inode(sector).removed = true;
    }

    pub(super) fn inode_length(&mut self, sector: Sector) -> u32 {
        self.open_inode(sector).disk.length
    }

    pub(super) fn inode_deny_write(&mut self, sector: Sector) {
        let inode = self.open_inode(sector);
        inode.deny_write_cnt += 1;
        assert!(inode.deny_write_cnt <= inode.open_cnt);
    }

    pub(super) fn inode_allow_write(&mut self, sector: Sector) {
        let inode = self.open_inode(sector);
        assert!(inode.deny_write_cnt > 0, "allow_write without deny_write");
        inode.deny_write_cnt -= 1;
    }

    /// Reads up to `buf.len()` bytes at `offset`; returns how many (fewer at the end of
    /// the file).
    pub(super) fn inode_read_at(&mut self, sector: Sector, buf: &mut [u8], offset: u32) -> usize {
        let disk = self.open_inode(sector).disk;
        let (len, mut off, mut done) = (disk.length as usize, offset as usize, 0);
        let mut bounce = [0; SECTOR_SIZE];
        while done < buf.len() && off < len {
            let data_sector = disk.start + (off / SECTOR_SIZE) as u32;
            let in_sector = off % SECTOR_SIZE;
            let chunk = (buf.len() - done).min(len - off).min(SECTOR_SIZE - in_sector);
            match <&mut SectorBuf>::try_from(&mut buf[done..done + chunk]) {
                // A whole sector goes straight into the caller's buffer.
                Ok(whole) => self.disk.read(data_sector, whole),
                Err(_) => {
                    self.disk.read(data_sector, &mut bounce);
                    buf[done..done + chunk].copy_from_slice(&bounce[in_sector..in_sector + chunk]);
                }
            }
            done += chunk;
            off += chunk;
        }
        done
    }

    /// Writes up to `buf.len()` bytes at `offset`; returns how many (fewer at the end of
    /// the file, which does not grow; none while writes are denied).
    pub(super) fn inode_write_at(&mut self, sector: Sector, buf: &[u8], offset: u32) -> usize {
        let inode = self.open_inode(sector);
        if inode.deny_write_cnt > 0 {
            return 0;
        }
        let disk = inode.disk;
        let (len, mut off, mut done) = (disk.length as usize, offset as usize, 0);
        let mut bounce = [0; SECTOR_SIZE];
        while done < buf.len() && off < len {
            let data_sector = disk.start + (off / SECTOR_SIZE) as u32;
            let in_sector = off % SECTOR_SIZE;
            let chunk = (buf.len() - done).min(len - off).min(SECTOR_SIZE - in_sector);
            match <&SectorBuf>::try_from(&buf[done..done + chunk]) {
                Ok(whole) => self.disk.write(data_sector, whole),
                Err(_) => {
                    // Part of a sector: keep the bytes around it.
                    self.disk.read(data_sector, &mut bounce);
                    bounce[in_sector..in_sector + chunk].copy_from_slice(&buf[done..done + chunk]);
                    self.disk.write(data_sector, &bounce);
                }
            }
            done += chunk;
            off += chunk;
        }
        done
    }
}
