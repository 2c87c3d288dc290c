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
//! Commands take virtual time ([`DiskTiming`]: a per-command latency plus a per-sector
//! transfer time): the drive reads BSY while it works, then shows DRQ and raises the
//! interrupt, as a PC drive and QEMU do, so a kernel that sleeps on its disk interrupt
//! really sleeps and other threads run meanwhile. The table of what takes how long, and
//! how commands written while BSY, resets and nIEN behave, is in `timing`. The machine
//! treats the controller as a [`Timed`] device: `advance(now)` before every access shows
//! results whose time has come, and `next_event()` (the earliest held result) ends the
//! CPU's slice there, so the interrupt arrives at exactly the same instruction on every
//! run. [`DiskTiming::INSTANT`] (the default of [`IdeController::new`]) makes every
//! command complete on the access after it, as if the disk took no time.
//!
//! BSY also reads as set while the guest holds SRST asserted in the device control
//! register, as on real drives (the reset completes when SRST is released).
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

mod channel;
mod commands;
mod disk;
mod drive;
mod identify;
mod regs;
mod timing;

pub use channel::ChannelState;
pub use disk::{
    Disk, DiskBackend, DiskError, DiskIdentity, FileDisk, MemoryDisk, Overlay, Sector, MAX_SECTORS, OVERLAY_CHUNK,
    PINTOS_DISK_UNIT, SECTOR_SIZE,
};
pub use drive::{DriveState, DriveStats};
pub use regs::*;
pub use timing::{Busy, DiskTiming, STATUS_BUSY};

use super::{Nanos, PortDevice, Timed};
use crate::observe::{DiskCommand, DiskRole};
use std::io;

/// The controller's whole guest-visible state (disk contents live in the backends).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct IdeState {
    pub channels: [ChannelState; 2],
    /// Accesses the controller did not understand (unknown port, wrong size, data register
    /// use outside a data phase or while BSY, a command written while BSY).
    pub misses: u64,
    /// How long commands take.
    pub timing: DiskTiming,
    /// The virtual time the controller was last brought up to.
    pub now: Nanos,
    /// Virtual time the CPU sat halted while any drive was busy.
    pub halted_wait_ns: Nanos,
    /// `--jitter`: the generator that stretches each command's busy time (None: exact).
    pub jitter: Option<crate::devices::Jitter>,
}

/// What [`IdeController::snapshot`] keeps.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct IdeSnapshot {
    pub state: IdeState,
    rescheduled: bool,
    pending: [[Option<(DiskCommand, u64)>; 2]; 2],
    observed: Vec<DiskCommand>,
    /// Each disk's written sectors, `[channel][drive]`.
    pub overlays: [[Option<SectorMap>; 2]; 2],
}

/// A disk's overlay, serialised as (sector, bytes) pairs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SectorMap(pub disk::Overlay);

impl serde::Serialize for SectorMap {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // Collected first: the serialiser wants the length before the items.
        let pairs: Vec<(u64, &[u8])> = self.0.iter().map(|(lba, sector)| (lba, &sector[..])).collect();
        serde::Serialize::serialize(&pairs, s)
    }
}

