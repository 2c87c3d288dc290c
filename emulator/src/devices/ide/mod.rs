//! The two legacy ATA/IDE channels of a PC, in PIO mode.
//!
//! # What is modelled
//!
//! * Two channels ([`ChannelState`]): primary at command block 0x1f0-0x1f7, control 0x3f6,
//!   IRQ 14; secondary at 0x170-0x177, 0x376, IRQ 15. Each has a master and a slave slot.
//! * ATA hard disks only (no ATAPI), LBA28 and CHS addressing, PIO data transfers through
//!   the 16-bit data register (32-bit accesses are accepted as two words, low word first).
//! * The commands a BIOS, Pintos and a typical PIO driver use; anything else is aborted
//!   (ERR + ABRT), which is what ATA requires for unsupported commands.
//!
//! # Timing
//!
//! Commands complete instantly in virtual time: there is no seek or rotational delay, so a
//! command's effects (data ready, DRQ, the interrupt) are visible on the access right after
//! the command write, and BSY is never observed set after a command. The only time BSY reads
//! as set is while the guest holds SRST asserted in the device control register, as on real
//! drives (the reset completes when SRST is released). This keeps the device free of timers
//! and therefore trivially deterministic.
//!
//! # Interrupts
//!
//! Each drive has an ATA "interrupt pending" flag. It is set when a PIO-in data block is
//! ready (every sector for READ SECTORS, every block for READ MULTIPLE, IDENTIFY), when a
//! PIO-out block has been written and the next one is wanted, at the completion of a write
//! or a non-data command, and on every error completion. It is cleared by reading the Status
//! register, by writing the Command register and by reset; reading Alternate Status does
//! not clear it. The channel's IRQ line ([`IdeController::irq`]) is the pending flag of the
//! selected drive, gated by nIEN (ATA: INTRQ is driven only by the selected device and only
//! while nIEN is clear, so a pending interrupt appears when nIEN is cleared later).
//!
//! # Absent drives (what a probe sees)
//!
//! * A channel with no drive at all reads 0xFF on every register (the bus floats high; no
//!   device drives it) and ignores writes. (An always-present emulated controller such as
//!   QEMU's PIIX may answer 00h instead; either value fails Pintos' write/read-back presence test
//!   of sector count / LBA low and its check that the error register is 0x01 or 0x81, so the
//!   probe finds no disk there either way.)
//! * With only one drive on a channel, register writes still land in the present drive (ATA:
//!   both devices receive command-block writes), but while the absent position is selected
//!   every command-block register and Alternate Status read 0x00 and commands are ignored
//!   (ATA: device 0 answers Status reads for an absent device 1 with 00h and does not
//!   execute commands addressed to it; QEMU does the same). Pintos' presence test (write 0x55
//!   / 0xaa to sector count and LBA low, read them back) therefore fails for the absent
//!   slave, and its after-reset check (error register 0x01, DRDY set) fails too.
//! * A present drive after reset shows the ATA signature: sector count 1, LBA low 1, LBA mid
//!   and high 0 (a non-packet device), error 0x01 (diagnostics passed), status DRDY|DSC.
//!   Pintos' checks on exactly these values make it find exactly the attached disks.
//!
//! # Using it from the machine
//!
//! * Build with [`IdeController::new`]`([[hd0:0, hd0:1], [hd1:0, hd1:1]])` from [`Disk`]s
//!   ([`Disk::open`] for image files, [`Disk::zeroed`] / [`Disk::from_bytes`] for memory).
//! * Route every port for which [`IdeController::claims_port`] is true to the
//!   [`PortDevice`] impl (0x1f0-0x1f7, 0x3f6, 0x170-0x177, 0x376; 0x3f7/0x377 are not ours).
//! * After each access, sample [`IdeController::irq`]`(0)` for IRQ 14 and `irq(1)` for
//!   IRQ 15 (levels; [`CHANNEL_IRQ`]).
//! * At power-off (normal, timeout or guest crash) call [`IdeController::flush_all`];
//!   dropping the controller also syncs file-backed disks. Writes are in the image files as
//!   soon as each sector is written, so even an unflushed exit loses nothing.
//! * Observers: [`IdeController::stats`] (per-drive sectors read/written, commands, errors,
//!   host I/O errors) and [`IdeController::take_events`] (every command issued, in order).
//!
//! # Registers after a transfer
//!
//! As each data block is made ready (reads) or written (writes), the address registers are
//! set to the last sector of that block and Sector Count to the sectors still to come, so a
//! successful command ends with the address of its last sector and count 0, and a failed one
//! with the address of the sector in error (ATA's error outputs), in the command's own
//! addressing mode (LBA or CHS).

mod disk;

pub use disk::{
    Disk, DiskBackend, DiskError, DiskIdentity, FileDisk, MemoryDisk, Sector, MAX_SECTORS,
    PINTOS_DISK_UNIT, SECTOR_SIZE,
};

use super::PortDevice;
use std::io;

// ---------------------------------------------------------------------------------------
// Ports and IRQs.

/// Command block base port of each channel.
pub const COMMAND_BASE: [u16; 2] = [0x1f0, 0x170];
/// Control block port (Alternate Status / Device Control) of each channel.
pub const CONTROL_PORT: [u16; 2] = [0x3f6, 0x376];
/// ISA IRQ line of each channel.
pub const CHANNEL_IRQ: [u8; 2] = [14, 15];

// Command block register offsets from the base.
const REG_DATA: u16 = 0;
/// Error (read) / Features (write).
const REG_ERROR: u16 = 1;
const REG_SECTOR_COUNT: u16 = 2;
/// LBA bits 0-7, or the CHS sector number.
const REG_LBA_LOW: u16 = 3;
/// LBA bits 8-15, or the CHS cylinder low byte.
const REG_LBA_MID: u16 = 4;
/// LBA bits 16-23, or the CHS cylinder high byte.
const REG_LBA_HIGH: u16 = 5;
/// Device/Head: DEV select, LBA mode, LBA bits 24-27 or the CHS head.
const REG_DEVICE: u16 = 6;
/// Status (read) / Command (write).
const REG_STATUS: u16 = 7;

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
const DEVICE_HEAD_MASK: u8 = 0x0f;

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
const MAX_CYLINDERS: u64 = 16383;
const WORDS_PER_SECTOR: usize = SECTOR_SIZE / 2;

// ---------------------------------------------------------------------------------------
// State.

/// One drive's copy of the command block registers (ATA: each device has its own; writes go
/// to both devices on the channel, reads come from the selected one).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
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
    fn signature(features: u8) -> TaskFile {
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
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Geometry {
    pub cylinders: u16,
    pub heads: u8,
    pub sectors_per_track: u8,
}

impl Geometry {
    fn for_capacity(capacity: u64, heads: u8, spt: u8) -> Geometry {
        let per_cylinder = heads as u64 * spt as u64;
        let cylinders = (capacity / per_cylinder).clamp(1, MAX_CYLINDERS);
        Geometry {
            cylinders: cylinders as u16,
            heads,
            sectors_per_track: spt,
        }
    }

    fn sectors(&self) -> u64 {
        self.cylinders as u64 * self.heads as u64 * self.sectors_per_track as u64
    }
}

/// Guest-visible traffic counters of one drive (the grader's view of disk use).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DriveStats {
    /// Commands the drive executed (including aborted ones).
    pub commands: u64,
    /// Sectors transferred to the guest by reads (IDENTIFY not included).
    pub sectors_read: u64,
    /// Sectors written by the guest and stored.
    pub sectors_written: u64,
    /// Commands that ended with ERR.
    pub errors: u64,
    /// Host I/O errors (each also an ERR in the guest).
    pub host_errors: u64,
}

/// A PIO data phase in progress.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Transfer {
    Idle,
    /// Device-to-host: the buffer holds a block; `remaining` sectors follow it.
    In {
        next_lba: u64,
        remaining: u32,
        block: u32,
        lba_mode: bool,
    },
    /// Host-to-device: the buffer collects a block for sectors `next_lba..`; `remaining`
    /// includes the block being collected.
    Out {
        next_lba: u64,
        remaining: u32,
        block: u32,
        lba_mode: bool,
    },
}

/// One drive position's state. Absent positions have `present == false` and are never
/// touched by commands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DriveState {
    pub present: bool,
    /// Capacity in sectors.
    pub capacity: u64,
    pub model: String,
    pub serial: String,
    pub firmware: String,
    pub regs: TaskFile,
    /// ATA interrupt pending.
    pub intrq: bool,
    /// READ/WRITE MULTIPLE block size; 0 = multiple mode disabled.
    pub multiple: u8,
    /// Geometry reported as the default (IDENTIFY words 1/3/6).
    pub default_geometry: Geometry,
    /// Geometry used for CHS addressing (INITIALIZE DEVICE PARAMETERS changes it).
    pub current_geometry: Geometry,
    transfer: Transfer,
    buffer: Vec<u8>,
    pos: usize,
    len: usize,
    pub stats: DriveStats,
}

/// One channel: two drive positions, the selection and the device control register.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChannelState {
    pub drives: [DriveState; 2],
    /// 0 = master, 1 = slave (the DEV bit last written).
    pub selected: usize,
    /// Last value written to Device Control.
    pub control: u8,
}

/// The controller's whole guest-visible state (disk contents live in the backends).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdeState {
    pub channels: [ChannelState; 2],
    /// Accesses the controller did not understand (unknown port, wrong size, data register
    /// use outside a data phase).
    pub misses: u64,
}

/// One command as seen on the bus, for observers of disk traffic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DiskEvent {
    pub channel: u8,
    /// 0 = master, 1 = slave.
    pub drive: u8,
    pub command: u8,
    /// The starting sector from the address registers (LBA28, or CHS translated with the
    /// current geometry; `u64::MAX` for an invalid CHS address). Meaningful only for
    /// commands that take an address.
    pub lba: u64,
    /// The sector count register as a count (0 means 256).
    pub count: u16,
}

