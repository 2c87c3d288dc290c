//! The file-system actions of the kernel command line (Pintos' `fsutil`): `put` and
//! `get` move files through the scratch disk (hd1:0); `ls`, `cat` and `rm` work on the
//! file system alone.
//!
//! The scratch disk holds records one after another: a header sector (`"PUT\0"` or
//! `"GET\0"`, then the size as a little-endian u32, then zeros) and the data padded with
//! zeros to whole sectors. The host's `pintos` writes the PUT records from sector 0 and
//! puts `put NAME` actions (in the same order) before every other action and `get NAME`
//! actions after them all; so one cursor, shared by both actions, first consumes the
//! PUT records and then appends GET records right behind them, where the host reads
//! them back (`emulator/src/pintos/scratch.rs`).

use alloc::vec;

use super::{filesys_create, filesys_open, filesys_readdir, filesys_remove};
use crate::arch::cell::IrqCell;
use crate::devices::block::{self, Block, Role, Sector, SectorBuf, SECTOR_SIZE};

/// The next scratch-disk sector to read (`put`) or write (`get`).
static SCRATCH_CURSOR: IrqCell<Sector> = IrqCell::new(0);

fn scratch_disk() -> &'static Block {
    block::block_get_role(Role::Scratch).unwrap_or_else(|| panic!("couldn't open scratch device"))
}

fn need_filesys() {
    if !super::filesys_mounted() {
        panic!("no file system (attach one with --fs-disk and format it with -f)");
    }
}

/// `put NAME`: copies the next PUT record on the scratch disk into file `name`.
pub fn fsutil_put(name: &str) {
    println!("Putting '{name}' into the file system...");
    need_filesys();
    let scratch = scratch_disk();
    let mut sector = SCRATCH_CURSOR.with(|c| *c);
    let mut buf: SectorBuf = [0; SECTOR_SIZE];
    scratch.read(sector, &mut buf);
    if buf[..4] != *b"PUT\0" {
        panic!("{name}: missing PUT signature on scratch disk");
    }
    let size = u32::from_le_bytes([buf[4], buf[5], buf[6], buf[7]]);
    let sectors = size.div_ceil(SECTOR_SIZE as u32);
    if sector + 1 + sectors > scratch.size() {
        panic!("{name}: {size} bytes run past the end of the scratch disk");
    }
    sector += 1;
    if !filesys_create(name, size) {
        panic!("{name}: create failed");
    }
    let mut file = filesys_open(name).unwrap_or_else(|| panic!("{name}: open failed"));
    let mut left = size as usize;
    while left > 0 {
        scratch.read(sector, &mut buf);
        sector += 1;
        let chunk = left.min(SECTOR_SIZE);
        if file.write(&buf[..chunk]) != chunk {
            panic!("{name}: write failed with {left} bytes unwritten");
        }
        left -= chunk;
    }
    SCRATCH_CURSOR.with(|c| *c = sector);
}

/// `get NAME`: appends file `name` to the scratch disk as a GET record.
pub fn fsutil_get(name: &str) {
    println!("Getting '{name}' from the file system...");
    need_filesys();
    let scratch = scratch_disk();
    let mut file = filesys_open(name).unwrap_or_else(|| panic!("{name}: open failed"));
    let size = file.length();
    let mut sector = SCRATCH_CURSOR.with(|c| *c);
    if sector + 1 + size.div_ceil(SECTOR_SIZE as u32) > scratch.size() {
        panic!("{name}: out of space on scratch device");
    }
    let mut buf: SectorBuf = [0; SECTOR_SIZE];
    buf[..4].copy_from_slice(b"GET\0");
    buf[4..8].copy_from_slice(&size.to_le_bytes());
    scratch.write(sector, &buf);
    sector += 1;
    let mut left = size as usize;
    while left > 0 {
        let chunk = left.min(SECTOR_SIZE);
        buf.fill(0);
        if file.read(&mut buf[..chunk]) != chunk {
            panic!("{name}: read failed with {left} bytes unread");
        }
        scratch.write(sector, &buf);
        sector += 1;
        left -= chunk;
    }
    SCRATCH_CURSOR.with(|c| *c = sector);
}

/// `ls`: lists the root directory.
pub fn fsutil_ls() {
    need_filesys();
    println!("Files in the root directory:");
    let mut pos = 0;
    while let Some(name) = filesys_readdir(&mut pos) {
        println!("{name}");
    }
    println!("End of listing.");
}

/// `cat NAME`: prints file `name` as a hex dump with its text alongside.
pub fn fsutil_cat(name: &str) {
    println!("Printing '{name}' to the console...");
    need_filesys();
    let mut file = filesys_open(name).unwrap_or_else(|| panic!("{name}: open failed"));
    let mut buf = vec![0u8; 1024];
    let mut ofs = 0usize;
    loop {
        let n = file.read(&mut buf);
        if n == 0 {
            break;
        }
        hex_dump(ofs, &buf[..n]);
        ofs += n;
    }
}

/// `rm NAME`: deletes file `name`.
pub fn fsutil_rm(name: &str) {
    println!("Deleting '{name}'...");
    need_filesys();
    if !filesys_remove(name) {
        panic!("{name}: delete failed");
    }
}

/// 16 bytes a line: the offset, the bytes in hex (a `-` between the two halves), and
/// the printable ones between bars.
fn hex_dump(base: usize, data: &[u8]) {
    for (i, line) in data.chunks(16).enumerate() {
        print!("{:016x}  ", base + i * 16);
        for col in 0..16 {
            match line.get(col) {
                Some(b) => print!("{b:02x}"),
                None => print!("  "),
            }
            print!("{}", if col == 7 && line.len() > 8 { '-' } else { ' ' });
        }
        print!("|");
        for &b in line {
            print!("{}", if (0x20..0x7f).contains(&b) { b as char } else { '.' });
        }
        println!("|");
    }
}
