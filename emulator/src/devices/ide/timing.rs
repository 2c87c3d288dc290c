//! How long a disk command takes in virtual time, and how a drive shows it: BSY.
//!
//! A drive works out a command's result at once (the data of a read block, the outcome of
//! a write, an error) and then holds it back behind BSY for the time the command takes on
//! the medium ([`Busy`]): Status reads BSY, the data register answers nothing and the
//! interrupt stays low until the time comes, and only then do the held status and
//! interrupt appear. Computing early changes nothing a guest can see, because nothing else
//! touches the medium meanwhile and the registers a command latched are copied before the
//! hold starts; it keeps the command code in one place, timed or not.
//!
//! Where the time goes, with `command` = [`DiskTiming::command_ns`] and `sector` =
//! [`DiskTiming::sector_ns`] (as a PC drive and QEMU's PIO IDE do it):
//!
//! | command | BSY for | then |
//! |---|---|---|
//! | READ SECTORS / READ MULTIPLE | `command + n·sector` before the first block of `n` sectors, `n·sector` before each later block | DRQ + interrupt per block; no BSY after the last block is taken |
//! | WRITE SECTORS / WRITE MULTIPLE | nothing before the first block (DRQ at once, no interrupt); `command + n·sector` after the first block is written, `n·sector` after each later one | DRQ + interrupt for the next block, or the completion interrupt |
//! | READ VERIFY | `command + count·sector` | completion interrupt |
//! | IDENTIFY and every other command | `command` | DRQ + interrupt (IDENTIFY) or the completion interrupt |
//! | a command that fails its checks | `command` | ERR + interrupt |
//!
//! A command written while BSY is ignored (ATA forbids it; drives and QEMU ignore it), a
//! software reset cancels the held result, and nIEN only gates the interrupt line, so a
//! completion that arrives while nIEN is set shows when nIEN is cleared. Resets complete
//! at once, as before. [`DiskTiming::INSTANT`] holds nothing back: every result shows on the
//! access after the command, instruction for instruction as before timing existed.

use super::drive::DriveState;
use super::regs::*;
use crate::devices::Nanos;

/// How long commands take. Both figures are virtual nanoseconds, so they mean the same at
/// every clock rate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DiskTiming {
    /// Once per command: the drive's command overhead and seek, before any sector moves.
    pub command_ns: Nanos,
    /// For each sector moved between the medium and the drive's buffer.
    pub sector_ns: Nanos,
}

impl DiskTiming {
    /// Every command completes on the access after it is issued.
    pub const INSTANT: DiskTiming = DiskTiming { command_ns: 0, sector_ns: 0 };

    /// The drop-in's default: QEMU's PIO IDE on a host whose image is in the page cache,
    /// as measured with `scripts/measure-disk-latency` (see the emulator README, "Disk
    /// timing").
    pub const DEFAULT: DiskTiming = DiskTiming { command_ns: 35_000, sector_ns: 50_000 };

    pub fn is_instant(&self) -> bool {
        self.command_ns == 0 && self.sector_ns == 0
    }

    /// BSY time before `sectors` sectors are ready (reads) or stored (writes); `first` adds
    /// the command's own time.
    pub(super) fn media(&self, first: bool, sectors: u32) -> Nanos {
        let command = if first { self.command_ns } else { 0 };
        command.saturating_add(self.sector_ns.saturating_mul(sectors as u64))
    }
}

impl Default for DiskTiming {
    fn default() -> DiskTiming {
        DiskTiming::DEFAULT
    }
}

/// A result the drive has worked out but not shown yet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Busy {
    /// When BSY went up.
    pub since: Nanos,
    /// When the result shows.
    pub until: Nanos,
    /// The Status value that then shows.
    pub status: u8,
    /// Whether the interrupt is then pending.
    pub intrq: bool,
}

/// What Status reads while a drive is busy (BSY with DRDY and DSC, as QEMU and most drives
/// show it; ATA says the other bits mean nothing while BSY is set).
pub const STATUS_BUSY: u8 = STATUS_BSY | STATUS_DRDY | STATUS_DSC;

impl DriveState {
    /// Holds the drive's present status and interrupt back behind BSY for `delay`.
    pub(super) fn hold(&mut self, now: Nanos, delay: Nanos) {
        if delay == 0 {
            return;
        }
        self.busy = Some(Busy { since: now, until: now.saturating_add(delay), status: self.regs.status, intrq: self.intrq });
        self.regs.status = STATUS_BUSY;
        self.intrq = false;
    }

    /// Shows the held result once its time has come.
    pub(super) fn advance(&mut self, now: Nanos) {
        if let Some(b) = self.busy {
            if now >= b.until {
                self.regs.status = b.status;
                self.intrq = b.intrq;
                self.busy = None;
                self.stats.busy_ns += b.until - b.since;
            }
        }
    }

    /// Drops the held result (a reset stopped the command); the time spent counts as busy.
    pub(super) fn cancel_busy(&mut self, now: Nanos) {
        if let Some(b) = self.busy.take() {
            self.stats.busy_ns += now.clamp(b.since, b.until) - b.since;
        }
    }

    /// Whether the drive is working on a command (BSY from a command, not from reset).
    pub fn is_busy(&self) -> bool {
        self.busy.is_some()
    }
}