// ---------------------------------------------------------------------------------------
// Drive behaviour.

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
    fn absent() -> DriveState {
        let g = Geometry {
            cylinders: 0,
            heads: 0,
            sectors_per_track: 0,
        };
        DriveState {
            present: false,
            capacity: 0,
            model: String::new(),
            serial: String::new(),
            firmware: String::new(),
            regs: TaskFile::default(),
            intrq: false,
            multiple: 0,
            default_geometry: g,
            current_geometry: g,
            transfer: Transfer::Idle,
            buffer: Vec::new(),
            pos: 0,
            len: 0,
            stats: DriveStats::default(),
        }
    }

    fn new(disk: &Disk, position: usize) -> DriveState {
        let capacity = disk.sectors().min(MAX_SECTORS);
        let geometry = Geometry::for_capacity(capacity, DEFAULT_HEADS, DEFAULT_SECTORS_PER_TRACK);
        let id = &disk.identity;
        DriveState {
            present: true,
            capacity,
            model: id
                .model
                .clone()
                .unwrap_or_else(|| "QEMU HARDDISK".to_string()),
            serial: id
                .serial
                .clone()
                .unwrap_or_else(|| format!("QM{:05}", position + 1)),
            firmware: id.firmware.clone().unwrap_or_else(|| "2.5+".to_string()),
            regs: TaskFile::signature(0),
            intrq: false,
            multiple: 0,
            default_geometry: geometry,
            current_geometry: geometry,
            transfer: Transfer::Idle,
            buffer: vec![0; MAX_MULTIPLE as usize * SECTOR_SIZE],
            pos: 0,
            len: 0,
            stats: DriveStats::default(),
        }
    }

    /// Power-on / hardware reset: also forgets multiple mode and the CHS translation.
    fn power_on(&mut self) {
        if !self.present {
            return;
        }
        self.soft_reset();
        self.regs.features = 0;
        self.multiple = 0;
        self.current_geometry = self.default_geometry;
    }

    /// Completion of a software reset or diagnostics: signature, idle, nothing pending.
    /// (ATA: SRST keeps the multiple mode and the current CHS translation.)
    fn soft_reset(&mut self) {
        self.regs = TaskFile::signature(self.regs.features);
        self.intrq = false;
        self.end_transfer();
    }

    fn end_transfer(&mut self) {
        self.transfer = Transfer::Idle;
        self.pos = 0;
        self.len = 0;
    }

    fn sector_count(&self) -> u32 {
        // ATA: a sector count of 0 means 256 sectors.
        match self.regs.sector_count {
            0 => 256,
            n => n as u32,
        }
    }

    fn lba_mode(&self) -> bool {
        self.regs.device & DEVICE_LBA != 0
    }

    /// The address in the registers as an LBA, or `None` for an impossible CHS address.
    fn start_address(&self) -> Option<u64> {
        let r = &self.regs;
        if self.lba_mode() {
            return Some(
                ((r.device & DEVICE_HEAD_MASK) as u64) << 24
                    | (r.lba_high as u64) << 16
                    | (r.lba_mid as u64) << 8
                    | r.lba_low as u64,
            );
        }
        let g = self.current_geometry;
        let cylinder = (r.lba_high as u64) << 8 | r.lba_mid as u64;
        let head = (r.device & DEVICE_HEAD_MASK) as u64;
        let sector = r.lba_low as u64;
        // CHS sectors count from 1; head and sector must fit the translation in use.
        if sector == 0 || sector > g.sectors_per_track as u64 || head >= g.heads as u64 {
            return None;
        }
        Some((cylinder * g.heads as u64 + head) * g.sectors_per_track as u64 + sector - 1)
    }

    /// Writes `lba` back into the address registers in the given mode.
    fn set_address(&mut self, lba: u64, lba_mode: bool) {
        let r = &mut self.regs;
        if lba_mode {
            r.lba_low = lba as u8;
            r.lba_mid = (lba >> 8) as u8;
            r.lba_high = (lba >> 16) as u8;
            r.device = (r.device & !DEVICE_HEAD_MASK) | ((lba >> 24) as u8 & DEVICE_HEAD_MASK);
        } else {
            let g = self.current_geometry;
            let spt = g.sectors_per_track.max(1) as u64;
            let heads = g.heads.max(1) as u64;
            let cylinder = lba / spt / heads;
            let head = (lba / spt) % heads;
            r.lba_low = (lba % spt + 1) as u8;
            r.lba_mid = cylinder as u8;
            r.lba_high = (cylinder >> 8) as u8;
            r.device = (r.device & !DEVICE_HEAD_MASK) | (head as u8 & DEVICE_HEAD_MASK);
        }
    }

    fn complete(&mut self) {
        self.regs.status = STATUS_DRDY | STATUS_DSC;
        self.intrq = true;
    }

    fn fail(&mut self, error: u8) {
        self.end_transfer();
        self.regs.error = error;
        self.regs.status = STATUS_DRDY | STATUS_DSC | STATUS_ERR;
        self.intrq = true;
        self.stats.errors += 1;
    }

    /// Fails a transfer at sector `lba` with `remaining` sectors (including it) left.
    fn fail_at(&mut self, error: u8, lba: u64, remaining: u32, lba_mode: bool) {
        self.set_address(lba, lba_mode);
        self.regs.sector_count = remaining as u8;
        self.fail(error);
    }

    fn in_range(&self, lba: u64) -> bool {
        lba < self.capacity
    }

    fn identify_words(&self) -> [u16; WORDS_PER_SECTOR] {
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

    /// Executes `command` (the drive is present and was selected).
    fn execute(&mut self, command: u8, backend: &mut dyn DiskBackend) {
        self.end_transfer();
        self.intrq = false;
        self.regs.error = 0;
        self.stats.commands += 1;
        match command {
            CMD_IDENTIFY => {
                for (i, word) in self.identify_words().iter().enumerate() {
                    self.buffer[2 * i..2 * i + 2].copy_from_slice(&word.to_le_bytes());
                }
                self.len = SECTOR_SIZE;
                self.pos = 0;
                self.transfer = Transfer::In {
                    next_lba: 0,
                    remaining: 0,
                    block: 1,
                    lba_mode: true,
                };
                self.regs.status = STATUS_DRDY | STATUS_DSC | STATUS_DRQ;
                self.intrq = true;
            }
            CMD_READ_SECTORS | CMD_READ_SECTORS_NORETRY => self.start_read(1, backend),
            CMD_READ_MULTIPLE if self.multiple != 0 => {
                self.start_read(self.multiple as u32, backend)
            }
            CMD_WRITE_SECTORS | CMD_WRITE_SECTORS_NORETRY => self.start_write(1),
            CMD_WRITE_MULTIPLE if self.multiple != 0 => self.start_write(self.multiple as u32),
            CMD_READ_VERIFY | CMD_READ_VERIFY_NORETRY => self.verify(),
            CMD_SET_MULTIPLE => {
                // ATA: 0 disables; otherwise a power of two no larger than word 47's limit.
                let n = self.regs.sector_count;
                if n == 0 || (n.is_power_of_two() && n <= MAX_MULTIPLE) {
                    self.multiple = n;
                    self.complete();
                } else {
                    self.fail(ERROR_ABRT);
                }
            }
            CMD_INITIALIZE_PARAMETERS => {
                // Sets the CHS translation: heads from the device register, sectors per
                // track from the sector count. Zero sectors per track cannot be translated.
                let spt = self.regs.sector_count;
                let heads = (self.regs.device & DEVICE_HEAD_MASK) + 1;
                if spt == 0 {
                    self.fail(ERROR_ABRT);
                } else {
                    let per_cylinder = heads as u64 * spt as u64;
                    let cylinders = (self.capacity / per_cylinder).min(u16::MAX as u64) as u16;
                    self.current_geometry = Geometry {
                        cylinders,
                        heads,
                        sectors_per_track: spt,
                    };
                    self.complete();
                }
            }
            c if c & 0xf0 == CMD_RECALIBRATE => self.complete(),
            c if c & 0xf0 == CMD_SEEK => match self.start_address() {
                Some(lba) if self.in_range(lba) => self.complete(),
                _ => self.fail(ERROR_IDNF | ERROR_ABRT),
            },
            CMD_SET_FEATURES
            | CMD_STANDBY_IMMEDIATE
            | CMD_IDLE_IMMEDIATE
            | CMD_STANDBY
            | CMD_IDLE
            | CMD_STANDBY_IMMEDIATE_OLD
            | CMD_IDLE_IMMEDIATE_OLD
            | CMD_STANDBY_OLD
            | CMD_IDLE_OLD => self.complete(),
            CMD_CHECK_POWER_MODE | CMD_CHECK_POWER_MODE_OLD => {
                self.regs.sector_count = 0xff; // active or idle
                self.complete();
            }
            CMD_FLUSH_CACHE => match backend.flush() {
                Ok(()) => self.complete(),
                Err(_) => {
                    self.stats.host_errors += 1;
                    self.fail(ERROR_ABRT);
                }
            },
            // NOP, DEVICE RESET and PACKET/IDENTIFY PACKET DEVICE (ATAPI only: our drives
            // are ATA disks), READ/WRITE MULTIPLE without multiple mode, and everything not
            // implemented: ATA requires ERR with ABRT.
            _ => self.fail(ERROR_ABRT),
        }
    }

    fn start_read(&mut self, block: u32, backend: &mut dyn DiskBackend) {
        let lba_mode = self.lba_mode();
        let remaining = self.sector_count();
        match self.start_address() {
            Some(lba) => {
                self.transfer = Transfer::In {
                    next_lba: lba,
                    remaining,
                    block,
                    lba_mode,
                };
                self.next_in_block(backend);
            }
            None => self.fail(ERROR_IDNF | ERROR_ABRT),
        }
    }

    /// Loads the next PIO-in block and raises the interrupt, or ends the data phase.
    fn next_in_block(&mut self, backend: &mut dyn DiskBackend) {
        let Transfer::In {
            next_lba,
            remaining,
            block,
            lba_mode,
        } = self.transfer
        else {
            return;
        };
        if remaining == 0 {
            // The last block was taken: no interrupt at the end of a PIO-in command.
            self.end_transfer();
            self.regs.status = STATUS_DRDY | STATUS_DSC;
            return;
        }
        let n = block.min(remaining);
        for i in 0..n {
            let lba = next_lba + i as u64;
            if !self.in_range(lba) {
                self.fail_at(ERROR_IDNF | ERROR_ABRT, lba, remaining - i, lba_mode);
                return;
            }
            let mut sector = [0u8; SECTOR_SIZE];
            if backend.read(lba, &mut sector).is_err() {
                self.stats.host_errors += 1;
                self.fail_at(ERROR_UNC, lba, remaining - i, lba_mode);
                return;
            }
            let at = i as usize * SECTOR_SIZE;
            self.buffer[at..at + SECTOR_SIZE].copy_from_slice(&sector);
        }
        self.stats.sectors_read += n as u64;
        self.set_address(next_lba + n as u64 - 1, lba_mode);
        self.regs.sector_count = (remaining - n) as u8;
        self.transfer = Transfer::In {
            next_lba: next_lba + n as u64,
            remaining: remaining - n,
            block,
            lba_mode,
        };
        self.pos = 0;
        self.len = n as usize * SECTOR_SIZE;
        self.regs.status = STATUS_DRDY | STATUS_DSC | STATUS_DRQ;
        // ATA PIO-in: INTRQ when each block's data is ready.
        self.intrq = true;
    }

    fn start_write(&mut self, block: u32) {
        let lba_mode = self.lba_mode();
        let remaining = self.sector_count();
        match self.start_address() {
            Some(lba) => {
                self.transfer = Transfer::Out {
                    next_lba: lba,
                    remaining,
                    block,
                    lba_mode,
                };
                // ATA PIO-out: the first block is requested with DRQ but no interrupt.
                self.next_out_block(false);
            }
            None => self.fail(ERROR_IDNF | ERROR_ABRT),
        }
    }

    /// Requests the next PIO-out block, or completes the command.
    fn next_out_block(&mut self, interrupt: bool) {
        let Transfer::Out {
            next_lba,
            remaining,
            block,
            lba_mode,
        } = self.transfer
        else {
            return;
        };
        if remaining == 0 {
            self.end_transfer();
            self.complete();
            return;
        }
        let n = block.min(remaining);
        for i in 0..n {
            let lba = next_lba + i as u64;
            if !self.in_range(lba) {
                self.fail_at(ERROR_IDNF | ERROR_ABRT, lba, remaining - i, lba_mode);
                return;
            }
        }
        self.pos = 0;
        self.len = n as usize * SECTOR_SIZE;
        self.regs.status = STATUS_DRDY | STATUS_DSC | STATUS_DRQ;
        self.intrq |= interrupt;
    }

    /// Stores a completed PIO-out block and moves on.
    fn store_out_block(&mut self, backend: &mut dyn DiskBackend) {
        let Transfer::Out {
            next_lba,
            remaining,
            block,
            lba_mode,
        } = self.transfer
        else {
            return;
        };
        let n = (self.len / SECTOR_SIZE) as u32;
        for i in 0..n {
            let lba = next_lba + i as u64;
            let at = i as usize * SECTOR_SIZE;
            let mut sector = [0u8; SECTOR_SIZE];
            sector.copy_from_slice(&self.buffer[at..at + SECTOR_SIZE]);
            if backend.write(lba, &sector).is_err() {
                self.stats.host_errors += 1;
                self.stats.sectors_written += i as u64;
                self.fail_at(ERROR_ABRT, lba, remaining - i, lba_mode);
                return;
            }
        }
        self.stats.sectors_written += n as u64;
        self.set_address(next_lba + n as u64 - 1, lba_mode);
        self.regs.sector_count = (remaining - n) as u8;
        self.transfer = Transfer::Out {
            next_lba: next_lba + n as u64,
            remaining: remaining - n,
            block,
            lba_mode,
        };
        // ATA PIO-out: INTRQ after each block is written (asking for the next one, or
        // signalling completion after the last).
        self.next_out_block(true);
    }

    fn verify(&mut self) {
        let lba_mode = self.lba_mode();
        let count = self.sector_count();
        let Some(lba) = self.start_address() else {
            self.fail(ERROR_IDNF | ERROR_ABRT);
            return;
        };
        let end = lba + count as u64;
        if end > self.capacity {
            let first_bad = lba.max(self.capacity);
            self.fail_at(
                ERROR_IDNF | ERROR_ABRT,
                first_bad,
                (end - first_bad) as u32,
                lba_mode,
            );
        } else {
            self.set_address(end - 1, lba_mode);
            self.regs.sector_count = 0;
            self.complete();
        }
    }

    /// The guest reads one word from the data register.
    fn read_data(&mut self, backend: &mut dyn DiskBackend) -> Option<u16> {
        if !matches!(self.transfer, Transfer::In { .. }) || self.pos >= self.len {
            return None;
        }
        let word = u16::from_le_bytes([self.buffer[self.pos], self.buffer[self.pos + 1]]);
        self.pos += 2;
        if self.pos == self.len {
            self.next_in_block(backend);
        }
        Some(word)
    }

    /// The guest writes one word to the data register.
    fn write_data(&mut self, word: u16, backend: &mut dyn DiskBackend) -> bool {
        if !matches!(self.transfer, Transfer::Out { .. }) || self.pos >= self.len {
            return false;
        }
        self.buffer[self.pos..self.pos + 2].copy_from_slice(&word.to_le_bytes());
        self.pos += 2;
        if self.pos == self.len {
            self.store_out_block(backend);
        }
        true
    }
}

