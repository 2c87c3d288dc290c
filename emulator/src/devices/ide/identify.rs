//! IDENTIFY DEVICE: the 256 words a drive reports about itself.

use super::disk::MAX_SECTORS;
use super::drive::DriveState;
use super::regs::*;

/// Packs an ATA string: two characters per word, the first in the high byte, padded with
/// spaces.
fn put_ata_string(words: &mut [u16], text: &str) {
    let bytes = text.as_bytes();
    for (i, w) in words.iter_mut().enumerate() {
        let hi = *bytes.get(2 * i).unwrap_or(&b' ');
        let lo = *bytes.get(2 * i + 1).unwrap_or(&b' ');
        *w = (hi as u16) << 8 | lo as u16;
    }
}

impl DriveState {
    pub(super) fn identify_words(&self) -> [u16; WORDS_PER_SECTOR] {
        let mut w = [0u16; WORDS_PER_SECTOR];
        let dg = self.default_geometry;
        let cg = self.current_geometry;
        w[0] = 0x0040; // fixed (non-removable) ATA device
        w[1] = dg.cylinders;
        w[3] = dg.heads as u16;
        w[6] = dg.sectors_per_track as u16;
        put_ata_string(&mut w[10..20], &self.serial);
        put_ata_string(&mut w[23..27], &self.firmware);
        put_ata_string(&mut w[27..47], &self.model);
        // Bits 15:8 = 0x80 (required), 7:0 = largest READ/WRITE MULTIPLE block.
        w[47] = 0x8000 | MAX_MULTIPLE as u16;
        w[48] = 0x0001; // 32-bit data register accesses are accepted
        w[49] = 0x0200; // LBA supported (no DMA: this is a PIO-only model)
        w[50] = 0x4000;
        w[51] = 0x0200; // PIO data transfer cycle timing mode 2
        w[53] = 0x0003; // words 54-58 and 64-70 are valid
        w[54] = cg.cylinders;
        w[55] = cg.heads as u16;
        w[56] = cg.sectors_per_track as u16;
        let chs_capacity = cg.sectors().min(u32::MAX as u64) as u32;
        w[57] = chs_capacity as u16;
        w[58] = (chs_capacity >> 16) as u16;
        // Bit 8: the multiple setting in bits 7:0 is valid.
        w[59] = if self.multiple != 0 {
            0x0100 | self.multiple as u16
        } else {
            0
        };
        // Total user-addressable sectors in LBA28 mode (what Pintos reads as the capacity).
        let lba_capacity = self.capacity.min(MAX_SECTORS - 1) as u32;
        w[60] = lba_capacity as u16;
        w[61] = (lba_capacity >> 16) as u16;
        w[64] = 0x0003; // PIO modes 3 and 4
        w[65] = 120; // cycle times in ns
        w[66] = 120;
        w[67] = 120;
        w[68] = 120;
        w[80] = 0x001e; // major version: ATA-1 to ATA-4 (no LBA48, so not ATA-6)
        w[82] = 0x4000; // NOP supported (it always aborts, as ATA specifies)
        w[83] = 0x4000 | 0x1000; // bit 14 must be one; FLUSH CACHE supported
        w[84] = 0x4000;
        w[85] = 0x4000;
        w[86] = 0x1000;
        w[87] = 0x4000;
        // Word 255: integrity word. Low byte 0xa5, high byte makes all 512 bytes sum to 0.
        let sum = w[..255].iter().fold(0xa5u8, |s, &x| {
            s.wrapping_add(x as u8).wrapping_add((x >> 8) as u8)
        });
        w[255] = ((sum.wrapping_neg() as u16) << 8) | 0xa5;
        w
    }
}
