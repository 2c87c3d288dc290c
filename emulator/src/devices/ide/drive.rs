//! One drive position's state and its addressing: what the drive holds between
//! accesses, how the address registers map to sectors, and reset.

use super::disk::{Disk, MAX_SECTORS, SECTOR_SIZE};
use super::regs::*;
use super::timing::Busy;
use crate::devices::Nanos;

/// Guest-visible traffic counters of one drive (the grader's view of disk use).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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
    /// Virtual time the drive was busy with commands (BSY held by [`super::DiskTiming`]).
    pub busy_ns: Nanos,
    /// Virtual time the CPU sat halted while this drive was busy: time the guest spent
    /// waiting for the disk with nothing else to run.
    pub halted_wait_ns: Nanos,
}

/// A PIO data phase in progress.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(super) enum Transfer {
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
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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
    /// A result held back behind BSY until its time (see `timing`).
    pub busy: Option<Busy>,
    /// Whether the current command has moved a sector yet (its first block pays the
    /// command's own time).
    pub(super) media_started: bool,
    pub(super) transfer: Transfer,
    pub(super) buffer: Vec<u8>,
    pub(super) pos: usize,
    pub(super) len: usize,
    pub stats: DriveStats,
    /// Whether an observer wants the sectors this drive moves ([`Self::moved`]).
    pub(super) observe: bool,
    /// Sectors moved since the controller last looked, when observed: (LBA, write,
    /// content hash).
    pub(super) moved: Vec<(u64, bool, u64)>,
}

impl DriveState {
    pub(super) fn absent() -> DriveState {
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
            busy: None,
            media_started: false,
            transfer: Transfer::Idle,
            buffer: Vec::new(),
            pos: 0,
            len: 0,
            stats: DriveStats::default(),
            observe: false,
            moved: Vec::new(),
        }
    }

    pub(super) fn new(disk: &Disk, position: usize) -> DriveState {
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
            busy: None,
            media_started: false,
            transfer: Transfer::Idle,
            buffer: vec![0; MAX_MULTIPLE as usize * SECTOR_SIZE],
            pos: 0,
            len: 0,
            stats: DriveStats::default(),
            observe: false,
            moved: Vec::new(),
        }
    }

    /// Power-on / hardware reset: also forgets multiple mode and the CHS translation.
    pub(super) fn power_on(&mut self) {
        if !self.present {
            return;
        }
        self.busy = None;
        self.soft_reset();
        self.regs.features = 0;
        self.multiple = 0;
        self.current_geometry = self.default_geometry;
    }

    /// Completion of a software reset or diagnostics: signature, idle, nothing pending.
    /// (ATA: SRST keeps the multiple mode and the current CHS translation.)
    pub(super) fn soft_reset(&mut self) {
        self.regs = TaskFile::signature(self.regs.features);
        self.intrq = false;
        self.end_transfer();
    }

    pub(super) fn end_transfer(&mut self) {
        self.transfer = Transfer::Idle;
        self.pos = 0;
        self.len = 0;
    }

    pub(super) fn sector_count(&self) -> u32 {
        // ATA: a sector count of 0 means 256 sectors.
        match self.regs.sector_count {
            0 => 256,
            n => n as u32,
        }
    }

    pub(super) fn lba_mode(&self) -> bool {
        self.regs.device & DEVICE_LBA != 0
    }

    /// The address in the registers as an LBA, or `None` for an impossible CHS address.
    pub(super) fn start_address(&self) -> Option<u64> {
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
    pub(super) fn set_address(&mut self, lba: u64, lba_mode: bool) {
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

    pub(super) fn complete(&mut self) {
        self.regs.status = STATUS_DRDY | STATUS_DSC;
        self.intrq = true;
    }

    pub(super) fn fail(&mut self, error: u8) {
        self.end_transfer();
        self.regs.error = error;
        self.regs.status = STATUS_DRDY | STATUS_DSC | STATUS_ERR;
        self.intrq = true;
        self.stats.errors += 1;
    }

    /// Fails a transfer at sector `lba` with `remaining` sectors (including it) left.
    pub(super) fn fail_at(&mut self, error: u8, lba: u64, remaining: u32, lba_mode: bool) {
        self.set_address(lba, lba_mode);
        self.regs.sector_count = remaining as u8;
        self.fail(error);
    }

    pub(super) fn in_range(&self, lba: u64) -> bool {
        lba < self.capacity
    }
}