impl ChannelState {
    fn new(disks: &[Option<Disk>; 2], channel: usize) -> ChannelState {
        let drive = |d: usize| match &disks[d] {
            Some(disk) => DriveState::new(disk, channel * 2 + d),
            None => DriveState::absent(),
        };
        ChannelState {
            drives: [drive(0), drive(1)],
            selected: 0,
            control: 0,
        }
    }

    /// Whether anything drives this channel's bus.
    pub fn present(&self) -> bool {
        self.drives[0].present || self.drives[1].present
    }

    fn in_reset(&self) -> bool {
        self.control & CONTROL_SRST != 0
    }

    fn power_on(&mut self) {
        self.selected = 0;
        self.control = 0;
        for d in &mut self.drives {
            d.power_on();
        }
    }

    fn write_control(&mut self, value: u8) {
        let was_reset = self.in_reset();
        self.control = value;
        let now_reset = self.in_reset();
        if now_reset && !was_reset {
            // SRST asserted: both devices stop whatever they were doing and are busy until
            // it is released.
            for d in self.drives.iter_mut().filter(|d| d.present) {
                d.end_transfer();
                d.intrq = false;
                d.regs.status = STATUS_BSY;
            }
        } else if was_reset && !now_reset {
            // SRST released: the reset completes at once (no virtual delay) with the
            // signature, and device 0 is selected (the Device register reads 00h).
            for d in self.drives.iter_mut().filter(|d| d.present) {
                d.soft_reset();
            }
            self.selected = 0;
        }
    }

    /// The value read from a command block register other than data, or Alternate Status.
    fn read_register(&mut self, reg: u16, clear_interrupt: bool) -> u8 {
        let drive = &mut self.drives[self.selected];
        if !drive.present {
            // Device 0 answers for an absent device 1 (and vice versa) with 00h.
            return 0;
        }
        let r = &drive.regs;
        match reg {
            REG_ERROR => r.error,
            REG_SECTOR_COUNT => r.sector_count,
            REG_LBA_LOW => r.lba_low,
            REG_LBA_MID => r.lba_mid,
            REG_LBA_HIGH => r.lba_high,
            REG_DEVICE => r.device,
            _ => {
                let status = r.status;
                // ATA: reading Status (not Alternate Status) acknowledges the interrupt.
                if clear_interrupt {
                    drive.intrq = false;
                }
                status
            }
        }
    }

    fn write_register(&mut self, reg: u16, value: u8) {
        // ATA: command block writes reach both devices.
        for d in &mut self.drives {
            let r = &mut d.regs;
            match reg {
                REG_ERROR => r.features = value,
                REG_SECTOR_COUNT => r.sector_count = value,
                REG_LBA_LOW => r.lba_low = value,
                REG_LBA_MID => r.lba_mid = value,
                REG_LBA_HIGH => r.lba_high = value,
                _ => r.device = value,
            }
        }
        if reg == REG_DEVICE {
            self.selected = usize::from(value & DEVICE_DEV != 0);
        }
    }
}

// ---------------------------------------------------------------------------------------
// The controller.

/// Where a port lands.
#[derive(Clone, Copy)]
enum Target {
    Command(usize, u16),
    Control(usize),
}

fn decode_port(port: u16) -> Option<Target> {
    for ch in 0..2 {
        let base = COMMAND_BASE[ch];
        if (base..base + 8).contains(&port) {
            return Some(Target::Command(ch, port - base));
        }
        if port == CONTROL_PORT[ch] {
            return Some(Target::Control(ch));
        }
    }
    None
}

fn all_ones(size: u8) -> u32 {
    match size {
        1 => 0xff,
        2 => 0xffff,
        _ => 0xffff_ffff,
    }
}

/// Both IDE channels with their disks.
///
/// The machine routes the ports in [`IdeController::claims_port`] here, samples
/// [`IdeController::irq`] for IRQ 14 and 15 after every access, calls
/// [`IdeController::flush_all`] at power-off, and may drain [`IdeController::take_events`].
pub struct IdeController {
    state: IdeState,
    disks: [[Option<Disk>; 2]; 2],
    events: Vec<DiskEvent>,
    log_events: bool,
}

impl std::fmt::Debug for IdeController {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdeController")
            .field("state", &self.state)
            .field("disks", &self.disks)
            .field("pending_events", &self.events.len())
            .finish()
    }
}

impl IdeController {
    /// `disks[channel][drive]`: channel 0 = primary (hd0), 1 = secondary (hd1); drive 0 =
    /// master, 1 = slave. Pintos: `[[os.dsk, fs.dsk], [scratch, swap]]`.
    pub fn new(disks: [[Option<Disk>; 2]; 2]) -> IdeController {
        let state = IdeState {
            channels: [
                ChannelState::new(&disks[0], 0),
                ChannelState::new(&disks[1], 1),
            ],
            misses: 0,
        };
        IdeController {
            state,
            disks,
            events: Vec::new(),
            log_events: true,
        }
    }

    /// Whether `port` belongs to the controller.
    pub fn claims_port(port: u16) -> bool {
        decode_port(port).is_some()
    }

    /// The level of the channel's IRQ line (IRQ 14 for channel 0, 15 for channel 1).
    pub fn irq(&self, channel: usize) -> bool {
        let Some(c) = self.state.channels.get(channel) else {
            return false;
        };
        let d = &c.drives[c.selected];
        d.present && d.intrq && c.control & CONTROL_NIEN == 0 && !c.in_reset()
    }

