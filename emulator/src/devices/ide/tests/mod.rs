//! Register-level tests of the controller, one behaviour per test, driven through the
//! port interface as a guest would.

use super::disk::tests::TempPath;
use super::*;

// ---- helpers --------------------------------------------------------------------------

/// Byte `i` of sector `lba` of the disk tagged `tag`.
fn pattern(tag: u8, lba: u64, i: usize) -> u8 {
    (lba as u8).wrapping_mul(31) ^ ((lba >> 8) as u8).wrapping_mul(7) ^ (i as u8) ^ tag
}

fn patterned_disk(tag: u8, sectors: u64) -> Disk {
    let mut data = vec![0u8; sectors as usize * SECTOR_SIZE];
    for (n, b) in data.iter_mut().enumerate() {
        *b = pattern(tag, (n / SECTOR_SIZE) as u64, n % SECTOR_SIZE);
    }
    Disk::from_bytes(data).unwrap()
}

/// Drive position `ch * 2 + dev` gets tag `ch * 2 + dev + 1` and `(tag) * 100` sectors.
fn four_disks() -> IdeController {
    let d = |ch: u8, dev: u8| {
        Some(patterned_disk(
            ch * 2 + dev + 1,
            (ch * 2 + dev + 1) as u64 * 100,
        ))
    };
    IdeController::new([[d(0, 0), d(0, 1)], [d(1, 0), d(1, 1)]])
}

fn outb(c: &mut IdeController, port: u16, v: u8) {
    c.write(port, 1, v as u32);
}

fn inb(c: &mut IdeController, port: u16) -> u8 {
    c.read(port, 1) as u8
}

fn reg(ch: usize, r: u16) -> u16 {
    COMMAND_BASE[ch] + r
}

fn select(c: &mut IdeController, ch: usize, dev: usize) {
    outb(c, reg(ch, REG_DEVICE), 0xa0 | (dev as u8) << 4);
}

/// Loads an LBA28 address and count for `dev`.
fn setup_lba(c: &mut IdeController, ch: usize, dev: usize, lba: u32, count: u8) {
    outb(
        c,
        reg(ch, REG_DEVICE),
        0xe0 | (dev as u8) << 4 | ((lba >> 24) as u8 & 0x0f),
    );
    outb(c, reg(ch, REG_SECTOR_COUNT), count);
    outb(c, reg(ch, REG_LBA_LOW), lba as u8);
    outb(c, reg(ch, REG_LBA_MID), (lba >> 8) as u8);
    outb(c, reg(ch, REG_LBA_HIGH), (lba >> 16) as u8);
}

fn issue(c: &mut IdeController, ch: usize, dev: usize, cmd: u8, lba: u32, count: u8) {
    setup_lba(c, ch, dev, lba, count);
    outb(c, reg(ch, REG_STATUS), cmd);
}

fn status(c: &mut IdeController, ch: usize) -> u8 {
    inb(c, reg(ch, REG_STATUS))
}

fn alt_status(c: &mut IdeController, ch: usize) -> u8 {
    inb(c, CONTROL_PORT[ch])
}

fn read_words(c: &mut IdeController, ch: usize, words: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(words * 2);
    for _ in 0..words {
        out.extend_from_slice(&(c.read(reg(ch, REG_DATA), 2) as u16).to_le_bytes());
    }
    out
}

fn write_words(c: &mut IdeController, ch: usize, data: &[u8]) {
    for pair in data.chunks(2) {
        c.write(
            reg(ch, REG_DATA),
            2,
            u16::from_le_bytes([pair[0], pair[1]]) as u32,
        );
    }
}

fn identify(c: &mut IdeController, ch: usize, dev: usize) -> [u16; 256] {
    select(c, ch, dev);
    outb(c, reg(ch, REG_STATUS), CMD_IDENTIFY);
    assert_eq!(status(c, ch), STATUS_DRDY | STATUS_DSC | STATUS_DRQ);
    let bytes = read_words(c, ch, 256);
    let mut w = [0u16; 256];
    for (i, x) in w.iter_mut().enumerate() {
        *x = u16::from_le_bytes([bytes[2 * i], bytes[2 * i + 1]]);
    }
    w
}

/// Decodes an ATA string (first character of each pair in the high byte).
fn ata_string(words: &[u16]) -> String {
    let mut s = String::new();
    for w in words {
        s.push((w >> 8) as u8 as char);
        s.push(*w as u8 as char);
    }
    s.trim_end().to_string()
}

/// A backend whose reads and/or writes fail.
struct FailingDisk {
    fail_reads: bool,
    fail_writes: bool,
}

impl DiskBackend for FailingDisk {
    fn sectors(&self) -> u64 {
        64
    }
    fn read(&mut self, _lba: u64, buf: &mut Sector) -> io::Result<()> {
        if self.fail_reads {
            return Err(io::Error::other("injected read failure"));
        }
        buf.fill(0x5a);
        Ok(())
    }
    fn write(&mut self, _lba: u64, _buf: &Sector) -> io::Result<()> {
        if self.fail_writes {
            return Err(io::Error::other("injected write failure"));
        }
        Ok(())
    }
    fn flush(&mut self) -> io::Result<()> {
        if self.fail_writes {
            return Err(io::Error::other("injected flush failure"));
        }
        Ok(())
    }
}

const POSITIONS: [(usize, usize); 4] = [(0, 0), (0, 1), (1, 0), (1, 1)];

mod protocol;
mod robustness;
mod transfers;
mod timing;
mod observe;
