//! The PC: a CPU, its devices, firmware, and virtual time.
//!
//! **Time.** The machine's clock is [`Cpu::now`]: instructions retired plus ticks skipped
//! while halted. One tick is `1e9 / rate` virtual nanoseconds; the default rate,
//! [`DEFAULT_RATE`] = 1 000 000 000 ticks per virtual second, makes one instruction one
//! virtual nanosecond, about a real CPU's pace (10 M instructions per 10 ms timer tick).
//! Devices see virtual nanoseconds; nothing reads the host clock except the optional
//! host-time guard that stops a hung run.
//!
//! **Events.** The machine owns the one event schedule: before each slice it asks every
//! timed device for its next event and lets the CPU run exactly until then (the CPU stops
//! at an exact instruction count), then brings the devices up to date and raises their
//! interrupts. HLT with interrupts enabled skips time forward to the next event; HLT with
//! interrupts disabled and nothing pending ends the run. Same images and options, same
//! run: identical console output and instruction count.

use std::time::{Duration, Instant};

use crate::bus::{Bus, CpuEvent};
use crate::observe::{Claim, ClaimDecoder, Event, Observer, CLAIM_PORT};
use crate::cpu::debug::WatchHit;
use crate::cpu::{Cpu, Exit};
use crate::devices::cmos::Cmos;
use crate::devices::ide::{Disk, DiskTiming, IdeController};
use crate::devices::kbc::Kbc;
use crate::devices::pic::Pic;
use crate::devices::pit::Pit;
use crate::devices::power::{Power, PowerRequest};
use crate::devices::uart::Uart;
use crate::devices::vga::Vga;
use crate::devices::{Nanos, PortDevice, Timed};
use crate::firmware::bios::{Bios, BiosHost, BootError};
use crate::memory::{MemoryError, PhysMemory};

/// Default clock rate: ticks (instructions) per virtual second.
pub const DEFAULT_RATE: u64 = 1_000_000_000;
/// Default RTC epoch: 2026-01-01T00:00:00Z, in Unix seconds.
pub const DEFAULT_EPOCH: u64 = 1_767_225_600;
/// Longest slice the CPU runs without the machine looking (1 ms of virtual time at the
/// default rate), so the console streams and the guards are checked.
const MAX_SLICE: u64 = 1_000_000;

/// How a machine is built.
pub struct Config {
    /// Guest RAM in bytes.
    pub memory: u64,
    /// Ticks (instructions) per virtual second.
    pub rate: u64,
    /// RTC time at power-on, in Unix seconds.
    pub epoch: u64,
    /// IDE drives: `[channel][master/slave]`.
    pub disks: [[Option<Disk>; 2]; 2],
    /// How long disk commands take ([`DiskTiming::INSTANT`]: no time at all).
    pub disk_timing: DiskTiming,
}

/// Why a run ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The guest powered the machine off.
    PowerOff,
    /// The guest wrote to isa-debug-exit; QEMU's exit status for it.
    DebugExit(u32),
    /// The guest asked for a reset (the run ends, as QEMU's `-no-reboot` does).
    Reset,
    /// The virtual-time limit passed.
    Timeout,
    /// The host-time guard fired.
    HostTimeout,
    /// The instruction limit passed.
    InstructionLimit,
    /// A triple fault; the text is a register dump.
    TripleFault(String),
    /// HLT with interrupts disabled and nothing pending: the guest can never continue.
    HaltedForever,
    /// HLT with interrupts enabled but no device will ever interrupt.
    Idle,
}

/// Limits on a run.
#[derive(Clone, Copy, Debug, Default)]
pub struct Limits {
    /// Virtual time limit.
    pub virtual_time: Option<Duration>,
    /// Host (wall-clock) guard.
    pub host_time: Option<Duration>,
    /// Instruction limit.
    pub instructions: Option<u64>,
}