    /// Hardware reset (power-on or machine reset): the drives come up as after power-on.
    pub fn reset(&mut self) {
        for c in &mut self.state.channels {
            c.power_on();
        }
    }

    /// Syncs every disk to stable storage (FLUSH CACHE for all; call at power-off). Tries
    /// all disks and returns the first error.
    pub fn flush_all(&mut self) -> io::Result<()> {
        let mut result = Ok(());
        for disk in self.disks.iter_mut().flatten().flatten() {
            if let Err(e) = disk.flush() {
                if result.is_ok() {
                    result = Err(e);
                }
            }
        }
        result
    }

    pub fn state(&self) -> &IdeState {
        &self.state
    }

    pub fn misses(&self) -> u64 {
        self.state.misses
    }

    /// Traffic counters of one drive (zero for absent positions).
    pub fn stats(&self, channel: usize, drive: usize) -> DriveStats {
        self.state.channels[channel].drives[drive].stats
    }

    /// The attached disk, for host-side access (e.g. reading back the scratch disk).
    pub fn disk_mut(&mut self, channel: usize, drive: usize) -> Option<&mut Disk> {
        self.disks.get_mut(channel)?.get_mut(drive)?.as_mut()
    }

    /// Size in sectors of the disk at a position, if one is attached.
    pub fn sectors(&self, channel: usize, drive: usize) -> Option<u64> {
        self.disks.get(channel)?.get(drive)?.as_ref().map(Disk::sectors)
    }

    /// Turns the command log on or off (on by default).
    pub fn set_event_log(&mut self, on: bool) {
        self.log_events = on;
    }

    /// Every command issued to a present drive since the last call, in order.
    pub fn take_events(&mut self) -> Vec<DiskEvent> {
        std::mem::take(&mut self.events)
    }

    fn command(&mut self, ch: usize, command: u8) {
        let chan = &mut self.state.channels[ch];
        if chan.in_reset() {
            return; // BSY: ATA devices ignore commands until reset completes
        }
        if command == CMD_EXECUTE_DIAGNOSTIC {
            // Executed by both devices whichever is selected; device 0 reports for both and
            // raises the interrupt.
            let selected = chan.selected;
            self.log(ch, selected, command);
            let chan = &mut self.state.channels[ch];
            for d in chan.drives.iter_mut().filter(|d| d.present) {
                d.soft_reset();
                d.stats.commands += 1;
            }
            chan.selected = 0;
            chan.drives[0].intrq = chan.drives[0].present;
            return;
        }
        let sel = chan.selected;
        if !chan.drives[sel].present {
            return; // nobody executes commands for an absent device
        }
        self.log(ch, sel, command);
        let drive = &mut self.state.channels[ch].drives[sel];
        match self.disks[ch][sel].as_mut() {
            Some(disk) => drive.execute(command, disk.backend_mut()),
            None => drive.fail(ERROR_ABRT), // unreachable by construction
        }
    }

    fn log(&mut self, ch: usize, drive: usize, command: u8) {
        if !self.log_events {
            return;
        }
        let d = &self.state.channels[ch].drives[drive];
        self.events.push(DiskEvent {
            channel: ch as u8,
            drive: drive as u8,
            command,
            lba: d.start_address().unwrap_or(u64::MAX),
            count: d.sector_count() as u16,
        });
    }

    fn read_data_word(&mut self, ch: usize) -> u16 {
        let sel = self.state.channels[ch].selected;
        let drive = &mut self.state.channels[ch].drives[sel];
        let word = match self.disks[ch][sel].as_mut() {
            Some(disk) if drive.present => drive.read_data(disk.backend_mut()),
            _ => None,
        };
        word.unwrap_or_else(|| {
            self.state.misses += 1;
            0xffff
        })
    }

    fn write_data_word(&mut self, ch: usize, word: u16) {
        let sel = self.state.channels[ch].selected;
        let drive = &mut self.state.channels[ch].drives[sel];
        let ok = match self.disks[ch][sel].as_mut() {
            Some(disk) if drive.present => drive.write_data(word, disk.backend_mut()),
            _ => false,
        };
        if !ok {
            self.state.misses += 1;
        }
    }
}

impl PortDevice for IdeController {
    fn read(&mut self, port: u16, size: u8) -> u32 {
        let Some(target) = decode_port(port) else {
            self.state.misses += 1;
            return all_ones(size);
        };
        let ch = match target {
            Target::Command(ch, _) | Target::Control(ch) => ch,
        };
        if !self.state.channels[ch].present() {
            return all_ones(size); // floating bus
        }
        match target {
            Target::Command(ch, REG_DATA) => match size {
                2 => self.read_data_word(ch) as u32,
                4 => {
                    let lo = self.read_data_word(ch) as u32;
                    lo | (self.read_data_word(ch) as u32) << 16
                }
                _ => {
                    self.state.misses += 1;
                    all_ones(size)
                }
            },
            _ if size != 1 => {
                self.state.misses += 1;
                all_ones(size)
            }
            Target::Command(ch, reg) => self.state.channels[ch].read_register(reg, true) as u32,
            Target::Control(ch) => self.state.channels[ch].read_register(REG_STATUS, false) as u32,
        }
    }

    fn write(&mut self, port: u16, size: u8, value: u32) {
        let Some(target) = decode_port(port) else {
            self.state.misses += 1;
            return;
        };
        let ch = match target {
            Target::Command(ch, _) | Target::Control(ch) => ch,
        };
        if !self.state.channels[ch].present() {
            return; // nobody listens on an empty channel
        }
        match target {
            Target::Command(ch, REG_DATA) => match size {
                2 => self.write_data_word(ch, value as u16),
                4 => {
                    self.write_data_word(ch, value as u16);
                    self.write_data_word(ch, (value >> 16) as u16);
                }
                _ => self.state.misses += 1,
            },
            _ if size != 1 => self.state.misses += 1,
            Target::Command(ch, REG_STATUS) => {
                // (Writing the Command register also clears the drive's pending interrupt;
                // see `DriveState::execute`.)
                self.command(ch, value as u8)
            }
            Target::Command(ch, reg) => self.state.channels[ch].write_register(reg, value as u8),
            Target::Control(ch) => self.state.channels[ch].write_control(value as u8),
        }
    }
}

#[cfg(test)]
mod tests {
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

    // ---- tests ----------------------------------------------------------------------------

    #[test]
    fn identify_reports_capacity_geometry_strings_and_capabilities() {
        let mut c = four_disks();
        for (ch, dev) in POSITIONS {
            let n = ch * 2 + dev + 1;
            let w = identify(&mut c, ch, dev);
            let sectors = n as u32 * 100;
            assert_eq!(w[0], 0x0040);
            assert_eq!(w[60] as u32 | (w[61] as u32) << 16, sectors);
            assert_eq!(w[49] & 0x0200, 0x0200, "LBA supported");
            assert_eq!((w[1], w[3], w[6]), (1, 16, 63)); // fewer sectors than one cylinder
            assert_eq!(w[47], 0x8010);
            assert_eq!(w[59], 0, "multiple mode off at power-on");
            assert_eq!(ata_string(&w[27..47]), "QEMU HARDDISK");
            assert_eq!(ata_string(&w[10..20]), format!("QM0000{n}"));
            assert_eq!(ata_string(&w[23..27]), "2.5+");
            assert_eq!(w[80], 0x001e);
            assert_eq!(w[83] & 0xc000, 0x4000, "word 83 valid");
            // The model's first two characters: 'Q' in the high byte of word 27.
            assert_eq!(w[27], (b'Q' as u16) << 8 | b'E' as u16);
            // Data phase over: DRQ clear, no extra interrupt.
            assert_eq!(alt_status(&mut c, ch), STATUS_DRDY | STATUS_DSC);
            assert!(!c.irq(ch));
        }
    }

    #[test]
    fn identify_integrity_word_checksums_to_zero_and_big_disk_geometry() {
        let mut c = IdeController::new([
            [
                Some(
                    Disk::zeroed(20 * PINTOS_DISK_UNIT)
                        .unwrap()
                        .with_model("Test Model X"),
                ),
                None,
            ],
            [None, None],
        ]);
        let w = identify(&mut c, 0, 0);
        assert_eq!(w[255] & 0xff, 0xa5);
        let sum = w.iter().fold(0u8, |s, &x| {
            s.wrapping_add(x as u8).wrapping_add((x >> 8) as u8)
        });
        assert_eq!(sum, 0);
        assert_eq!((w[1], w[3], w[6]), (40, 16, 63));
        assert_eq!((w[54], w[55], w[56]), (40, 16, 63));
        assert_eq!(w[57] as u32 | (w[58] as u32) << 16, 40 * 16 * 63);
        assert_eq!(w[60] as u32 | (w[61] as u32) << 16, 40320);
        assert_eq!(ata_string(&w[27..47]), "Test Model X");
    }

    #[test]
    fn read_single_sector_on_all_four_drives() {
        let mut c = four_disks();
        for (ch, dev) in POSITIONS {
            let tag = (ch * 2 + dev + 1) as u8;
            issue(&mut c, ch, dev, CMD_READ_SECTORS, 42, 1);
            assert!(c.irq(ch), "data ready raises the interrupt");
            assert_eq!(status(&mut c, ch), STATUS_DRDY | STATUS_DSC | STATUS_DRQ);
            let data = read_words(&mut c, ch, 256);
            assert!(data
                .iter()
                .enumerate()
                .all(|(i, &b)| b == pattern(tag, 42, i)));
            assert_eq!(status(&mut c, ch), STATUS_DRDY | STATUS_DSC);
            assert!(!c.irq(ch));
            assert_eq!(c.stats(ch, dev).sectors_read, 1);
        }
        assert_eq!(c.misses(), 0);
    }

