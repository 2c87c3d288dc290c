//! `block-rw`: the IDE driver and the block layer move real data. Writes a pattern to
//! sectors spread over the scratch disk (hd1:0, on the second channel, including its
//! last sector), reads them back and compares; reads the boot sector of the kernel disk
//! (hd0:0, first channel) and checks its signature; checks the per-device counters,
//! also through Pintos-KAIST's `int 0x43`/`0x44`.
//! The host side (disk-images/tests/boot.rs) then finds the same pattern in the image.

use crate::arch::intr::raise;
use crate::devices::block::{self, Role, Sector, SectorBuf, SECTOR_SIZE};

/// Byte `i` of the pattern for sector `sector` (the host test computes the same).
fn pattern(sector: Sector, i: usize) -> u8 {
    (sector as usize * 251 + i * 7 + 1) as u8
}

pub fn test_block_rw() {
    let Some(scratch) = block::block_get_role(Role::Scratch) else { fail!("no scratch disk (attach one as hd1:0)") };
    let size = scratch.size();
    msg!("{}: {} sectors", scratch.name(), size);
    if size < 8 {
        fail!("scratch disk too small");
    }
    let sectors = [0, 1, 2, 7, size - 1];
    let (reads0, writes0) = (scratch.reads(), scratch.writes());

    let mut buf: SectorBuf = [0; SECTOR_SIZE];
    for &s in &sectors {
        for (i, b) in buf.iter_mut().enumerate() {
            *b = pattern(s, i);
        }
        scratch.write(s, &buf);
    }
    for &s in &sectors {
        buf.fill(0);
        scratch.read(s, &mut buf);
        if let Some(i) = (0..SECTOR_SIZE).find(|&i| buf[i] != pattern(s, i)) {
            fail!("sector {s} byte {i}: read {:#04x}, wrote {:#04x}", buf[i], pattern(s, i));
        }
    }
    msg!("wrote and read back sectors {:?}", sectors);
    let n = sectors.len() as u64;
    if scratch.reads() - reads0 != n || scratch.writes() - writes0 != n {
        fail!("counters: {} reads, {} writes (expected {n} each)", scratch.reads() - reads0, scratch.writes() - writes0);
    }

    // Pintos-KAIST's inspection vectors see the same counters.
    let (reads, writes) = (raise::<0x43>(1, 0), raise::<0x44>(1, 0));
    if (reads, writes) != (scratch.reads(), scratch.writes()) {
        fail!("int 0x43/0x44 report {reads} reads, {writes} writes");
    }
    if block::block_get_role(Role::Filesys).is_none() && raise::<0x43>(0, 1) != u64::MAX {
        fail!("int 0x43 reports a count for the absent hd0:1");
    }
    msg!("int 0x43/0x44: {reads} reads, {writes} writes");

    let Some(kernel) = block::block_get_role(Role::Kernel) else { fail!("no kernel disk") };
    kernel.read(0, &mut buf);
    if buf[510..] != [0x55, 0xaa] {
        fail!("{} sector 0 has no boot signature", kernel.name());
    }
    msg!("{} sector 0 is the boot sector", kernel.name());
}