#[derive(Debug, thiserror::Error)]
pub enum MachineError {
    #[error(transparent)]
    Memory(#[from] MemoryError),
    #[error("boot failed: {0}")]
    Boot(#[from] BootError),
    #[error("clock rate must be at least 1000 ticks per second")]
    BadRate,
}

/// Every device of the PC, and the glue that routes the CPU's bus cycles to them.
pub struct PcBus {
    pub pic: Pic,
    pub pit: Pit,
    pub com1: Uart,
    pub com2: Uart,
    pub cmos: Cmos,
    pub kbc: Kbc,
    pub vga: Vga,
    pub power: Power,
    pub ide: IdeController,
    /// Text the BIOS printed (int 0x10 teletype), shown on the console like COM1 output.
    pub firmware_output: Vec<u8>,
    /// Ticks per virtual second.
    pub(crate) rate: u64,
    /// Last virtual time the devices were brought up to.
    pub(crate) synced: Nanos,
    pub(crate) stop: bool,
    /// Power/reset requests the machine has not handled yet.
    pub request: Option<PowerRequest>,
    /// The observer ([`crate::observe`]), set with [`Machine::observe`].
    pub observer: Option<Box<dyn Observer>>,
    /// Decodes the claims port while an observer listens.
    pub(crate) claims: ClaimDecoder,
    /// The CR3 a claim record belongs to (the one loaded when its header was written, or
    /// the one an `address-space` record named).
    pub(crate) claim_cr3: u64,
    /// CR3 as last loaded (tracked for claims).
    pub(crate) cr3: u64,
    /// An `address-space` record overrides `cr3` for claims until the next CR3 load.
    pub(crate) claim_space: Option<u64>,
    /// `--jitter`: each timer interrupt stalls the CPU for a pseudo-random part of a
    /// millisecond ([`Machine::set_jitter`]).
    pub(crate) jitter: Option<crate::devices::Jitter>,
    /// Stall ticks the jitter owes the CPU, taken at the next slice.
    pub(crate) stall: u64,
}

impl PcBus {
    fn ns(&self, ticks: u64) -> Nanos {
        ticks_to_ns(ticks, self.rate)
    }

    /// Brings timed devices up to virtual time `ns` and forwards their interrupts.
    fn sync_ns(&mut self, ns: Nanos) {
        if ns > self.synced {
            self.pit.advance(ns);
            self.cmos.advance(ns);
            self.ide.advance(ns);
            self.synced = ns;
        }
        if self.pit.take_irq0_edges() > 0 {
            if let Some(j) = &mut self.jitter {
                self.stall += j.below(self.rate / 1000);
            }
            // Edge-triggered: a pulse latches one request; several coalesce, as on a PC.
            self.pic.set_irq(0, true);
            self.pic.set_irq(0, false);
        }
        self.update_irqs();
    }

    /// Copies the level-triggered device outputs to the PIC.
    fn update_irqs(&mut self) {
        self.pic.set_irq(1, self.kbc.irq1());
        self.pic.set_irq(8, self.cmos.irq());
        self.pic.set_irq(12, self.kbc.irq12());
        self.pic.set_irq(4, self.com1.irq());
        self.pic.set_irq(3, self.com2.irq());
        self.pic.set_irq(14, self.ide.irq(0));
        self.pic.set_irq(15, self.ide.irq(1));
    }

    /// The next virtual time any device changes on its own.
    fn next_event(&self) -> Option<Nanos> {
        [self.pit.next_event(), self.cmos.next_event(), self.ide.next_event()].into_iter().flatten().min()
    }

    /// Hands disk commands that finished to the observer, stamped `icount` (the next
    /// CPU event or the end of the slice: none of the CPU's events fell in between).
    fn forward_disk(&mut self, icount: u64) {
        if !self.ide.has_observed() {
            return;
        }
        if let Some(o) = &mut self.observer {
            for cmd in self.ide.take_observed() {
                o.event(icount, Event::Disk(&cmd), None);
            }
        }
    }

    fn check_requests(&mut self) {
        if let Some(r) = self.power.take_request() {
            self.request = Some(r);
        }
        if self.kbc.take_reset_request() {
            self.request = Some(PowerRequest::Reset);
        }
        if self.request.is_some() {
            self.stop = true;
        }
    }

    fn device_for(&mut self, port: u16) -> Option<&mut dyn PortDevice> {
        Some(match port {
            0x20 | 0x21 | 0xa0 | 0xa1 | 0x4d0 | 0x4d1 => &mut self.pic,
            0x40..=0x43 | 0x61 => &mut self.pit,
            0x3f8..=0x3ff => &mut self.com1,
            0x2f8..=0x2ff => &mut self.com2,
            0x70 | 0x71 => &mut self.cmos,
            0x60 | 0x64 | 0x92 => &mut self.kbc,
            0x3b4 | 0x3b5 | 0x3ba | 0x3c0..=0x3cf | 0x3d4 | 0x3d5 | 0x3da => &mut self.vga,
            0x1f0..=0x1f7 | 0x3f6 | 0x170..=0x177 | 0x376 => &mut self.ide,
            0x80 | 0x501 | 0x604 | 0x8900 | 0xe9 | 0xcf9 => &mut self.power,
            _ => return None,
        })
    }
}

/// Converts ticks to virtual nanoseconds at `rate` ticks per second.
pub fn ticks_to_ns(ticks: u64, rate: u64) -> Nanos {
    if rate == DEFAULT_RATE {
        ticks
    } else {
        (ticks as u128 * 1_000_000_000 / rate as u128) as u64
    }
}

/// Converts virtual nanoseconds to ticks (rounding up, so an event is never early).
pub fn ns_to_ticks(ns: Nanos, rate: u64) -> u64 {
    if rate == DEFAULT_RATE {
        ns
    } else {
        (ns as u128 * rate as u128).div_ceil(1_000_000_000) as u64
    }
}

impl Bus for PcBus {
    fn port_read(&mut self, now: u64, port: u16, size: u8) -> u32 {
        self.sync_ns(self.ns(now));
        let v = match self.device_for(port) {
            Some(d) => d.read(port, size),
            None => crate::bus::ones(size) as u32,
        };
        self.update_irqs();
        // Taking the last word of a block can start the wait for the next one. A jitter
        // stall owed must be taken right after this instruction, wherever slices end.
        if self.ide.take_rescheduled() || self.stall > 0 {
            self.stop = true;
        }
        v
    }

    fn port_write(&mut self, now: u64, port: u16, size: u8, value: u32) {
        self.sync_ns(self.ns(now));
        if let Some(d) = self.device_for(port) {
            d.write(port, size, value);
        }
        self.update_irqs();
        self.check_requests();
        // Reprogramming a timer moves its next event; the slice the CPU is running was
        // sized for the old one, so hand control back to reschedule (timer writes are rare).
        // A disk command (or the last word of a written block) starts a wait whose end is
        // a new event, for the same reason.
        if matches!(port, 0x40..=0x43 | 0x61 | 0x70 | 0x71) || self.ide.take_rescheduled() || self.stall > 0 {
            self.stop = true;
        }
    }

    fn mmio_read(&mut self, _now: u64, addr: u64, size: u8) -> u64 {
        if (0xa0000..0xc0000).contains(&addr) {
            self.vga.mmio_read(addr, size)
        } else {
            crate::bus::ones(size)
        }
    }

    fn mmio_write(&mut self, _now: u64, addr: u64, size: u8, value: u64) {
        if (0xa0000..0xc0000).contains(&addr) {
            self.vga.mmio_write(addr, size, value);
        }
    }

    fn interrupt_pending(&mut self) -> bool {
        self.pic.interrupt_pending()
    }

    fn acknowledge_interrupt(&mut self) -> u8 {
        let v = self.pic.acknowledge();
        self.update_irqs();
        v
    }

    fn a20_enabled(&self) -> bool {
        self.kbc.a20_enabled()
    }

    fn port_read_is_stable(&mut self, port: u16, size: u8) -> bool {
        // Only the disk's status is worth it: guests poll BSY for a whole command.
        IdeController::claims_port(port) && self.ide.read_is_stable(port, size)
    }

    fn stop_requested(&mut self) -> bool {
        std::mem::take(&mut self.stop)
    }

    fn cpu_event(&mut self, icount: u64, event: &CpuEvent, mem: &PhysMemory) {
        if let CpuEvent::Cr3Load { value } = event {
            self.cr3 = *value;
            self.claim_space = None;
        }
        if self.observer.is_none() {
            return;
        }
        self.forward_disk(icount);
        let Some(o) = &mut self.observer else { return };
        o.event(icount, Event::Cpu(event), Some(mem));
        if let CpuEvent::PortOut { port: CLAIM_PORT, size: 4, value } = *event {
            if !self.claims.in_record() {
                self.claim_cr3 = self.claim_space.unwrap_or(self.cr3);
            }
            match self.claims.push(value) {
                Some(Claim::AddressSpace { cr3 }) => self.claim_space = Some(cr3),
                Some(claim) => o.event(icount, Event::Claim { claim: &claim, cr3: self.claim_cr3 }, Some(mem)),
                None => {}
            }
        }
    }
}

/// The BIOS's view of the machine.
struct Host<'a> {
    bus: &'a mut PcBus,
    epoch: u64,
    now_ns: Nanos,
}

impl Host<'_> {
    /// The IDE position of BIOS drive `drive`: hard disks are numbered from 0x80 in the
    /// order primary master, primary slave, secondary master, secondary slave, skipping
    /// absent positions, as a PC BIOS numbers them.
    fn disk(&mut self, drive: u8) -> Option<&mut Disk> {
        let n = drive.checked_sub(0x80)? as usize;
        let (ch, dr) = [(0, 0), (0, 1), (1, 0), (1, 1)].into_iter().filter(|&(c, d)| self.bus.ide.disk_mut(c, d).is_some()).nth(n)?;
        self.bus.ide.disk_mut(ch, dr)
    }
}