    #[test]
    fn write_single_sector_on_all_four_drives() {
        let mut c = four_disks();
        for (ch, dev) in POSITIONS {
            let data: Vec<u8> = (0..SECTOR_SIZE)
                .map(|i| (i as u8) ^ (ch * 2 + dev) as u8 ^ 0xc3)
                .collect();
            issue(&mut c, ch, dev, CMD_WRITE_SECTORS, 7, 1);
            assert!(!c.irq(ch), "PIO out: no interrupt before the first block");
            assert_eq!(
                alt_status(&mut c, ch),
                STATUS_DRDY | STATUS_DSC | STATUS_DRQ
            );
            write_words(&mut c, ch, &data);
            assert!(c.irq(ch), "interrupt at completion");
            assert_eq!(status(&mut c, ch), STATUS_DRDY | STATUS_DSC);
            assert_eq!(c.stats(ch, dev).sectors_written, 1);
            // Read back through the guest interface and through the backend.
            issue(&mut c, ch, dev, CMD_READ_SECTORS, 7, 1);
            status(&mut c, ch);
            assert_eq!(read_words(&mut c, ch, 256), data);
            let mut sector = [0u8; SECTOR_SIZE];
            c.disk_mut(ch, dev)
                .unwrap()
                .read_sector(7, &mut sector)
                .unwrap();
            assert_eq!(&sector[..], &data[..]);
            // Neighbours untouched.
            c.disk_mut(ch, dev)
                .unwrap()
                .read_sector(8, &mut sector)
                .unwrap();
            assert_eq!(sector[3], pattern((ch * 2 + dev + 1) as u8, 8, 3));
        }
        assert_eq!(c.misses(), 0);
    }

    #[test]
    fn multi_sector_read_raises_an_interrupt_per_sector() {
        let mut c = four_disks();
        for (ch, dev) in POSITIONS {
            let tag = (ch * 2 + dev + 1) as u8;
            issue(&mut c, ch, dev, CMD_READ_SECTORS, 10, 3);
            for s in 0..3u64 {
                assert!(c.irq(ch), "sector {s} ready");
                assert_eq!(status(&mut c, ch), STATUS_DRDY | STATUS_DSC | STATUS_DRQ);
                assert!(!c.irq(ch));
                // Registers show the sector being transferred and the count still to come.
                assert_eq!(inb(&mut c, reg(ch, REG_LBA_LOW)), 10 + s as u8);
                assert_eq!(inb(&mut c, reg(ch, REG_SECTOR_COUNT)), 2 - s as u8);
                let data = read_words(&mut c, ch, 256);
                assert!(data
                    .iter()
                    .enumerate()
                    .all(|(i, &b)| b == pattern(tag, 10 + s, i)));
            }
            assert!(!c.irq(ch), "no interrupt after the last PIO-in block");
            assert_eq!(status(&mut c, ch), STATUS_DRDY | STATUS_DSC);
            assert_eq!(c.stats(ch, dev).sectors_read, 3);
        }
    }

    #[test]
    fn multi_sector_write_raises_an_interrupt_after_each_sector() {
        let mut c = four_disks();
        for (ch, dev) in POSITIONS {
            issue(&mut c, ch, dev, CMD_WRITE_SECTORS, 20, 3);
            for s in 0..3u8 {
                assert_eq!(
                    alt_status(&mut c, ch),
                    STATUS_DRDY | STATUS_DSC | STATUS_DRQ
                );
                write_words(&mut c, ch, &[s + 0x10; SECTOR_SIZE]);
                assert!(c.irq(ch), "sector {s} written");
                let st = status(&mut c, ch);
                if s < 2 {
                    assert_eq!(st, STATUS_DRDY | STATUS_DSC | STATUS_DRQ);
                } else {
                    assert_eq!(st, STATUS_DRDY | STATUS_DSC);
                }
                assert!(!c.irq(ch));
            }
            let disk = c.disk_mut(ch, dev).unwrap();
            for s in 0..3u8 {
                let mut sector = [0u8; SECTOR_SIZE];
                disk.read_sector(20 + s as u64, &mut sector).unwrap();
                assert!(sector.iter().all(|&b| b == s + 0x10));
            }
            assert_eq!(c.stats(ch, dev).sectors_written, 3);
            assert_eq!(inb(&mut c, reg(ch, REG_LBA_LOW)), 22, "last sector written");
            assert_eq!(inb(&mut c, reg(ch, REG_SECTOR_COUNT)), 0);
        }
    }

    #[test]
    fn sector_count_zero_transfers_256_sectors() {
        let mut c = IdeController::new([[Some(patterned_disk(9, 600)), None], [None, None]]);
        issue(&mut c, 0, 0, CMD_READ_SECTORS, 100, 0);
        let mut sectors = 0;
        while status(&mut c, 0) & STATUS_DRQ != 0 {
            let data = read_words(&mut c, 0, 256);
            assert_eq!(data[5], pattern(9, 100 + sectors, 5));
            sectors += 1;
        }
        assert_eq!(sectors, 256);
        assert_eq!(c.stats(0, 0).sectors_read, 256);
    }

    #[test]
    fn read_and_write_multiple_use_blocks_of_the_multiple_setting() {
        let mut c = IdeController::new([[Some(patterned_disk(5, 100)), None], [None, None]]);
        // Without SET MULTIPLE, READ MULTIPLE aborts.
        issue(&mut c, 0, 0, CMD_READ_MULTIPLE, 0, 4);
        assert_eq!(status(&mut c, 0), STATUS_DRDY | STATUS_DSC | STATUS_ERR);
        assert_eq!(inb(&mut c, reg(0, REG_ERROR)), ERROR_ABRT);
        // A non-power-of-two block is refused.
        issue(&mut c, 0, 0, CMD_SET_MULTIPLE, 0, 3);
        assert_eq!(status(&mut c, 0) & STATUS_ERR, STATUS_ERR);
        issue(&mut c, 0, 0, CMD_SET_MULTIPLE, 0, 4);
        assert!(c.irq(0));
        assert_eq!(status(&mut c, 0), STATUS_DRDY | STATUS_DSC);
        assert_eq!(identify(&mut c, 0, 0)[59], 0x0104);
        // 6 sectors in blocks of 4: two interrupts, 4 then 2 sectors.
        issue(&mut c, 0, 0, CMD_READ_MULTIPLE, 30, 6);
        assert!(c.irq(0));
        status(&mut c, 0);
        let first = read_words(&mut c, 0, 4 * 256);
        assert_eq!(first[3 * 512 + 1], pattern(5, 33, 1));
        assert!(c.irq(0));
        status(&mut c, 0);
        let second = read_words(&mut c, 0, 2 * 256);
        assert_eq!(second[512 + 9], pattern(5, 35, 9));
        assert_eq!(status(&mut c, 0), STATUS_DRDY | STATUS_DSC);
        // WRITE MULTIPLE: one interrupt per block.
        issue(&mut c, 0, 0, CMD_WRITE_MULTIPLE, 50, 5);
        assert!(!c.irq(0));
        write_words(&mut c, 0, &[0xee; 4 * SECTOR_SIZE]);
        assert!(c.irq(0));
        assert_eq!(status(&mut c, 0), STATUS_DRDY | STATUS_DSC | STATUS_DRQ);
        write_words(&mut c, 0, &[0xdd; SECTOR_SIZE]);
        assert!(c.irq(0));
        assert_eq!(status(&mut c, 0), STATUS_DRDY | STATUS_DSC);
        let mut sector = [0u8; SECTOR_SIZE];
        c.disk_mut(0, 0)
            .unwrap()
            .read_sector(53, &mut sector)
            .unwrap();
        assert_eq!(sector[0], 0xee);
        c.disk_mut(0, 0)
            .unwrap()
            .read_sector(54, &mut sector)
            .unwrap();
        assert_eq!(sector[0], 0xdd);
        assert_eq!(c.stats(0, 0).sectors_written, 5);
        assert_eq!(c.misses(), 0);
    }

    #[test]
    fn status_read_clears_interrupt_but_alternate_status_does_not() {
        let mut c = four_disks();
        issue(&mut c, 0, 1, CMD_READ_SECTORS, 0, 1);
        assert!(c.irq(0));
        assert_eq!(alt_status(&mut c, 0), STATUS_DRDY | STATUS_DSC | STATUS_DRQ);
        assert!(c.irq(0), "alternate status leaves the interrupt pending");
        assert_eq!(status(&mut c, 0), STATUS_DRDY | STATUS_DSC | STATUS_DRQ);
        assert!(!c.irq(0), "status read acknowledges it");
        assert!(!c.irq(1), "the other channel is unaffected");
        // Writing a new command also clears a pending interrupt before executing.
        issue(&mut c, 0, 1, CMD_WRITE_SECTORS, 0, 1);
        assert!(!c.irq(0));
    }

    #[test]
    fn nien_suppresses_the_interrupt_line() {
        let mut c = four_disks();
        outb(&mut c, CONTROL_PORT[1], CONTROL_NIEN);
        issue(&mut c, 1, 0, CMD_READ_SECTORS, 3, 1);
        assert!(!c.irq(1), "nIEN set: line not driven");
        assert_eq!(alt_status(&mut c, 1), STATUS_DRDY | STATUS_DSC | STATUS_DRQ);
        // The interrupt is still pending inside the drive and appears once nIEN is cleared.
        outb(&mut c, CONTROL_PORT[1], 0);
        assert!(c.irq(1));
        status(&mut c, 1);
        assert!(!c.irq(1));
        // Polling with nIEN: a whole transfer without the line ever rising.
        outb(&mut c, CONTROL_PORT[1], CONTROL_NIEN);
        read_words(&mut c, 1, 256);
        issue(&mut c, 1, 0, CMD_WRITE_SECTORS, 3, 2);
        write_words(&mut c, 1, &[1; 2 * SECTOR_SIZE]);
        assert!(!c.irq(1));
        assert_eq!(alt_status(&mut c, 1), STATUS_DRDY | STATUS_DSC);
    }