impl<'de> serde::Deserialize<'de> for SectorMap {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let pairs: Vec<(u64, Vec<u8>)> = serde::Deserialize::deserialize(d)?;
        let mut map = disk::Overlay::new();
        for (lba, bytes) in pairs {
            let sector: disk::Sector = bytes.as_slice().try_into().map_err(|_| serde::de::Error::invalid_length(bytes.len(), &"a 512-byte sector"))?;
            map.insert(lba, sector);
        }
        Ok(SectorMap(map))
    }
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
    /// When the command register was written (virtual nanoseconds).
    pub at: Nanos,
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
    /// A drive went busy since the machine last asked: the next event moved.
    rescheduled: bool,
    /// Observed commands still moving sectors, `[channel][drive]`, with the count asked.
    pending: [[Option<(DiskCommand, u64)>; 2]; 2],
    /// Observed commands that finished, oldest first.
    observed: Vec<DiskCommand>,
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
            timing: DiskTiming::INSTANT,
            now: 0,
            halted_wait_ns: 0,
            jitter: None,
        };
        IdeController {
            state,
            disks,
            events: Vec::new(),
            log_events: true,
            rescheduled: false,
            pending: Default::default(),
            observed: Vec::new(),
        }
    }

    /// The controller's state and its disks' changes, for a machine snapshot. Every disk
    /// must be copy-on-write ([`Disk::copy_on_write`]); the position of one that is not
    /// is the error.
    pub fn snapshot(&self) -> Result<IdeSnapshot, (usize, usize)> {
        let mut overlays: [[Option<SectorMap>; 2]; 2] = Default::default();
        for (c, row) in self.disks.iter().enumerate() {
            for (d, disk) in row.iter().enumerate() {
                if let Some(disk) = disk {
                    overlays[c][d] = Some(SectorMap(disk.overlay().ok_or((c, d))?.clone()));
                }
            }
        }
        Ok(IdeSnapshot { state: self.state.clone(), rescheduled: self.rescheduled, pending: self.pending.clone(), observed: self.observed.clone(), overlays })
    }

    /// Puts back a [`IdeController::snapshot`] of a controller with the same disks.
    pub fn restore(&mut self, snap: &IdeSnapshot) {
        self.state = snap.state.clone();
        self.rescheduled = snap.rescheduled;
        self.pending = snap.pending.clone();
        self.observed = snap.observed.clone();
        self.events.clear();
        for (c, row) in self.disks.iter_mut().enumerate() {
            for (d, disk) in row.iter_mut().enumerate() {
                if let (Some(disk), Some(o)) = (disk, &snap.overlays[c][d]) {
                    disk.set_overlay(o.0.clone());
                }
            }
        }
    }

    /// Sets how long commands take from now on.
    pub fn set_timing(&mut self, timing: DiskTiming) {
        self.state.timing = timing;
    }

    pub fn timing(&self) -> DiskTiming {
        self.state.timing
    }

    /// Whether a drive went busy since the last call: the controller's next event moved,
    /// so the machine must reschedule.
    pub fn take_rescheduled(&mut self) -> bool {
        std::mem::take(&mut self.rescheduled)
    }

    /// Whether reading `port` again would return the same value and change nothing until
    /// the controller's next event: Alternate Status always, Status once its interrupt is
    /// acknowledged (a byte read, as a polling loop does). Lets the CPU skip a guest that
    /// polls BSY.
    pub fn read_is_stable(&self, port: u16, size: u8) -> bool {
        if size != 1 {
            return false;
        }
        match decode_port(port) {
            Some(Target::Control(_)) => true,
            Some(Target::Command(ch, REG_STATUS)) => {
                let c = &self.state.channels[ch];
                !c.drives[c.selected].intrq
            }
            _ => false,
        }
    }

    /// Whether any drive is working on a command.
    pub fn any_busy(&self) -> bool {
        self.state.channels.iter().flat_map(|c| &c.drives).any(DriveState::is_busy)
    }

    /// The machine skipped `ns` of halted time starting now: counted as time spent waiting
    /// for the disk, for every drive busy meanwhile (the skip never passes a completion,
    /// which is an event that ends it).
    pub fn note_halted(&mut self, ns: Nanos) {
        let mut any = false;
        for d in self.state.channels.iter_mut().flat_map(|c| &mut c.drives) {
            if d.is_busy() {
                d.stats.halted_wait_ns += ns;
                any = true;
            }
        }
        if any {
            self.state.halted_wait_ns += ns;
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
        self.disks
            .get(channel)?
            .get(drive)?
            .as_ref()
            .map(Disk::sectors)
    }

    /// Turns the command log on or off (on by default).
    pub fn set_event_log(&mut self, on: bool) {
        self.log_events = on;
    }

    /// Turns observation on or off: with it on, each command that moves sectors is kept,
    /// with a hash of every sector, for [`Self::take_observed`].
    pub fn set_observe(&mut self, on: bool) {
        for d in self.state.channels.iter_mut().flat_map(|c| &mut c.drives) {
            d.observe = on;
            d.moved.clear();
        }
        self.pending = Default::default();
    }

    /// Observed commands that finished since the last call, in order. A command that
    /// stopped early (an error, or a new command before all its sectors moved) is
    /// reported with the sectors that moved, when the drive's next command starts.
    pub fn take_observed(&mut self) -> Vec<DiskCommand> {
        std::mem::take(&mut self.observed)
    }

    /// Stretches every command's busy time by a pseudo-random part of it, from `seed`
    /// (`--jitter`): disk completions land at other instructions, deterministically.
    pub fn set_jitter(&mut self, seed: u64) {
        self.state.jitter = Some(crate::devices::Jitter::new(seed ^ 0x1de));
    }

    /// Applies the jitter to drive (`ch`, `sel`) if it just went busy (`before` was its
    /// busy state before the access).
    fn jitter_busy(&mut self, ch: usize, sel: usize, before: Option<Busy>) {
        let Some(j) = &mut self.state.jitter else { return };
        let d = &mut self.state.channels[ch].drives[sel];
        if let Some(b) = &mut d.busy {
            if before != Some(*b) {
                let len = b.until - b.since;
                b.until += j.below(len / 2 + 1);
            }
        }
    }

    /// Whether finished observed commands are waiting for [`Self::take_observed`].
    #[inline]
    pub fn has_observed(&self) -> bool {
        !self.observed.is_empty()
    }

    /// Moves the sectors drive (`ch`, `sel`) moved into its observed command.
    fn collect(&mut self, ch: usize, sel: usize) {
        let drive = &mut self.state.channels[ch].drives[sel];
        if !drive.observe {
            return;
        }
        for (_, _, hash) in drive.moved.drain(..) {
            if let Some((cmd, _)) = &mut self.pending[ch][sel] {
                cmd.hashes.push(hash);
            }
        }
        if matches!(&self.pending[ch][sel], Some((cmd, want)) if cmd.count() >= *want) {
            let (cmd, _) = self.pending[ch][sel].take().unwrap();
            self.observed.push(cmd);
        }
    }

    /// Every command issued to a present drive since the last call, in order.
    pub fn take_events(&mut self) -> Vec<DiskEvent> {
        std::mem::take(&mut self.events)
    }

    fn command(&mut self, ch: usize, command: u8) {
        let (now, timing) = (self.state.now, self.state.timing);
        let chan = &mut self.state.channels[ch];
        if chan.in_reset() {
            return; // BSY: ATA devices ignore commands until reset completes
        }
        if chan.drives[chan.selected].is_busy() || (command == CMD_EXECUTE_DIAGNOSTIC && chan.drives.iter().any(DriveState::is_busy)) {
            // ATA forbids writing the Command register while BSY; drives (and QEMU) ignore it.
            self.state.misses += 1;
            return;
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
            for d in chan.drives.iter_mut().filter(|d| d.present) {
                d.hold(now, timing.command_ns);
            }
            self.rescheduled |= timing.command_ns > 0;
            return;
        }
        let sel = chan.selected;
        if !chan.drives[sel].present {
            return; // nobody executes commands for an absent device
        }
        self.log(ch, sel, command);
        if self.state.channels[ch].drives[sel].observe {
            if let Some((cmd, _)) = self.pending[ch][sel].take() {
                if cmd.count() > 0 {
                    self.observed.push(cmd);
                }
            }
            let d = &self.state.channels[ch].drives[sel];
            let write = matches!(command, CMD_WRITE_SECTORS | CMD_WRITE_SECTORS_NORETRY | CMD_WRITE_MULTIPLE);
            let read = matches!(command, CMD_READ_SECTORS | CMD_READ_SECTORS_NORETRY | CMD_READ_MULTIPLE);
            if read || write {
                let cmd = DiskCommand { role: DiskRole::of(ch, sel), lba: d.start_address().unwrap_or(u64::MAX), write, hashes: Vec::new() };
                self.pending[ch][sel] = Some((cmd, d.sector_count() as u64));
            }
        }
        let drive = &mut self.state.channels[ch].drives[sel];
        let before = drive.busy;
        match self.disks[ch][sel].as_mut() {
            Some(disk) => drive.execute(command, disk, now, timing),
            None => drive.fail(ERROR_ABRT), // unreachable by construction
        }
        self.rescheduled |= drive.is_busy();
        self.jitter_busy(ch, sel, before);
        self.collect(ch, sel);
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
            at: self.state.now,
        });
    }

    fn read_data_word(&mut self, ch: usize) -> u16 {
        let sel = self.state.channels[ch].selected;
        let drive = &mut self.state.channels[ch].drives[sel];
        let (now, timing) = (self.state.now, self.state.timing);
        let before = drive.busy;
        let word = match self.disks[ch][sel].as_mut() {
            Some(disk) if drive.present => drive.read_data(disk, now, timing),
            _ => None,
        };
        self.rescheduled |= drive.is_busy();
        self.jitter_busy(ch, sel, before);
        if self.state.channels[ch].drives[sel].observe && !self.state.channels[ch].drives[sel].moved.is_empty() {
            self.collect(ch, sel);
        }
        word.unwrap_or_else(|| {
            self.state.misses += 1;
            0xffff
        })
    }

    fn write_data_word(&mut self, ch: usize, word: u16) {
        let sel = self.state.channels[ch].selected;
        let drive = &mut self.state.channels[ch].drives[sel];
        let (now, timing) = (self.state.now, self.state.timing);
        let before = drive.busy;
        let ok = match self.disks[ch][sel].as_mut() {
            Some(disk) if drive.present => drive.write_data(word, disk, now, timing),
            _ => false,
        };
        self.rescheduled |= drive.is_busy();
        self.jitter_busy(ch, sel, before);
        if self.state.channels[ch].drives[sel].observe && !self.state.channels[ch].drives[sel].moved.is_empty() {
            self.collect(ch, sel);
        }
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
            Target::Control(ch) => self.state.channels[ch].write_control(value as u8, self.state.now),
        }
    }
}

impl Timed for IdeController {
    fn advance(&mut self, now: Nanos) {
        if now <= self.state.now {
            return;
        }
        self.state.now = now;
        for d in self.state.channels.iter_mut().flat_map(|c| &mut c.drives) {
            d.advance(now);
        }
    }

    fn next_event(&self) -> Option<Nanos> {
        self.state.channels.iter().flat_map(|c| &c.drives).filter_map(|d| d.busy.map(|b| b.until)).min()
    }
}

#[cfg(test)]
mod tests;