impl BiosHost for Host<'_> {
    fn disk_sectors(&self, drive: u8) -> Option<u64> {
        let n = drive.checked_sub(0x80)? as usize;
        let present: Vec<u64> = [(0, 0), (0, 1), (1, 0), (1, 1)].into_iter().filter_map(|(c, d)| self.bus.ide.sectors(c, d)).collect();
        present.get(n).copied()
    }
    fn disk_read(&mut self, drive: u8, lba: u64, buf: &mut [u8; 512]) -> bool {
        self.disk(drive).is_some_and(|d| d.read_sector(lba, buf).is_ok())
    }
    fn disk_write(&mut self, drive: u8, lba: u64, buf: &[u8; 512]) -> bool {
        self.disk(drive).is_some_and(|d| d.write_sector(lba, buf).is_ok())
    }
    fn console(&mut self, byte: u8) {
        self.bus.firmware_output.push(byte);
    }
    fn a20(&self) -> bool {
        self.bus.kbc.a20_enabled()
    }
    fn set_a20(&mut self, on: bool) {
        self.bus.kbc.set_a20(on);
    }
    fn time(&self) -> (u64, u32) {
        (self.epoch + self.now_ns / 1_000_000_000, (self.now_ns % 1_000_000_000) as u32)
    }
}

