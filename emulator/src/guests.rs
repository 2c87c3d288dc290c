//! Guest images built into the emulator by `build.rs`, for tests and demos.

/// `guests/pc_boot.S`: a bootable hard-disk image (boot sector plus stage 2, a whole
/// number of 512-byte sectors) that goes from real mode through the BIOS to long mode,
/// takes PIT interrupts through the PIC, does interrupt-driven IDE PIO on both channels,
/// prints each stage on COM1 and powers off. Disk layout it expects: see
/// `tests/pc_boot.rs`.
pub const PC_BOOT_IMAGE: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/pc_boot.bin"));

/// Sectors of hd0:1 that [`PC_BOOT_IMAGE`] writes with its pattern and reads back.
pub const PC_BOOT_HD01_LBA: u64 = 5;
/// Sector of hd1:0 that [`PC_BOOT_IMAGE`] reads (and reports the FNV-1a hash of).
pub const PC_BOOT_HD10_READ_LBA: u64 = 3;
/// Sector of hd1:0 that [`PC_BOOT_IMAGE`] writes with the bitwise NOT of the one it read.
pub const PC_BOOT_HD10_WRITE_LBA: u64 = 4;

/// `guests/disk_probe.S`: a boot sector that times the primary master's IDE commands from
/// the guest's side (PIT counts from the command to DRQ, between sectors, and from the
/// last written word to completion), prints them on COM1 and powers off. Boot it from a
/// disk of at least [`DISK_PROBE_SECTORS`] sectors; [`DiskProbe::parse`] reads its output.
pub const DISK_PROBE_IMAGE: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/disk_probe.bin"));
/// The probe reads and writes sectors up to 216.
pub const DISK_PROBE_SECTORS: u64 = 256;
/// PIT input clock: counts per second.
const PIT_HZ: f64 = 1_193_182.0;

/// What the disk probe measured, in microseconds.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DiskProbe {
    /// Single-sector reads: command to DRQ.
    pub read: Vec<f64>,
    /// An 8-sector read: command to the first DRQ.
    pub first_of_8: f64,
    /// The same read: taking a sector to the next DRQ.
    pub gaps: Vec<f64>,
    /// Single-sector writes: last data word to completion.
    pub write: Vec<f64>,
}

impl DiskProbe {
    /// Parses the probe's console output (other lines, such as a BIOS banner, are
    /// skipped). `None` if the probe did not finish.
    pub fn parse(console: &str) -> Option<DiskProbe> {
        let mut p = DiskProbe::default();
        let mut done = false;
        for line in console.lines() {
            let line = line.trim_end_matches('\r');
            if line == "done" {
                done = true;
                continue;
            }
            let Some((tag, n)) = line.split_once(' ') else { continue };
            let Ok(counts) = n.parse::<u32>() else { continue };
            let us = counts as f64 * 1e6 / PIT_HZ;
            match tag {
                "r" => p.read.push(us),
                "s" => p.first_of_8 = us,
                "g" => p.gaps.push(us),
                "w" => p.write.push(us),
                _ => {}
            }
        }
        (done && !p.read.is_empty() && !p.write.is_empty()).then_some(p)
    }
}

/// The median of `v` (0 for none).
pub fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    match s.len() {
        0 => 0.0,
        n if n % 2 == 1 => s[n / 2],
        n => (s[n / 2 - 1] + s[n / 2]) / 2.0,
    }
}
