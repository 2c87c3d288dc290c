//! The register file of an ATA device: port numbers, register offsets and bits, command
//! codes, and the per-drive task file and CHS geometry.

use super::disk::SECTOR_SIZE;

// ---------------------------------------------------------------------------------------
// Ports and IRQs.

/// Command block base port of each channel.
pub const COMMAND_BASE: [u16; 2] = [0x1f0, 0x170];
/// Control block port (Alternate Status / Device Control) of each channel.
pub const CONTROL_PORT: [u16; 2] = [0x3f6, 0x376];
/// ISA IRQ line of each channel.
pub const CHANNEL_IRQ: [u8; 2] = [14, 15];

// Command block register offsets from the base.
pub(super) const REG_DATA: u16 = 0;
/// Error (read) / Features (write).
pub(super) const REG_ERROR: u16 = 1;
pub(super) const REG_SECTOR_COUNT: u16 = 2;
/// LBA bits 0-7, or the CHS sector number.
pub(super) const REG_LBA_LOW: u16 = 3;
/// LBA bits 8-15, or the CHS cylinder low byte.
pub(super) const REG_LBA_MID: u16 = 4;
/// LBA bits 16-23, or the CHS cylinder high byte.
pub(super) const REG_LBA_HIGH: u16 = 5;
/// Device/Head: DEV select, LBA mode, LBA bits 24-27 or the CHS head.
pub(super) const REG_DEVICE: u16 = 6;
/// Status (read) / Command (write).
pub(super) const REG_STATUS: u16 = 7;

// Status register bits.
pub const STATUS_BSY: u8 = 0x80;
/// Device ready: able to accept commands.
pub const STATUS_DRDY: u8 = 0x40;
/// Device fault.
pub const STATUS_DF: u8 = 0x20;
/// Device seek complete (obsolete in later ATA, but set by drives and by QEMU).
pub const STATUS_DSC: u8 = 0x10;
/// Data request: the data register has (or wants) data.
pub const STATUS_DRQ: u8 = 0x08;
/// The last command ended with an error; see the error register.
pub const STATUS_ERR: u8 = 0x01;

// Error register bits.
/// Uncorrectable data error (used for host read failures).
pub const ERROR_UNC: u8 = 0x40;
/// ID not found: the address is outside the medium.
pub const ERROR_IDNF: u8 = 0x10;
/// Command aborted (unsupported command or parameter, or a failed write).
pub const ERROR_ABRT: u8 = 0x04;
/// The error register after reset/diagnostics: device 0 passed (and device 1 passed or is
/// absent).
pub const ERROR_DIAG_PASSED: u8 = 0x01;

// Device/Head register bits.
/// Selects device 1 (slave).
pub const DEVICE_DEV: u8 = 0x10;
/// LBA addressing (clear: CHS).
pub const DEVICE_LBA: u8 = 0x40;
/// LBA bits 24-27 or the CHS head number.
pub(super) const DEVICE_HEAD_MASK: u8 = 0x0f;

// Device control register bits.
/// Interrupts disabled (INTRQ not driven).
pub const CONTROL_NIEN: u8 = 0x02;
/// Software reset of both devices, held while the bit is set.
pub const CONTROL_SRST: u8 = 0x04;

// Commands.
pub const CMD_NOP: u8 = 0x00;
pub const CMD_DEVICE_RESET: u8 = 0x08;
pub const CMD_RECALIBRATE: u8 = 0x10; // 0x10-0x1f
pub const CMD_READ_SECTORS: u8 = 0x20;
pub const CMD_READ_SECTORS_NORETRY: u8 = 0x21;
pub const CMD_WRITE_SECTORS: u8 = 0x30;
pub const CMD_WRITE_SECTORS_NORETRY: u8 = 0x31;
pub const CMD_READ_VERIFY: u8 = 0x40;
pub const CMD_READ_VERIFY_NORETRY: u8 = 0x41;
pub const CMD_SEEK: u8 = 0x70; // 0x70-0x7f
pub const CMD_EXECUTE_DIAGNOSTIC: u8 = 0x90;
pub const CMD_INITIALIZE_PARAMETERS: u8 = 0x91;
pub const CMD_STANDBY_IMMEDIATE_OLD: u8 = 0x94;
pub const CMD_IDLE_IMMEDIATE_OLD: u8 = 0x95;
pub const CMD_STANDBY_OLD: u8 = 0x96;
pub const CMD_IDLE_OLD: u8 = 0x97;
pub const CMD_CHECK_POWER_MODE_OLD: u8 = 0x98;
pub const CMD_PACKET: u8 = 0xa0;
pub const CMD_IDENTIFY_PACKET: u8 = 0xa1;
pub const CMD_READ_MULTIPLE: u8 = 0xc4;
pub const CMD_WRITE_MULTIPLE: u8 = 0xc5;
pub const CMD_SET_MULTIPLE: u8 = 0xc6;
pub const CMD_STANDBY_IMMEDIATE: u8 = 0xe0;
pub const CMD_IDLE_IMMEDIATE: u8 = 0xe1;
pub const CMD_STANDBY: u8 = 0xe2;
pub const CMD_IDLE: u8 = 0xe3;
pub const CMD_CHECK_POWER_MODE: u8 = 0xe5;
pub const CMD_FLUSH_CACHE: u8 = 0xe7;
pub const CMD_IDENTIFY: u8 = 0xec;
pub const CMD_SET_FEATURES: u8 = 0xef;

/// Largest READ/WRITE MULTIPLE block (IDENTIFY word 47).
pub const MAX_MULTIPLE: u8 = 16;
/// Default CHS translation: 16 heads × 63 sectors per track (what BIOSes assume for IDE).
pub const DEFAULT_HEADS: u8 = 16;
pub const DEFAULT_SECTORS_PER_TRACK: u8 = 63;
/// ATA caps the reported default cylinder count at 16383.
pub(super) const MAX_CYLINDERS: u64 = 16383;
pub(super) const WORDS_PER_SECTOR: usize = SECTOR_SIZE / 2;

// ---------------------------------------------------------------------------------------
// State.

/// One drive's copy of the command block registers (ATA: each device has its own; writes go
/// to both devices on the channel, reads come from the selected one).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TaskFile {
    pub features: u8,
    pub error: u8,
    pub sector_count: u8,
    pub lba_low: u8,
    pub lba_mid: u8,
    pub lba_high: u8,
    pub device: u8,
    pub status: u8,
}

impl TaskFile {
    /// The registers after power-on, reset or EXECUTE DEVICE DIAGNOSTIC: the signature of a
    /// non-packet (ATA) device.
    pub(super) fn signature(features: u8) -> TaskFile {
        TaskFile {
            features,
            error: ERROR_DIAG_PASSED,
            sector_count: 1,
            lba_low: 1,
            lba_mid: 0,
            lba_high: 0,
            device: 0,
            status: STATUS_DRDY | STATUS_DSC,
        }
    }
}

/// A CHS geometry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Geometry {
    pub cylinders: u16,
    pub heads: u8,
    pub sectors_per_track: u8,
}

impl Geometry {
    pub(super) fn for_capacity(capacity: u64, heads: u8, spt: u8) -> Geometry {
        let per_cylinder = heads as u64 * spt as u64;
        let cylinders = (capacity / per_cylinder).clamp(1, MAX_CYLINDERS);
        Geometry {
            cylinders: cylinders as u16,
            heads,
            sectors_per_track: spt,
        }
    }

    pub(super) fn sectors(&self) -> u64 {
        self.cylinders as u64 * self.heads as u64 * self.sectors_per_track as u64
    }
}