    #[test]
    fn srst_sets_signature_and_selects_master() {
        let mut c = four_disks();
        // Disturb the registers, select the slave, leave a transfer half done.
        issue(&mut c, 0, 1, CMD_READ_SECTORS, 0x123456, 4);
        outb(&mut c, reg(0, REG_ERROR), 0x77);
        outb(&mut c, CONTROL_PORT[0], CONTROL_SRST);
        assert_eq!(alt_status(&mut c, 0), STATUS_BSY, "busy while SRST is held");
        assert!(!c.irq(0));
        outb(&mut c, CONTROL_PORT[0], 0);
        assert_eq!(c.state().channels[0].selected, 0);
        for dev in [1, 0] {
            select(&mut c, 0, dev);
            assert_eq!(inb(&mut c, reg(0, REG_SECTOR_COUNT)), 1);
            assert_eq!(inb(&mut c, reg(0, REG_LBA_LOW)), 1);
            assert_eq!(inb(&mut c, reg(0, REG_LBA_MID)), 0);
            assert_eq!(inb(&mut c, reg(0, REG_LBA_HIGH)), 0);
            assert_eq!(inb(&mut c, reg(0, REG_ERROR)), ERROR_DIAG_PASSED);
            assert_eq!(status(&mut c, 0), STATUS_DRDY | STATUS_DSC);
        }
        assert!(!c.irq(0), "reset raises no interrupt");
        // The aborted transfer is gone: data reads are misuse.
        let misses = c.misses();
        c.read(reg(0, REG_DATA), 2);
        assert_eq!(c.misses(), misses + 1);
        // After reset the master is selected and the Device register reads 00h.
        let mut c = four_disks();
        select(&mut c, 1, 1);
        outb(&mut c, CONTROL_PORT[1], CONTROL_SRST | CONTROL_NIEN);
        outb(&mut c, CONTROL_PORT[1], 0);
        assert_eq!(inb(&mut c, reg(1, REG_DEVICE)), 0);
        assert_eq!(c.state().channels[1].selected, 0);
    }

    #[test]
    fn absent_channel_reads_all_ones() {
        let mut c = IdeController::new([[Some(patterned_disk(1, 10)), None], [None, None]]);
        for r in 1..8 {
            assert_eq!(inb(&mut c, reg(1, r)), 0xff);
        }
        assert_eq!(c.read(reg(1, REG_DATA), 2), 0xffff);
        assert_eq!(c.read(reg(1, REG_DATA), 4), 0xffff_ffff);
        assert_eq!(alt_status(&mut c, 1), 0xff);
        // Writes (including a probe's test patterns and commands) go nowhere.
        outb(&mut c, reg(1, REG_SECTOR_COUNT), 0x55);
        outb(&mut c, reg(1, REG_STATUS), CMD_IDENTIFY);
        outb(&mut c, CONTROL_PORT[1], CONTROL_SRST);
        assert_eq!(inb(&mut c, reg(1, REG_SECTOR_COUNT)), 0xff);
        assert!(!c.irq(1));
        assert!(c.take_events().is_empty());
        assert_eq!(c.misses(), 0, "probing an empty channel is not misuse");
    }

    #[test]
    fn absent_slave_reads_zero_and_ignores_commands() {
        let mut c = IdeController::new([[Some(patterned_disk(1, 10)), None], [None, None]]);
        select(&mut c, 0, 1);
        outb(&mut c, reg(0, REG_SECTOR_COUNT), 0x55);
        outb(&mut c, reg(0, REG_LBA_LOW), 0xaa);
        for r in 1..8 {
            assert_eq!(inb(&mut c, reg(0, r)), 0, "register {r}");
        }
        assert_eq!(alt_status(&mut c, 0), 0);
        outb(&mut c, reg(0, REG_STATUS), CMD_IDENTIFY);
        assert_eq!(status(&mut c, 0), 0);
        assert!(!c.irq(0));
        assert!(c.take_events().is_empty());
        // The master received the register writes too (ATA: writes reach both devices).
        select(&mut c, 0, 0);
        assert_eq!(inb(&mut c, reg(0, REG_SECTOR_COUNT)), 0x55);
        assert_eq!(inb(&mut c, reg(0, REG_LBA_LOW)), 0xaa);
        assert_eq!(status(&mut c, 0), STATUS_DRDY | STATUS_DSC);
    }

    /// Probes a channel the way Pintos' driver does (a write/read-back presence test, a soft
    /// reset, then the error/status/signature check) and returns which positions are ATA
    /// disks and their IDENTIFY capacities.
    #[allow(clippy::needless_range_loop)] // positions index several parallel arrays
    fn pintos_style_probe(c: &mut IdeController, ch: usize) -> [Option<u32>; 2] {
        let mut present = [false; 2];
        for dev in 0..2 {
            select(c, ch, dev);
            alt_status(c, ch);
            for (a, b) in [(0x55, 0xaa), (0xaa, 0x55), (0x55, 0xaa)] {
                outb(c, reg(ch, REG_SECTOR_COUNT), a);
                outb(c, reg(ch, REG_LBA_LOW), b);
            }
            present[dev] =
                inb(c, reg(ch, REG_SECTOR_COUNT)) == 0x55 && inb(c, reg(ch, REG_LBA_LOW)) == 0xaa;
        }
        outb(c, CONTROL_PORT[ch], 0);
        outb(c, CONTROL_PORT[ch], CONTROL_SRST);
        outb(c, CONTROL_PORT[ch], 0);
        if present[0] {
            select(c, ch, 0);
            assert_eq!(alt_status(c, ch) & STATUS_BSY, 0);
        }
        if present[1] {
            select(c, ch, 1);
            assert_eq!(inb(c, reg(ch, REG_SECTOR_COUNT)), 1);
            assert_eq!(inb(c, reg(ch, REG_LBA_LOW)), 1);
            assert_eq!(alt_status(c, ch) & STATUS_BSY, 0);
        }
        let mut is_ata = [false; 2];
        for dev in 0..2 {
            select(c, ch, dev);
            let error = inb(c, reg(ch, REG_ERROR));
            let mid = inb(c, reg(ch, REG_LBA_MID));
            let high = inb(c, reg(ch, REG_LBA_HIGH));
            let st = status(c, ch);
            let diag_ok = error == 1 || (error == 0x81 && dev == 0);
            if !diag_ok || st & STATUS_DRDY == 0 || st & STATUS_BSY != 0 {
                if dev == 0 && error == 0x81 {
                    break; // no slave possible
                }
                continue;
            }
            is_ata[dev] = mid == 0 && high == 0;
        }
        let mut out = [None; 2];
        for dev in 0..2 {
            if is_ata[dev] {
                let w = identify(c, ch, dev);
                out[dev] = Some(w[60] as u32 | (w[61] as u32) << 16);
            }
        }
        out
    }

    #[test]
    #[allow(clippy::needless_range_loop)]
    fn pintos_style_probe_finds_exactly_the_attached_disks() {
        for mask in 0u8..16 {
            let d = |bit: u8| (mask & 1 << bit != 0).then(|| patterned_disk(bit, 10 + bit as u64));
            let mut c = IdeController::new([[d(0), d(1)], [d(2), d(3)]]);
            for ch in 0..2 {
                let found = pintos_style_probe(&mut c, ch);
                for dev in 0..2 {
                    let bit = (ch * 2 + dev) as u8;
                    let expect = (mask & 1 << bit != 0).then_some(10 + bit as u32);
                    assert_eq!(found[dev], expect, "mask {mask:04b} hd{ch}:{dev}");
                }
            }
        }
    }

    #[test]
    fn out_of_range_lba_reports_idnf_and_abrt() {
        let mut c = four_disks(); // hd0:0 has 100 sectors
        issue(&mut c, 0, 0, CMD_READ_SECTORS, 100, 1);
        assert!(c.irq(0), "error completion interrupts");
        assert_eq!(status(&mut c, 0), STATUS_DRDY | STATUS_DSC | STATUS_ERR);
        assert_eq!(inb(&mut c, reg(0, REG_ERROR)), ERROR_IDNF | ERROR_ABRT);
        assert_eq!(c.stats(0, 0).sectors_read, 0);
        // Starting inside, running off the end: the good sectors transfer, then the error,
        // with the registers at the failing sector.
        issue(&mut c, 0, 0, CMD_READ_SECTORS, 98, 4);
        status(&mut c, 0);
        read_words(&mut c, 0, 256);
        assert!(c.irq(0));
        assert_eq!(status(&mut c, 0), STATUS_DRDY | STATUS_DSC | STATUS_DRQ);
        read_words(&mut c, 0, 256);
        assert!(c.irq(0));
        assert_eq!(status(&mut c, 0), STATUS_DRDY | STATUS_DSC | STATUS_ERR);
        assert_eq!(inb(&mut c, reg(0, REG_ERROR)), ERROR_IDNF | ERROR_ABRT);
        assert_eq!(inb(&mut c, reg(0, REG_LBA_LOW)), 100);
        assert_eq!(inb(&mut c, reg(0, REG_SECTOR_COUNT)), 2);
        assert_eq!(c.stats(0, 0).sectors_read, 2);
        // Writes past the end never store anything.
        issue(&mut c, 0, 0, CMD_WRITE_SECTORS, 0x0fff_ffff, 1);
        assert_eq!(status(&mut c, 0), STATUS_DRDY | STATUS_DSC | STATUS_ERR);
        assert_eq!(inb(&mut c, reg(0, REG_ERROR)), ERROR_IDNF | ERROR_ABRT);
        // Verify and seek check the range too.
        issue(&mut c, 0, 0, CMD_READ_VERIFY, 99, 2);
        assert_eq!(status(&mut c, 0) & STATUS_ERR, STATUS_ERR);
        issue(&mut c, 0, 0, CMD_READ_VERIFY, 98, 2);
        assert_eq!(status(&mut c, 0), STATUS_DRDY | STATUS_DSC);
        issue(&mut c, 0, 0, CMD_SEEK, 100, 1);
        assert_eq!(status(&mut c, 0) & STATUS_ERR, STATUS_ERR);
        assert_eq!(c.stats(0, 0).errors, 5);
        assert_eq!(c.stats(0, 0).sectors_written, 0);
    }

