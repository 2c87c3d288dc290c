//! VGA in 80x25 colour text mode: the 128 KiB legacy window 0xA0000-0xBFFFF (all of it
//! stored, so any write reads back) with the text buffer at 0xB8000, and the VGA register
//! ports, stored so the guest can program them and read them back.
//!
//! Facts from the IBM VGA documentation this model relies on:
//! * Text mode 3 keeps each character cell as two bytes at 0xB8000 + 2 * cell: the code
//!   point (code page 437) then the attribute. Cells start at the CRTC start address
//!   (registers 0x0C high, 0x0D low) and run 80 per row.
//! * CRTC: index at 0x3D4 (0x3B4 in monochrome I/O mode), data at 0x3D5 (0x3B5); registers
//!   0x0E/0x0F are the cursor location high/low. Here both address pairs reach the same
//!   CRTC registers regardless of Misc Output bit 0.
//! * Attribute controller at 0x3C0 uses an index/data flip-flop that a read of input status
//!   1 (0x3DA / 0x3BA) resets to "index"; 0x3C1 reads the data. 0x3C2 writes Misc Output and
//!   reads input status 0; 0x3CC reads Misc Output; 0x3CA reads Feature Control (written at
//!   0x3DA / 0x3BA). 0x3C4/0x3C5 sequencer, 0x3CE/0x3CF graphics controller, 0x3C6 PEL mask,
//!   0x3C7/0x3C8 DAC read/write index, 0x3C9 DAC data (red, green, blue in turn).
//! * Input status 1 bit 0 (display disabled) and bit 3 (vertical retrace): here they toggle
//!   on every read, a deterministic stand-in for the beam that lets retrace-polling loops
//!   finish.
//!
//! The initial state is what a BIOS leaves after setting mode 3: the standard mode 3 CRTC
//! values, Misc Output 0x67, and the text pages filled with blank cells (0x20, attribute
//! 0x07). Wide port accesses are split into byte accesses at consecutive ports. MMIO
//! accesses of any size are little-endian byte sequences; bytes outside the window read as
//! 0xFF and count as one miss per access.



#[cfg(test)]
use super::PortDevice;
pub const VRAM_BASE: u64 = 0xA0000;
pub const VRAM_SIZE: usize = 0x20000;
pub const TEXT_BASE: u64 = 0xB8000;
/// The colour text window 0xB8000-0xBFFFF.
const TEXT_WINDOW: usize = 0x8000;
pub const COLUMNS: usize = 80;
pub const ROWS: usize = 25;

const CRTC_INDEX_MONO: u16 = 0x3B4;
const CRTC_DATA_MONO: u16 = 0x3B5;
const STATUS1_MONO: u16 = 0x3BA;
const ATTR_INDEX_DATA: u16 = 0x3C0;
const ATTR_DATA_READ: u16 = 0x3C1;
const MISC_WRITE_STATUS0: u16 = 0x3C2;
const VGA_ENABLE: u16 = 0x3C3;
const SEQ_INDEX: u16 = 0x3C4;
const SEQ_DATA: u16 = 0x3C5;
const DAC_MASK: u16 = 0x3C6;
const DAC_READ_INDEX: u16 = 0x3C7;
const DAC_WRITE_INDEX: u16 = 0x3C8;
const DAC_DATA: u16 = 0x3C9;
const FEATURE_READ: u16 = 0x3CA;
const MISC_READ: u16 = 0x3CC;
const GC_INDEX: u16 = 0x3CE;
const GC_DATA: u16 = 0x3CF;
const CRTC_INDEX: u16 = 0x3D4;
const CRTC_DATA: u16 = 0x3D5;
const STATUS1: u16 = 0x3DA;

pub const CRTC_START_HI: u8 = 0x0C;
pub const CRTC_START_LO: u8 = 0x0D;
pub const CRTC_CURSOR_HI: u8 = 0x0E;
pub const CRTC_CURSOR_LO: u8 = 0x0F;