/// Why a debugged slice stopped early ([`crate::cpu::debug`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DebugStop {
    /// The next instruction, at this linear address, has a breakpoint.
    Breakpoint(u64),
    /// The instruction just retired hit a watchpoint.
    Watch(WatchHit),
}

/// A PC ready to boot.
pub struct Machine {
    pub cpu: Cpu,
    pub bus: PcBus,
    pub(crate) bios: Bios,
    pub(crate) epoch: u64,
    /// Set when a slice stopped at a breakpoint or watchpoint; see [`Machine::take_debug_stop`].
    debug_stop: Option<DebugStop>,
    /// Memory as of the last snapshot taken or restored ([`crate::snapshot`]); with the
    /// memory's dirty bits, what the next snapshot copies.
    pub(crate) mem_base: Option<crate::snapshot::MemoryImage>,
}

impl Machine {
    /// Builds the PC, installs the BIOS and loads the boot sector of the first disk.
    pub fn new(config: Config) -> Result<Self, MachineError> {
        if config.rate < 1000 {
            return Err(MachineError::BadRate);
        }
        let mem = PhysMemory::new(config.memory)?;
        let mut cpu = Cpu::new(mem);
        let hard_disks = config.disks.iter().flatten().filter(|d| d.is_some()).count() as u8;
        let bus = PcBus {
            pic: Pic::new(),
            pit: Pit::new(),
            com1: Uart::com1(),
            com2: Uart::com2(),
            cmos: Cmos::new(config.memory, config.epoch),
            firmware_output: Vec::new(),
            kbc: Kbc::new(),
            vga: Vga::new(),
            power: Power::new(),
            ide: {
                let mut ide = IdeController::new(config.disks);
                ide.set_timing(config.disk_timing);
                // Nobody drains the command log of a whole run: observers get commands.
                ide.set_event_log(false);
                ide
            },
            rate: config.rate,
            synced: 0,
            stop: false,
            request: None,
            observer: None,
            claims: ClaimDecoder::default(),
            claim_cr3: 0,
            cr3: 0,
            claim_space: None,
            jitter: None,
            stall: 0,
        };
        let bios = Bios::new(config.memory);
        bios.install(&mut cpu, hard_disks);
        let mut m = Machine { cpu, bus, bios, epoch: config.epoch, debug_stop: None, mem_base: None };
        let mut host = Host { bus: &mut m.bus, epoch: m.epoch, now_ns: 0 };
        m.bios.boot(&mut m.cpu, &mut host)?;
        Ok(m)
    }

