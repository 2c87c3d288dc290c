//! Command execution and the PIO data phases: what each command does to a drive, and how
//! data blocks move through the data register.

use super::disk::{DiskBackend, SECTOR_SIZE};
use super::drive::{DriveState, Transfer};
use super::regs::*;
use super::timing::DiskTiming;
use crate::devices::Nanos;

impl DriveState {
    /// Executes `command` (the drive is present, selected and not busy) at virtual time
    /// `now`: works out the result and holds it behind BSY for as long as `timing` says the
    /// command takes (see `timing`).
    pub(super) fn execute(&mut self, command: u8, backend: &mut dyn DiskBackend, now: Nanos, timing: DiskTiming) {
        self.end_transfer();
        self.intrq = false;
        self.regs.error = 0;
        self.stats.commands += 1;
        self.media_started = false;
        let delay = self.run_command(command, backend, timing);
        self.hold(now, delay);
    }

    /// The command itself; returns how long its result is held back.
    fn run_command(&mut self, command: u8, backend: &mut dyn DiskBackend, timing: DiskTiming) -> Nanos {
        let command_ns = timing.command_ns;
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
                command_ns
            }
            CMD_READ_SECTORS | CMD_READ_SECTORS_NORETRY => {
                timing.media(true, self.start_read(1, backend))
            }
            CMD_READ_MULTIPLE if self.multiple != 0 => {
                timing.media(true, self.start_read(self.multiple as u32, backend))
            }
            CMD_WRITE_SECTORS | CMD_WRITE_SECTORS_NORETRY => self.start_write(1, command_ns),
            CMD_WRITE_MULTIPLE if self.multiple != 0 => {
                self.start_write(self.multiple as u32, command_ns)
            }
            CMD_READ_VERIFY | CMD_READ_VERIFY_NORETRY => {
                let count = self.sector_count();
                self.verify();
                if self.regs.status & STATUS_ERR == 0 {
                    timing.media(true, count)
                } else {
                    command_ns
                }
            }
            _ => {
                self.other_command(command, backend);
                command_ns
            }
        }
    }

    /// The commands that move no data.
    fn other_command(&mut self, command: u8, backend: &mut dyn DiskBackend) {
        match command {
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

    /// Starts a read; returns the sectors read from the medium for the first block.
    fn start_read(&mut self, block: u32, backend: &mut dyn DiskBackend) -> u32 {
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
                self.next_in_block(backend)
            }
            None => {
                self.fail(ERROR_IDNF | ERROR_ABRT);
                0
            }
        }
    }

    /// Loads the next PIO-in block and raises the interrupt, or ends the data phase.
    /// Returns the sectors read from the medium (up to the one that failed).
    fn next_in_block(&mut self, backend: &mut dyn DiskBackend) -> u32 {
        let Transfer::In {
            next_lba,
            remaining,
            block,
            lba_mode,
        } = self.transfer
        else {
            return 0;
        };
        if remaining == 0 {
            // The last block was taken: no interrupt at the end of a PIO-in command.
            self.end_transfer();
            self.regs.status = STATUS_DRDY | STATUS_DSC;
            return 0;
        }
        let n = block.min(remaining);
        for i in 0..n {
            let lba = next_lba + i as u64;
            if !self.in_range(lba) {
                self.fail_at(ERROR_IDNF | ERROR_ABRT, lba, remaining - i, lba_mode);
                return i;
            }
            let mut sector = [0u8; SECTOR_SIZE];
            if backend.read(lba, &mut sector).is_err() {
                self.stats.host_errors += 1;
                self.fail_at(ERROR_UNC, lba, remaining - i, lba_mode);
                return i + 1;
            }
            let at = i as usize * SECTOR_SIZE;
            self.buffer[at..at + SECTOR_SIZE].copy_from_slice(&sector);
            if self.observe {
                self.moved.push((lba, false, crate::observe::hash64(&sector)));
            }
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
        n
    }

    /// Starts a write; returns the hold: none when the drive asks for data, `command_ns`
    /// when it refuses the command.
    fn start_write(&mut self, block: u32, command_ns: Nanos) -> Nanos {
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
                // ATA PIO-out: the first block is requested with DRQ but no interrupt, at
                // once: the medium is only touched once the data is in.
                self.next_out_block(false);
                if matches!(self.transfer, Transfer::Out { .. }) {
                    return 0;
                }
                command_ns
            }
            None => {
                self.fail(ERROR_IDNF | ERROR_ABRT);
                command_ns
            }
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

    /// Stores a completed PIO-out block and moves on; returns the sectors written to the
    /// medium (including one that failed).
    fn store_out_block(&mut self, backend: &mut dyn DiskBackend) -> u32 {
        let Transfer::Out {
            next_lba,
            remaining,
            block,
            lba_mode,
        } = self.transfer
        else {
            return 0;
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
                return i + 1;
            }
            if self.observe {
                self.moved.push((lba, true, crate::observe::hash64(&sector)));
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
        n
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

    /// The guest reads one word from the data register at virtual time `now` (nothing
    /// while BSY: the drive has no data on the bus).
    pub(super) fn read_data(&mut self, backend: &mut dyn DiskBackend, now: Nanos, timing: DiskTiming) -> Option<u16> {
        if !matches!(self.transfer, Transfer::In { .. }) || self.pos >= self.len || self.is_busy() {
            return None;
        }
        let word = u16::from_le_bytes([self.buffer[self.pos], self.buffer[self.pos + 1]]);
        self.pos += 2;
        if self.pos == self.len {
            let n = self.next_in_block(backend);
            self.hold(now, timing.media(false, n));
        }
        Some(word)
    }

    /// The guest writes one word to the data register at virtual time `now` (ignored
    /// while BSY).
    pub(super) fn write_data(&mut self, word: u16, backend: &mut dyn DiskBackend, now: Nanos, timing: DiskTiming) -> bool {
        if !matches!(self.transfer, Transfer::Out { .. }) || self.pos >= self.len || self.is_busy() {
            return false;
        }
        self.buffer[self.pos..self.pos + 2].copy_from_slice(&word.to_le_bytes());
        self.pos += 2;
        if self.pos == self.len {
            let first = !self.media_started;
            self.media_started = true;
            let n = self.store_out_block(backend);
            self.hold(now, timing.media(first, n));
        }
        true
    }
}