const STATUS1_DISPLAY_DISABLED: u8 = 0x01;
const STATUS1_VRETRACE: u8 = 0x08;
const ATTR_INDEX_MASK: u8 = 0x3F;

/// Standard mode 3 CRTC register values 0x00-0x18.
const MODE3_CRTC: [u8; 25] = [
    0x5F, 0x4F, 0x50, 0x82, 0x55, 0x81, 0xBF, 0x1F, 0x00, 0x4F, 0x0D, 0x0E, 0x00, 0x00, 0x00, 0x00, 0x9C, 0x8E, 0x8F,
    0x28, 0x1F, 0x96, 0xB9, 0xA3, 0xFF,
];

/// The VGA adapter in text mode.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Vga {
    /// 0xA0000-0xBFFFF.
    pub vram: Vec<u8>,
    pub crtc_index: u8,
    #[serde(with = "serde_big_array::BigArray")]
    pub crtc: [u8; 256],
    pub seq_index: u8,
    #[serde(with = "serde_big_array::BigArray")]
    pub seq: [u8; 256],
    pub gc_index: u8,
    #[serde(with = "serde_big_array::BigArray")]
    pub gc: [u8; 256],
    /// Attribute controller index (bits 0-4) and PAS (bit 5).
    pub attr_index: u8,
    pub attr: [u8; 32],
    /// The attribute flip-flop: true when the next 0x3C0 write is data.
    pub attr_data_next: bool,
    pub misc_output: u8,
    pub feature_control: u8,
    pub vga_enable: u8,
    pub dac_mask: u8,
    pub dac_read_index: u8,
    pub dac_write_index: u8,
    /// Which of red/green/blue the next DAC data access touches.
    pub dac_component: u8,
    /// The last DAC index operation was a read (0x3C7) rather than a write (0x3C8).
    pub dac_reading: bool,
    pub dac: Vec<u8>,
    /// Toggles the retrace bits of input status 1.
    pub retrace_phase: bool,
    pub misses: u64,
}

impl Default for Vga {
    fn default() -> Self {
        Self::new()
    }
}

impl Vga {
    pub fn new() -> Vga {
        let mut vram = vec![0u8; VRAM_SIZE];
        let text = (TEXT_BASE - VRAM_BASE) as usize;
        for cell in vram[text..text + TEXT_WINDOW].chunks_exact_mut(2) {
            cell.copy_from_slice(&[b' ', 0x07]);
        }
        let mut crtc = [0u8; 256];
        crtc[..MODE3_CRTC.len()].copy_from_slice(&MODE3_CRTC);
        Vga {
            vram,
            crtc_index: 0,
            crtc,
            seq_index: 0,
            seq: [0; 256],
            gc_index: 0,
            gc: [0; 256],
            attr_index: 0,
            attr: [0; 32],
            attr_data_next: false,
            misc_output: 0x67,
            feature_control: 0,
            vga_enable: 1,
            dac_mask: 0xFF,
            dac_read_index: 0,
            dac_write_index: 0,
            dac_component: 0,
            dac_reading: false,
            dac: vec![0; 256 * 3],
            retrace_phase: false,
            misses: 0,
        }
    }

    pub fn reset(&mut self) {
        *self = Vga::new();
    }

    /// Whether `addr` lies in the VGA memory window.
    pub fn contains(addr: u64) -> bool {
        (VRAM_BASE..VRAM_BASE + VRAM_SIZE as u64).contains(&addr)
    }

    fn mmio_bytes(size: u8) -> u64 {
        size.clamp(1, 8) as u64
    }

    /// A little-endian read of `size` bytes (1-8) at physical address `addr`.
    pub fn mmio_read(&mut self, addr: u64, size: u8) -> u64 {
        let mut value = 0u64;
        let mut missed = false;
        for i in 0..Self::mmio_bytes(size) {
            let a = addr.wrapping_add(i);
            let b = if Self::contains(a) {
                self.vram[(a - VRAM_BASE) as usize]
            } else {
                missed = true;
                0xFF
            };
            value |= (b as u64) << (8 * i);
        }
        if missed {
            self.misses += 1;
        }
        value
    }