    /// Installs `observer` (see [`crate::observe`]): from now on it sees every event.
    /// `machine.bus.observer.take()` gives it back ([`crate::observe::downcast`]).
    pub fn observe(&mut self, observer: Box<dyn Observer>) {
        self.bus.ide.set_observe(true);
        self.bus.claims = ClaimDecoder::default();
        self.bus.observer = Some(observer);
    }

    /// Perturbs timing deterministically from `seed`: every timer interrupt stalls the
    /// CPU for up to 1 ms of virtual time (as a busy host would), and every disk command
    /// takes up to half as long again. Interrupts and disk completions then land at other
    /// instructions, so threads interleave differently; the same seed gives the same run.
    pub fn set_jitter(&mut self, seed: u64) {
        self.bus.jitter = Some(crate::devices::Jitter::new(seed));
        self.bus.ide.set_jitter(seed);
    }

    /// Makes every disk copy-on-write: the guest's writes stay in memory (the image files
    /// are left as they were) and snapshots can take the disks back.
    pub fn disks_copy_on_write(&mut self) {
        for (c, d) in [(0, 0), (0, 1), (1, 0), (1, 1)] {
            if let Some(disk) = self.bus.ide.disk_mut(c, d) {
                disk.copy_on_write();
            }
        }
    }

    /// Why the last slice stopped early for the debugger, if it did.
    pub fn take_debug_stop(&mut self) -> Option<DebugStop> {
        self.debug_stop.take()
    }

    /// Virtual nanoseconds since power-on.
    pub fn virtual_ns(&self) -> Nanos {
        ticks_to_ns(self.cpu.now(), self.bus.rate)
    }

    /// Takes the console bytes (COM1 and BIOS teletype) written since the last call.
    pub fn take_console(&mut self) -> Vec<u8> {
        let mut out = std::mem::take(&mut self.bus.firmware_output);
        out.extend(self.bus.com1.take_output());
        out
    }

