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