    /// A little-endian write of `size` bytes (1-8) at physical address `addr`.
    pub fn mmio_write(&mut self, addr: u64, size: u8, value: u64) {
        let mut missed = false;
        for i in 0..Self::mmio_bytes(size) {
            let a = addr.wrapping_add(i);
            if Self::contains(a) {
                self.vram[(a - VRAM_BASE) as usize] = (value >> (8 * i)) as u8;
            } else {
                missed = true;
            }
        }
        if missed {
            self.misses += 1;
        }
    }

    /// The cursor location (cell index) from CRTC 0x0E/0x0F.
    pub fn cursor(&self) -> u16 {
        u16::from_be_bytes([self.crtc[CRTC_CURSOR_HI as usize], self.crtc[CRTC_CURSOR_LO as usize]])
    }

    /// The screen as text: 25 rows of 80 cells from the CRTC start address, each row with
    /// trailing blanks removed, joined with '\n', trailing empty rows dropped. Printable
    /// ASCII shows as itself, NUL and 0xFF as a blank, other code points as '.'.
    pub fn screen_text(&self) -> String {
        let start = u16::from_be_bytes([self.crtc[CRTC_START_HI as usize], self.crtc[CRTC_START_LO as usize]]) as usize;
        let text = (TEXT_BASE - VRAM_BASE) as usize;
        let mut lines: Vec<String> = (0..ROWS)
            .map(|row| {
                let line: String = (0..COLUMNS)
                    .map(|col| {
                        let off = ((start + row * COLUMNS + col) * 2) % TEXT_WINDOW;
                        match self.vram[text + off] {
                            b @ 0x20..=0x7E => b as char,
                            0x00 | 0xFF => ' ',
                            _ => '.',
                        }
                    })
                    .collect();
                line.trim_end().to_string()
            })
            .collect();
        while lines.last().is_some_and(|l| l.is_empty()) {
            lines.pop();
        }
        lines.join("\n")
    }

    fn read8(&mut self, port: u16) -> u8 {
        match port {
            CRTC_INDEX | CRTC_INDEX_MONO => self.crtc_index,
            CRTC_DATA | CRTC_DATA_MONO => self.crtc[self.crtc_index as usize],
            STATUS1 | STATUS1_MONO => {
                self.attr_data_next = false;
                self.retrace_phase = !self.retrace_phase;
                if self.retrace_phase {
                    STATUS1_DISPLAY_DISABLED | STATUS1_VRETRACE
                } else {
                    0
                }
            }
            ATTR_INDEX_DATA => self.attr_index,
            ATTR_DATA_READ => self.attr[(self.attr_index & 0x1F) as usize],
            MISC_WRITE_STATUS0 => 0,
            VGA_ENABLE => self.vga_enable,
            SEQ_INDEX => self.seq_index,
            SEQ_DATA => self.seq[self.seq_index as usize],
            DAC_MASK => self.dac_mask,
            // DAC state: 0x03 after a read index was set, 0x00 after a write index.
            DAC_READ_INDEX => {
                if self.dac_reading {
                    0x03
                } else {
                    0x00
                }
            }
            DAC_WRITE_INDEX => self.dac_write_index,
            DAC_DATA => {
                let v = self.dac[self.dac_read_index as usize * 3 + self.dac_component as usize];
                self.step_dac(true);
                v
            }
            FEATURE_READ => self.feature_control,
            MISC_READ => self.misc_output,
            GC_INDEX => self.gc_index,
            GC_DATA => self.gc[self.gc_index as usize],
            _ => {
                self.misses += 1;
                0xFF
            }
        }
    }

    fn step_dac(&mut self, reading: bool) {
        self.dac_component += 1;
        if self.dac_component == 3 {
            self.dac_component = 0;
            if reading {
                self.dac_read_index = self.dac_read_index.wrapping_add(1);
            } else {
                self.dac_write_index = self.dac_write_index.wrapping_add(1);
            }
        }
    }