    /// Runs until the guest stops or a limit passes. `on_output` receives console bytes
    /// as they appear and may ask to stop by returning false.
    pub fn run(&mut self, limits: Limits, mut on_output: impl FnMut(&[u8]) -> bool) -> Outcome {
        let start = Instant::now();
        let rate = self.bus.rate;
        let deadline = limits.virtual_time.map(|d| ns_to_ticks(d.as_nanos().min(u64::MAX as u128) as u64, rate));
        let mut slices: u64 = 0;
        let outcome = loop {
            let now = self.cpu.now();
            self.bus.sync_ns(ticks_to_ns(now, rate));
            let out = self.take_console();
            if !out.is_empty() && !on_output(&out) {
                break Outcome::PowerOff;
            }
            if let Some(d) = deadline {
                if now >= d {
                    break Outcome::Timeout;
                }
            }
            if let Some(limit) = limits.instructions {
                if self.cpu.icount >= limit {
                    break Outcome::InstructionLimit;
                }
            }
            slices += 1;
            if slices.is_multiple_of(64) {
                if let Some(h) = limits.host_time {
                    if start.elapsed() >= h {
                        break Outcome::HostTimeout;
                    }
                }
            }
            let mut cap = MAX_SLICE;
            if let Some(limit) = limits.instructions {
                cap = cap.min(limit.saturating_sub(self.cpu.icount).max(1));
            }
            if let Some(o) = self.step_slice(cap, deadline) {
                break o;
            }
        };
        let out = self.take_console();
        if !out.is_empty() {
            on_output(&out);
        }
        self.bus.forward_disk(self.cpu.icount);
        if outcome == Outcome::PowerOff {
            if let Some(o) = &mut self.bus.observer {
                o.event(self.cpu.icount, Event::PowerOff, Some(&self.cpu.mem));
            }
        }
        self.finish();
        outcome
    }

    /// Runs one slice of at most `max` instructions (at least one tick), stopping early at
    /// the next device event or at `deadline` (in ticks), then services halts and power
    /// requests. Returns the outcome if the run is over. [`Machine::run`] is a loop around
    /// this; a debugger calls it with `max = 1` to single-step.
    pub fn step_slice(&mut self, max: u64, deadline: Option<u64>) -> Option<Outcome> {
        let rate = self.bus.rate;
        self.bus.sync_ns(ticks_to_ns(self.cpu.now(), rate));
        // The jitter's stall, owed for a timer interrupt just raised: time passes with no
        // instruction retired (and may bring more events). It is taken here, at the first
        // slice boundary after the interrupt was raised, which is the same instruction
        // however the run is sliced (a raise inside a slice stops it, see `port_read`).
        while self.bus.stall > 0 {
            self.cpu.idle += std::mem::take(&mut self.bus.stall);
            self.bus.sync_ns(ticks_to_ns(self.cpu.now(), rate));
        }
        let now = self.cpu.now();
        // Run to the next device event, the deadline, or the slice cap.
        let next = self.bus.next_event().map(|ns| ns_to_ticks(ns, rate));
        let mut until = now + max.max(1);
        for t in [next, deadline].into_iter().flatten() {
            until = until.min(t.max(now + 1));
        }
        let exit = self.cpu.run(&mut self.bus, until - now);
        self.bus.forward_disk(self.cpu.icount);
        match exit {
            Exit::Budget => {}
            Exit::Stopped => {
                if let Some(hit) = self.cpu.debug.hit.take() {
                    self.debug_stop = Some(DebugStop::Watch(hit));
                }
            }
            Exit::Breakpoint => self.debug_stop = Some(DebugStop::Breakpoint(self.cpu.pc())),
            Exit::Halted => {
                let mut host = Host { bus: &mut self.bus, epoch: self.epoch, now_ns: ticks_to_ns(now, rate) };
                if self.bios.service(&mut self.cpu, &mut host) {
                    return None;
                }
                // Skip to the next event; with none coming, the guest sleeps forever.
                // Ask the devices again: `next` was computed before the slice, and the
                // guest may have reprogrammed a timer since (a PIT set to 100 Hz just
                // before HLT must wake it in 10 ms, not at the old 18.2 Hz deadline,
                // where the missed ticks would coalesce into one).
                self.bus.sync_ns(ticks_to_ns(self.cpu.now(), rate));
                let next = self.bus.next_event().map(|ns| ns_to_ticks(ns, rate));
                let wake = [next, deadline].into_iter().flatten().min();
                match wake {
                    Some(t) if t > self.cpu.now() => {
                        let from = self.cpu.now();
                        self.bus.ide.note_halted(ticks_to_ns(t, rate) - ticks_to_ns(from, rate));
                        self.cpu.idle += t - from;
                    }
                    Some(_) => {}
                    None => return Some(Outcome::Idle),
                }
            }
            Exit::HaltedForever => {
                let mut host = Host { bus: &mut self.bus, epoch: self.epoch, now_ns: ticks_to_ns(now, rate) };
                if self.bios.service(&mut self.cpu, &mut host) {
                    return None;
                }
                if !self.bus.pic.interrupt_pending() {
                    return Some(Outcome::HaltedForever);
                }
            }
            Exit::TripleFault => return Some(Outcome::TripleFault(self.cpu.shutdown.clone().unwrap_or_default())),
        }
        match self.bus.request.take() {
            Some(PowerRequest::PowerOff) => Some(Outcome::PowerOff),
            Some(PowerRequest::Exit(code)) => Some(Outcome::DebugExit(code)),
            Some(PowerRequest::Reset) => Some(Outcome::Reset),
            None => None,
        }
    }