    #[test]
    fn chs_addressing_translates_with_16_heads_and_63_sectors() {
        let mut c = IdeController::new([[Some(patterned_disk(3, 3000)), None], [None, None]]);
        // Cylinder 2, head 5, sector 7 → (2 × 16 + 5) × 63 + 6 = 2337.
        let read_chs = |c: &mut IdeController, cyl: u16, head: u8, sector: u8, count: u8| {
            outb(c, reg(0, REG_DEVICE), 0xa0 | head);
            outb(c, reg(0, REG_SECTOR_COUNT), count);
            outb(c, reg(0, REG_LBA_LOW), sector);
            outb(c, reg(0, REG_LBA_MID), cyl as u8);
            outb(c, reg(0, REG_LBA_HIGH), (cyl >> 8) as u8);
            outb(c, reg(0, REG_STATUS), CMD_READ_SECTORS);
            status(c, 0)
        };
        assert_eq!(
            read_chs(&mut c, 2, 5, 7, 1),
            STATUS_DRDY | STATUS_DSC | STATUS_DRQ
        );
        let data = read_words(&mut c, 0, 256);
        assert!(data
            .iter()
            .enumerate()
            .all(|(i, &b)| b == pattern(3, 2337, i)));
        // Crossing a track boundary: head 0 sector 63 then head 1 sector 1; registers follow
        // in CHS form.
        assert_eq!(
            read_chs(&mut c, 0, 0, 63, 2),
            STATUS_DRDY | STATUS_DSC | STATUS_DRQ
        );
        assert_eq!(read_words(&mut c, 0, 256)[0], pattern(3, 62, 0));
        status(&mut c, 0);
        assert_eq!(read_words(&mut c, 0, 256)[0], pattern(3, 63, 0));
        assert_eq!(inb(&mut c, reg(0, REG_LBA_LOW)), 1);
        assert_eq!(inb(&mut c, reg(0, REG_DEVICE)) & 0x0f, 1);
        assert_eq!(c.take_events().last().unwrap().lba, 62);
        // Sector 0 does not exist in CHS.
        assert_eq!(
            read_chs(&mut c, 0, 0, 0, 1),
            STATUS_DRDY | STATUS_DSC | STATUS_ERR
        );
        assert_eq!(inb(&mut c, reg(0, REG_ERROR)), ERROR_IDNF | ERROR_ABRT);
        // INITIALIZE DEVICE PARAMETERS changes the translation: 4 heads × 17 sectors.
        outb(&mut c, reg(0, REG_DEVICE), 0xa0 | 3);
        outb(&mut c, reg(0, REG_SECTOR_COUNT), 17);
        outb(&mut c, reg(0, REG_STATUS), CMD_INITIALIZE_PARAMETERS);
        assert_eq!(status(&mut c, 0), STATUS_DRDY | STATUS_DSC);
        // Cylinder 1, head 2, sector 3 → (1 × 4 + 2) × 17 + 2 = 104.
        assert_eq!(
            read_chs(&mut c, 1, 2, 3, 1),
            STATUS_DRDY | STATUS_DSC | STATUS_DRQ
        );
        assert_eq!(read_words(&mut c, 0, 256)[0], pattern(3, 104, 0));
        let w = identify(&mut c, 0, 0);
        assert_eq!((w[54], w[55], w[56]), (3000 / 68, 4, 17));
        assert_eq!(
            (w[1], w[3], w[6]),
            (2, 16, 63),
            "default geometry unchanged"
        );
    }

    #[test]
    fn file_backed_writes_are_visible_in_the_file_immediately() {
        let path = TempPath::new("ide-file");
        std::fs::write(&path.0, vec![0u8; 8 * SECTOR_SIZE]).unwrap();
        let mut c = IdeController::new([
            [Some(Disk::open(&path.0, false).unwrap()), None],
            [None, None],
        ]);
        issue(&mut c, 0, 0, CMD_WRITE_SECTORS, 3, 2);
        write_words(&mut c, 0, &[0xab; SECTOR_SIZE]);
        // Before the command even completes, the first sector is in the file.
        let now = std::fs::read(&path.0).unwrap();
        assert!(now[3 * SECTOR_SIZE..4 * SECTOR_SIZE]
            .iter()
            .all(|&b| b == 0xab));
        assert!(now[4 * SECTOR_SIZE..].iter().all(|&b| b == 0));
        write_words(&mut c, 0, &[0xcd; SECTOR_SIZE]);
        let now = std::fs::read(&path.0).unwrap();
        assert!(now[4 * SECTOR_SIZE..5 * SECTOR_SIZE]
            .iter()
            .all(|&b| b == 0xcd));
        assert_eq!(now.len(), 8 * SECTOR_SIZE);
        // FLUSH CACHE succeeds and the content survives dropping the controller.
        issue(&mut c, 0, 0, CMD_FLUSH_CACHE, 0, 0);
        assert_eq!(status(&mut c, 0), STATUS_DRDY | STATUS_DSC);
        c.flush_all().unwrap();
        drop(c);
        let after = std::fs::read(&path.0).unwrap();
        assert_eq!(after, now);
    }

    #[test]
    fn file_backed_partial_last_sector_reads_padded_and_guest_cannot_write_past_it() {
        let path = TempPath::new("ide-partial");
        std::fs::write(&path.0, vec![0x77u8; SECTOR_SIZE + 10]).unwrap();
        let mut c = IdeController::new([
            [Some(Disk::open(&path.0, false).unwrap()), None],
            [None, None],
        ]);
        assert_eq!(identify(&mut c, 0, 0)[60], 2);
        issue(&mut c, 0, 0, CMD_READ_SECTORS, 1, 1);
        status(&mut c, 0);
        let data = read_words(&mut c, 0, 256);
        assert!(data[..10].iter().all(|&b| b == 0x77));
        assert!(data[10..].iter().all(|&b| b == 0));
        issue(&mut c, 0, 0, CMD_WRITE_SECTORS, 2, 1);
        assert_eq!(status(&mut c, 0) & STATUS_ERR, STATUS_ERR);
        assert_eq!(std::fs::read(&path.0).unwrap().len(), SECTOR_SIZE + 10);
    }

    #[test]
    fn host_io_errors_become_ata_errors() {
        let reads = Disk::new(Box::new(FailingDisk {
            fail_reads: true,
            fail_writes: false,
        }));
        let writes = Disk::new(Box::new(FailingDisk {
            fail_reads: false,
            fail_writes: true,
        }));
        let mut c = IdeController::new([[Some(reads), Some(writes)], [None, None]]);
        issue(&mut c, 0, 0, CMD_READ_SECTORS, 5, 1);
        assert_eq!(status(&mut c, 0), STATUS_DRDY | STATUS_DSC | STATUS_ERR);
        assert_eq!(inb(&mut c, reg(0, REG_ERROR)), ERROR_UNC);
        assert_eq!(c.stats(0, 0).host_errors, 1);
        issue(&mut c, 0, 1, CMD_WRITE_SECTORS, 5, 2);
        write_words(&mut c, 0, &[0; SECTOR_SIZE]);
        assert!(c.irq(0));
        assert_eq!(status(&mut c, 0), STATUS_DRDY | STATUS_DSC | STATUS_ERR);
        assert_eq!(inb(&mut c, reg(0, REG_ERROR)), ERROR_ABRT);
        assert_eq!(inb(&mut c, reg(0, REG_SECTOR_COUNT)), 2);
        issue(&mut c, 0, 1, CMD_FLUSH_CACHE, 0, 0);
        assert_eq!(status(&mut c, 0) & STATUS_ERR, STATUS_ERR);
        assert_eq!(c.stats(0, 1).host_errors, 2);
        assert_eq!(c.stats(0, 1).sectors_written, 0);
        assert!(c.flush_all().is_err());
        // A read-only memory disk refuses writes the same way.
        let ro = Disk::new(Box::new(MemoryDisk::zeroed(4096).unwrap().read_only()));
        let mut c = IdeController::new([[None, None], [Some(ro), None]]);
        issue(&mut c, 1, 0, CMD_WRITE_SECTORS, 0, 1);
        write_words(&mut c, 1, &[1; SECTOR_SIZE]);
        assert_eq!(status(&mut c, 1) & STATUS_ERR, STATUS_ERR);
    }

    #[test]
    fn packet_reset_and_unknown_commands_abort_and_simple_commands_complete() {
        let mut c = four_disks();
        for cmd in [
            CMD_IDENTIFY_PACKET,
            CMD_PACKET,
            CMD_DEVICE_RESET,
            CMD_NOP,
            0xea,
            0xff,
            0x50,
        ] {
            issue(&mut c, 1, 1, cmd, 0, 1);
            assert!(c.irq(1), "command {cmd:#x} completes with an interrupt");
            assert_eq!(
                status(&mut c, 1),
                STATUS_DRDY | STATUS_DSC | STATUS_ERR,
                "{cmd:#x}"
            );
            assert_eq!(inb(&mut c, reg(1, REG_ERROR)), ERROR_ABRT);
        }
        for cmd in [
            CMD_SET_FEATURES,
            CMD_IDLE_IMMEDIATE,
            CMD_STANDBY_IMMEDIATE,
            CMD_IDLE,
            CMD_FLUSH_CACHE,
            CMD_RECALIBRATE,
            CMD_SEEK,
            CMD_READ_VERIFY,
            CMD_CHECK_POWER_MODE,
        ] {
            issue(&mut c, 1, 1, cmd, 0, 1);
            assert!(c.irq(1));
            assert_eq!(status(&mut c, 1), STATUS_DRDY | STATUS_DSC, "{cmd:#x}");
            assert_eq!(
                inb(&mut c, reg(1, REG_ERROR)),
                0,
                "error cleared by a new command"
            );
        }
        assert_eq!(
            inb(&mut c, reg(1, REG_SECTOR_COUNT)),
            0xff,
            "power mode: active"
        );
        // EXECUTE DEVICE DIAGNOSTIC: signature on both, master selected, interrupt.
        issue(&mut c, 1, 1, CMD_EXECUTE_DIAGNOSTIC, 9, 9);
        assert_eq!(c.state().channels[1].selected, 0);
        assert!(c.irq(1));
        assert_eq!(inb(&mut c, reg(1, REG_ERROR)), ERROR_DIAG_PASSED);
        assert_eq!(inb(&mut c, reg(1, REG_SECTOR_COUNT)), 1);
        assert_eq!(c.misses(), 0);
    }

    #[test]
    fn thirty_two_bit_data_accesses_move_two_words() {
        let mut c = four_disks();
        issue(&mut c, 0, 0, CMD_READ_SECTORS, 1, 1);
        status(&mut c, 0);
        let mut data = Vec::new();
        for _ in 0..128 {
            data.extend_from_slice(&c.read(reg(0, REG_DATA), 4).to_le_bytes());
        }
        assert!(data.iter().enumerate().all(|(i, &b)| b == pattern(1, 1, i)));
        assert_eq!(status(&mut c, 0), STATUS_DRDY | STATUS_DSC);
        issue(&mut c, 0, 0, CMD_WRITE_SECTORS, 2, 1);
        for i in 0..128u32 {
            c.write(reg(0, REG_DATA), 4, i * 0x0101_0101);
        }
        assert_eq!(status(&mut c, 0), STATUS_DRDY | STATUS_DSC);
        let mut sector = [0u8; SECTOR_SIZE];
        c.disk_mut(0, 0)
            .unwrap()
            .read_sector(2, &mut sector)
            .unwrap();
        assert_eq!(&sector[8..12], &[2, 2, 2, 2]);
        assert_eq!(c.misses(), 0);
    }