    fn write8(&mut self, port: u16, v: u8) {
        match port {
            CRTC_INDEX | CRTC_INDEX_MONO => self.crtc_index = v,
            CRTC_DATA | CRTC_DATA_MONO => self.crtc[self.crtc_index as usize] = v,
            STATUS1 | STATUS1_MONO => self.feature_control = v,
            ATTR_INDEX_DATA => {
                if self.attr_data_next {
                    self.attr[(self.attr_index & 0x1F) as usize] = v;
                } else {
                    self.attr_index = v & ATTR_INDEX_MASK;
                }
                self.attr_data_next = !self.attr_data_next;
            }
            MISC_WRITE_STATUS0 => self.misc_output = v,
            VGA_ENABLE => self.vga_enable = v,
            SEQ_INDEX => self.seq_index = v,
            SEQ_DATA => self.seq[self.seq_index as usize] = v,
            DAC_MASK => self.dac_mask = v,
            DAC_READ_INDEX => {
                self.dac_read_index = v;
                self.dac_component = 0;
                self.dac_reading = true;
            }
            DAC_WRITE_INDEX => {
                self.dac_write_index = v;
                self.dac_component = 0;
                self.dac_reading = false;
            }
            DAC_DATA => {
                // DAC entries are 6 bits per component.
                self.dac[self.dac_write_index as usize * 3 + self.dac_component as usize] = v & 0x3F;
                self.step_dac(false);
            }
            GC_INDEX => self.gc_index = v,
            GC_DATA => self.gc[self.gc_index as usize] = v,
            _ => self.misses += 1,
        }
    }
}

byte_port_device!(Vga);

#[cfg(test)]
mod tests {
    use super::*;

    fn put(v: &mut Vga, row: usize, col: usize, s: &str) {
        for (i, b) in s.bytes().enumerate() {
            let a = TEXT_BASE + ((row * COLUMNS + col + i) * 2) as u64;
            v.mmio_write(a, 2, 0x0700 | b as u64);
        }
    }

    #[test]
    fn test_whole_window_reads_back() {
        let mut v = Vga::new();
        for a in [0xA0000u64, 0xAFFF8, 0xB0000, 0xB8000, 0xBFFF8] {
            v.mmio_write(a, 8, 0x0123_4567_89ab_cdef ^ a);
            assert_eq!(v.mmio_read(a, 8), 0x0123_4567_89ab_cdef ^ a);
            assert_eq!(v.mmio_read(a + 1, 1), 0xcd ^ ((a >> 8) & 0xff));
        }
        assert_eq!(v.misses, 0);
    }

    #[test]
    fn test_access_outside_window_counts_miss() {
        let mut v = Vga::new();
        assert_eq!(v.mmio_read(0xBFFFF, 2), 0xFF00 | v.vram[VRAM_SIZE - 1] as u64);
        v.mmio_write(0xC0000, 1, 0);
        assert_eq!(v.misses, 2);
    }

    #[test]
    fn test_initial_screen_blank() {
        let mut v = Vga::new();
        assert_eq!(v.screen_text(), "");
        assert_eq!(v.mmio_read(TEXT_BASE, 2), 0x0720);
    }

    #[test]
    fn test_screen_text_renders_rows() {
        let mut v = Vga::new();
        put(&mut v, 0, 0, "Pintos booting");
        put(&mut v, 2, 4, "hello");
        assert_eq!(v.screen_text(), "Pintos booting\n\n    hello");
    }

    #[test]
    fn test_screen_text_follows_start_address() {
        let mut v = Vga::new();
        put(&mut v, 1, 0, "second");
        v.write(0x3d4, 1, 0x0c);
        v.write(0x3d5, 1, 0x00);
        v.write(0x3d4, 1, 0x0d);
        v.write(0x3d5, 1, 80);
        assert_eq!(v.screen_text(), "second");
    }