    /// Flushes the disk images to their files (at the end of a run).
    pub fn finish(&mut self) {
        // Host I/O errors were already reported to the guest; a failed final sync is too late
        // to report anywhere but here.
        if let Err(e) = self.bus.ide.flush_all() {
            eprintln!("warning: flushing disk images failed: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use iced_x86::code_asm::*;

    /// A boot sector assembled from `f`, with the 0x55aa signature.
    fn boot_sector(f: impl FnOnce(&mut CodeAssembler) -> Result<(), IcedError>) -> Vec<u8> {
        let mut a = CodeAssembler::new(16).unwrap();
        f(&mut a).unwrap();
        let mut code = a.assemble(0x7c00).unwrap();
        assert!(code.len() <= 510);
        code.resize(510, 0);
        code.extend_from_slice(&[0x55, 0xaa]);
        code
    }

    fn machine(disk0: Vec<u8>) -> Machine {
        let os = Disk::from_bytes(disk0).unwrap();
        Machine::new(Config { memory: 16 << 20, rate: DEFAULT_RATE, epoch: DEFAULT_EPOCH, disks: [[Some(os), None], [None, None]], disk_timing: DiskTiming::INSTANT }).unwrap()
    }

    fn run(m: &mut Machine) -> (Outcome, String) {
        let mut out = Vec::new();
        let o = m.run(Limits { virtual_time: Some(Duration::from_millis(50)), ..Limits::default() }, |b| {
            out.extend_from_slice(b);
            true
        });
        (o, String::from_utf8_lossy(&out).into_owned())
    }

    #[test]
    fn boot_sector_prints_on_com1_and_powers_off() {
        let disk = boot_sector(|a| {
            a.mov(dx, 0x3f8u32)?;
            for c in b"hi\n" {
                a.mov(al, *c as u32)?;
                a.out(dx, al)?;
            }
            a.mov(dx, 0x604u32)?;
            a.mov(ax, 0x2000u32)?;
            a.out(dx, ax)?;
            a.hlt()?;
            Ok(())
        });
        let mut m = machine(disk);
        let (o, out) = run(&mut m);
        assert_eq!(o, Outcome::PowerOff);
        assert_eq!(out, "hi\n");
    }

    #[test]
    fn bios_reads_sectors_and_prints_with_int_10h() {
        // Sector 1 holds a string; the boot sector reads it with int 0x13 AH=0x42 and
        // prints it with int 0x10 AH=0x0e.
        let disk = boot_sector(|a| {
            let mut dap = a.create_label();
            let mut next = a.create_label();
            let mut done = a.create_label();
            a.xor(ax, ax)?;
            a.mov(ds, ax)?;
            a.mov(si, 0x7c00u32 + 0x100)?; // DAP placed at 0x7d00 below
            a.mov(ah, 0x42u32)?;
            a.int(0x13)?;
            a.jc(done)?;
            a.mov(si, 0x8000u32)?;
            a.set_label(&mut next)?;
            a.lodsb()?;
            a.test(al, al)?;
            a.jz(done)?;
            a.mov(ah, 0x0eu32)?;
            a.int(0x10)?;
            a.jmp(next)?;
            a.set_label(&mut done)?;
            a.mov(dx, 0x604u32)?;
            a.mov(ax, 0x2000u32)?;
            a.out(dx, ax)?;
            a.set_label(&mut dap)?;
            a.hlt()?;
            Ok(())
        });
        let mut disk = disk;
        // DAP at 0x7d00: size 16, 1 sector, buffer 0000:8000, LBA 1.
        disk[0x100..0x110].copy_from_slice(&[16, 0, 1, 0, 0x00, 0x80, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]);
        let mut sector1 = b"loaded by int 13h\n\0".to_vec();
        sector1.resize(512, 0);
        disk.extend_from_slice(&sector1);
        let mut m = machine(disk);
        let (o, out) = run(&mut m);
        assert_eq!(o, Outcome::PowerOff);
        assert_eq!(out, "loaded by int 13h\n");
    }

    #[test]
    fn hlt_with_interrupts_off_ends_the_run() {
        let mut m = machine(boot_sector(|a| {
            a.cli()?;
            a.hlt()?;
            Ok(())
        }));
        assert_eq!(run(&mut m).0, Outcome::HaltedForever);
    }

    #[test]
    fn spinning_guest_times_out_in_virtual_time() {
        let mut m = machine(boot_sector(|a| {
            let mut l = a.create_label();
            a.set_label(&mut l)?;
            a.jmp(l)?;
            Ok(())
        }));
        let (o, _) = run(&mut m);
        assert_eq!(o, Outcome::Timeout);
        assert!(m.virtual_ns() >= 50_000_000);
    }

    #[test]
    fn reprogrammed_timer_ticks_on_time_while_the_guest_spins() {
        // IRQ0 handler at 0000:7d00 counts ticks at 0000:0500. The guest programs the PIT
        // for ~10 kHz (count 119) and busy-waits ~2 ms without halting: the new period must
        // take effect at once, not after the slice sized for the BIOS's 18.2 Hz.
        let mut disk = boot_sector(|a| {
            let mut spin = a.create_label();
            a.cli()?;
            a.xor(ax, ax)?;
            a.mov(ds, ax)?;
            a.mov(word_ptr(0x500), 0u32)?;
            a.mov(word_ptr(8 * 4), 0x7d00u32)?;
            a.mov(word_ptr(8 * 4 + 2), 0u32)?;
            a.mov(al, 0xfeu32)?;
            a.out(0x21, al)?;
            a.mov(al, 0x34u32)?;
            a.out(0x43, al)?;
            a.mov(al, 119u32)?;
            a.out(0x40, al)?;
            a.xor(al, al)?;
            a.out(0x40, al)?;
            a.sti()?;
            a.mov(ecx, 1_000_000u32)?;
            a.set_label(&mut spin)?;
            a.dec(ecx)?;
            a.jnz(spin)?;
            a.cli()?;
            a.mov(dx, 0x604u32)?;
            a.mov(ax, 0x2000u32)?;
            a.out(dx, ax)?;
            a.hlt()?;
            Ok(())
        });
        let mut h = CodeAssembler::new(16).unwrap();
        h.inc(word_ptr(0x500)).unwrap();
        h.mov(al, 0x20u32).unwrap();
        h.out(0x20, al).unwrap();
        h.iret().unwrap();
        let handler = h.assemble(0x7d00).unwrap();
        disk[0x100..0x100 + handler.len()].copy_from_slice(&handler);
        let mut m = machine(disk);
        assert_eq!(run(&mut m).0, Outcome::PowerOff);
        let ticks = m.cpu.mem.read_u32(0x500).unwrap() & 0xffff;
        // 2 M instructions = 2 ms at the default rate; the period is 119 / 1.193182 MHz.
        let expected = 2_000_000.0 / (119.0 / 1.193_182e-3);
        assert!((ticks as f64 - expected).abs() <= 2.0, "{ticks} ticks, expected about {expected:.0}");
    }

    #[test]
    fn unbootable_disk_is_an_error() {
        let os = Disk::from_bytes(vec![0; 512]).unwrap();
        let r = Machine::new(Config { memory: 16 << 20, rate: DEFAULT_RATE, epoch: DEFAULT_EPOCH, disks: [[Some(os), None], [None, None]], disk_timing: DiskTiming::INSTANT });
        assert!(matches!(r, Err(MachineError::Boot(BootError::NotBootable))));
    }
}