    #[test]
    fn misuse_is_counted_not_fatal() {
        let mut c = four_disks();
        c.read(reg(0, REG_DATA), 2); // no data phase
        c.write(reg(0, REG_DATA), 2, 0); // no data phase
        c.read(reg(0, REG_DATA), 1); // byte access to the data register
        assert_eq!(c.read(reg(0, REG_STATUS), 2), 0xffff); // word access to a byte register
        c.write(0x1e0, 1, 0); // not ours
        assert_eq!(c.read(0x3f7, 1), 0xff);
        assert_eq!(c.misses(), 6);
        assert!(!IdeController::claims_port(0x3f7));
        assert!(IdeController::claims_port(0x1f0) && IdeController::claims_port(0x376));
    }

    #[test]
    fn commands_are_logged_and_traffic_counted() {
        let mut c = four_disks();
        issue(&mut c, 1, 1, CMD_READ_SECTORS, 0x123, 2);
        status(&mut c, 1);
        read_words(&mut c, 1, 512);
        issue(&mut c, 0, 1, CMD_WRITE_SECTORS, 77, 0);
        let events = c.take_events();
        assert_eq!(
            events,
            vec![
                DiskEvent {
                    channel: 1,
                    drive: 1,
                    command: CMD_READ_SECTORS,
                    lba: 0x123,
                    count: 2
                },
                DiskEvent {
                    channel: 0,
                    drive: 1,
                    command: CMD_WRITE_SECTORS,
                    lba: 77,
                    count: 256
                },
            ]
        );
        assert!(c.take_events().is_empty(), "drained");
        assert_eq!(c.stats(1, 1).commands, 1);
        assert_eq!(c.stats(1, 1).sectors_read, 2);
        c.set_event_log(false);
        issue(&mut c, 0, 0, CMD_IDENTIFY, 0, 1);
        assert!(c.take_events().is_empty());
    }

    #[test]
    fn hardware_reset_restores_power_on_state() {
        let mut c = four_disks();
        let initial = c.state().clone();
        issue(&mut c, 0, 0, CMD_SET_MULTIPLE, 0, 8);
        issue(&mut c, 0, 1, CMD_READ_SECTORS, 5, 3);
        outb(&mut c, CONTROL_PORT[1], CONTROL_NIEN);
        c.reset();
        let mut after = c.state().clone();
        // Counters are statistics, not device state: they survive the reset.
        for ch in &mut after.channels {
            for d in &mut ch.drives {
                d.stats = DriveStats::default();
            }
        }
        for (a, b) in after.channels.iter().zip(&initial.channels) {
            for (x, y) in a.drives.iter().zip(&b.drives) {
                assert_eq!(x.regs, y.regs);
                assert_eq!(x.multiple, y.multiple);
                assert_eq!(x.intrq, y.intrq);
            }
            assert_eq!((a.selected, a.control), (b.selected, b.control));
        }
    }

    /// Counts rising edges of a channel's IRQ line across port accesses, as an
    /// edge-triggered 8259 would see them, and runs an "interrupt handler" (a Status read)
    /// on each edge, like Pintos' handler does.
    struct EdgeBus {
        c: IdeController,
        ch: usize,
        level: bool,
        edges: u32,
    }

    impl EdgeBus {
        fn sample(&mut self) {
            let now = self.c.irq(self.ch);
            if now && !self.level {
                self.edges += 1;
                self.level = now;
                inb(&mut self.c, reg(self.ch, REG_STATUS)); // acknowledge
                self.level = self.c.irq(self.ch);
            } else {
                self.level = now;
            }
        }
        fn inb(&mut self, port: u16) -> u8 {
            let v = inb(&mut self.c, port);
            self.sample();
            v
        }
        fn outb(&mut self, port: u16, v: u8) {
            outb(&mut self.c, port, v);
            self.sample();
        }
        fn inw(&mut self) -> u16 {
            let v = self.c.read(reg(self.ch, REG_DATA), 2) as u16;
            self.sample();
            v
        }
        fn outw(&mut self, v: u16) {
            self.c.write(reg(self.ch, REG_DATA), 2, v as u32);
            self.sample();
        }
        /// Select with idle waits before and after, then the LBA28 address of one sector.
        fn select_sector(&mut self, dev: usize, lba: u32) {
            let ch = self.ch;
            assert_eq!(self.inb(reg(ch, REG_STATUS)) & (STATUS_BSY | STATUS_DRQ), 0);
            self.outb(reg(ch, REG_DEVICE), 0xa0 | (dev as u8) << 4);
            self.inb(CONTROL_PORT[ch]);
            assert_eq!(self.inb(reg(ch, REG_STATUS)) & (STATUS_BSY | STATUS_DRQ), 0);
            self.outb(reg(ch, REG_SECTOR_COUNT), 1);
            self.outb(reg(ch, REG_LBA_LOW), lba as u8);
            self.outb(reg(ch, REG_LBA_MID), (lba >> 8) as u8);
            self.outb(reg(ch, REG_LBA_HIGH), (lba >> 16) as u8);
            self.outb(
                reg(ch, REG_DEVICE),
                0xe0 | (dev as u8) << 4 | (lba >> 24) as u8,
            );
        }
    }

    #[test]
    fn pintos_style_sector_io_sees_exactly_one_interrupt_edge_per_operation() {
        for (ch, dev) in POSITIONS {
            let mut bus = EdgeBus {
                c: four_disks(),
                ch,
                level: false,
                edges: 0,
            };
            let tag = (ch * 2 + dev + 1) as u8;
            for round in 0..5u32 {
                // Read: command, wait for the interrupt, check DRQ on Alternate Status, read.
                let lba = round * 13 % 90;
                bus.select_sector(dev, lba);
                bus.outb(reg(ch, REG_STATUS), CMD_READ_SECTORS);
                assert_eq!(bus.edges, 2 * round + 1, "read completion interrupt");
                assert_eq!(
                    bus.inb(CONTROL_PORT[ch]) & (STATUS_BSY | STATUS_DRQ),
                    STATUS_DRQ
                );
                let mut data = Vec::new();
                for _ in 0..256 {
                    data.extend_from_slice(&bus.inw().to_le_bytes());
                }
                assert!(data
                    .iter()
                    .enumerate()
                    .all(|(i, &b)| b == pattern(tag, lba as u64, i)));
                // Write: command, DRQ without interrupt, data, then the interrupt.
                bus.select_sector(dev, lba + 1);
                bus.outb(reg(ch, REG_STATUS), CMD_WRITE_SECTORS);
                assert_eq!(bus.edges, 2 * round + 1, "no interrupt before write data");
                assert_eq!(
                    bus.inb(CONTROL_PORT[ch]) & (STATUS_BSY | STATUS_DRQ),
                    STATUS_DRQ
                );
                for i in 0..256u16 {
                    bus.outw(i ^ round as u16);
                }
                assert_eq!(bus.edges, 2 * round + 2, "write completion interrupt");
            }
            assert_eq!(bus.c.stats(ch, dev).sectors_read, 5);
            assert_eq!(bus.c.stats(ch, dev).sectors_written, 5);
            assert_eq!(bus.c.misses(), 0);
        }
    }

    /// xorshift64*: a fixed-seed generator so the hammering is reproducible.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }
    }

    #[test]
    fn random_port_hammering_never_panics_and_is_deterministic() {
        let run = |seed: u64| {
            let mut c = IdeController::new([
                [Some(patterned_disk(1, 300)), None],
                [Some(patterned_disk(3, 50)), Some(patterned_disk(4, 2))],
            ]);
            let mut rng = Rng(seed);
            let ports: Vec<u16> = (0x1f0..0x1f8)
                .chain(0x170..0x178)
                .chain([0x3f6, 0x376, 0x3f7, 0x171])
                .collect();
            let interesting = [
                CMD_READ_SECTORS,
                CMD_WRITE_SECTORS,
                CMD_READ_MULTIPLE,
                CMD_WRITE_MULTIPLE,
                CMD_SET_MULTIPLE,
                CMD_IDENTIFY,
                CMD_INITIALIZE_PARAMETERS,
                CMD_EXECUTE_DIAGNOSTIC,
                CMD_READ_VERIFY,
                CMD_SEEK,
                CMD_FLUSH_CACHE,
            ];
            let mut trace = 0u64;
            for _ in 0..200_000 {
                let r = rng.next();
                let port = ports[(r % ports.len() as u64) as usize];
                let size = [1u8, 2, 4][((r >> 8) % 3) as usize];
                let mut value = (r >> 16) as u32;
                if port & 7 == 7 && port != 0x3f7 && (r >> 48).is_multiple_of(2) {
                    value = interesting[((r >> 50) % interesting.len() as u64) as usize] as u32;
                }
                // Data-register traffic is what moves transfers along: bias toward it.
                let port = if (r >> 60).is_multiple_of(4) {
                    port & !7
                } else {
                    port
                };
                let size = if port & 7 == 0 && port != 0x3f6 && port != 0x376 && size == 1 {
                    2
                } else {
                    size
                };
                if (r >> 40).is_multiple_of(2) {
                    trace = trace
                        .wrapping_mul(31)
                        .wrapping_add(c.read(port, size) as u64);
                } else {
                    c.write(port, size, value);
                }
                trace = trace
                    .wrapping_mul(31)
                    .wrapping_add(c.irq(0) as u64 * 2 + c.irq(1) as u64);
            }
            let traffic: u64 = POSITIONS
                .iter()
                .map(|&(ch, dev)| c.stats(ch, dev).sectors_read + c.stats(ch, dev).sectors_written)
                .sum();
            (trace, c.state().clone(), c.take_events().len(), traffic)
        };
        let a = run(0x1234_5678_9abc_def1);
        let b = run(0x1234_5678_9abc_def1);
        assert_eq!(a, b, "same seed, same result");
        assert!(a.2 > 1000, "commands issued: {}", a.2);
        assert!(a.3 > 10, "sectors moved: {}", a.3);
    }
}