    #[test]
    fn test_cursor_location_registers() {
        let mut v = Vga::new();
        v.write(0x3d4, 1, 0x0e);
        v.write(0x3d5, 1, 0x01);
        v.write(0x3d4, 1, 0x0f);
        v.write(0x3d5, 1, 0x40);
        assert_eq!(v.cursor(), 0x140);
        v.write(0x3d4, 1, 0x0e);
        assert_eq!(v.read(0x3d5, 1), 0x01);
        // The outw idiom: index in the low byte, data in the high byte.
        v.write(0x3d4, 2, 0x230f);
        assert_eq!(v.cursor(), 0x123);
    }

    #[test]
    fn test_other_crtc_registers_stored() {
        let mut v = Vga::new();
        v.write(0x3d4, 1, 0x0a);
        assert_eq!(v.read(0x3d5, 1), 0x0d);
        v.write(0x3d5, 1, 0x20);
        assert_eq!(v.read(0x3d5, 1), 0x20);
        assert_eq!(v.read(0x3d4, 1), 0x0a);
    }

    #[test]
    fn test_mono_crtc_ports_reach_crtc() {
        let mut v = Vga::new();
        v.write(0x3b4, 1, 0x0e);
        v.write(0x3b5, 1, 0x07);
        assert_eq!(v.cursor() >> 8, 0x07);
    }

    #[test]
    fn test_attribute_flip_flop_reset_by_status_read() {
        let mut v = Vga::new();
        v.read(0x3da, 1);
        v.write(0x3c0, 1, 0x10);
        v.write(0x3c0, 1, 0x0c);
        assert_eq!(v.attr[0x10], 0x0c);
        v.write(0x3c0, 1, 0x11); // index
        v.read(0x3da, 1);
        v.write(0x3c0, 1, 0x12); // index again after the reset
        v.write(0x3c0, 1, 0x55);
        assert_eq!(v.attr[0x12], 0x55);
        assert_eq!(v.read(0x3c1, 1), 0x55);
    }

    #[test]
    fn test_status1_retrace_toggles() {
        let mut v = Vga::new();
        let a = v.read(0x3da, 1) & 0x08;
        let b = v.read(0x3da, 1) & 0x08;
        assert_ne!(a, b);
    }

    #[test]
    fn test_sequencer_graphics_misc_stored() {
        let mut v = Vga::new();
        v.write(0x3c4, 1, 0x02);
        v.write(0x3c5, 1, 0x03);
        v.write(0x3ce, 1, 0x06);
        v.write(0x3cf, 1, 0x0e);
        v.write(0x3c2, 1, 0x63);
        v.write(0x3c4, 1, 0x02);
        assert_eq!(v.read(0x3c5, 1), 0x03);
        v.write(0x3ce, 1, 0x06);
        assert_eq!(v.read(0x3cf, 1), 0x0e);
        assert_eq!(v.read(0x3cc, 1), 0x63);
    }

    #[test]
    fn test_dac_cycles_rgb() {
        let mut v = Vga::new();
        v.write(0x3c8, 1, 5);
        for c in [1, 2, 3, 4] {
            v.write(0x3c9, 1, c);
        }
        assert_eq!(v.read(0x3c8, 1), 6);
        v.write(0x3c7, 1, 5);
        let rgb: Vec<u32> = (0..4).map(|_| v.read(0x3c9, 1)).collect();
        assert_eq!(rgb, [1, 2, 3, 4]);
    }

    #[test]
    fn test_unknown_port_counts_miss() {
        let mut v = Vga::new();
        assert_eq!(v.read(0x3cb, 1), 0xff);
        v.write(0x3d0, 1, 0);
        assert_eq!(v.misses, 2);
    }

    #[test]
    fn test_hammer_never_panics() {
        let mut v = Vga::new();
        let ports: Vec<u16> = (0x3b0..0x3e0).collect();
        super::super::testutil::hammer(&mut v, &ports, 0x3d4, 30000, |v, rng| {
            let r = rng.next();
            let addr = 0x9FFF0 + (r >> 16) % 0x20020;
            let size = [1u8, 2, 4, 8, 0, 3, 16][(r % 7) as usize];
            if r & 0x100 != 0 {
                v.mmio_write(addr, size, r);
            } else {
                v.mmio_read(addr, size);
            }
        });
        let _ = v.screen_text();
    }
}
