//! The two legacy ATA (IDE) channels, in PIO mode with completion interrupts, as Pintos'
//! `devices/ide.c` (Pintos-KAIST: `devices/disk.c`) drives them.
//!
//! Channel 0 is at ports 0x1f0-0x1f7 / 0x3f6 on IRQ 14, channel 1 at 0x170-0x177 / 0x376
//! on IRQ 15, each with a master (device 0) and a slave (device 1). `init` probes the
//! four positions the way Pintos does, so it finds exactly the drives QEMU would show it:
//!
//! 1. presence: write 0x55/0xaa patterns to Sector Count and LBA Low of each device and
//!    read them back (an empty channel floats at 0xff; an absent slave reads 0x00);
//! 2. a software reset (which also clears nIEN, turning the channel's interrupt on) and a
//!    wait for each present device to come out of it;
//! 3. the reset signature: error register 1 (0x81 on a master means "no working slave"),
//!    DRDY set, BSY clear, and LBA Mid/High 0/0 (or 3c/c3) for an ATA disk rather than a
//!    packet device;
//! 4. IDENTIFY DEVICE for each disk found: capacity (LBA28 sectors, words 60-61), model
//!    (words 27-46) and serial (words 10-19), printed as Pintos prints them, and the disk
//!    registered with `block` under its fixed role (`block::Role::at`).
//!
//! Transfers are one sector per command, LBA28. A command's completion interrupt ups the
//! channel's semaphore, on which the issuing thread sleeps; the channel's lock keeps a
//! second thread from touching the registers until the first one's command is done (the
//! two devices of a channel share one set of registers).
//!
//! The waits (reset, BSY, DRQ) have Pintos' time-outs in timer sleeps, so they run in
//! virtual time under the emulator and never read a host clock.

use alloc::boxed::Box;
use alloc::string::String;
use core::sync::atomic::{AtomicBool, Ordering};

use super::block::{self, Role, Sector, SectorBuf};
use super::timer::{timer_msleep, timer_nsleep, timer_usleep};
use crate::arch::cell::IrqCell;
use crate::arch::io::{inb, insw, outb, outsw};
use crate::threads::init::thousands;
use crate::threads::interrupt::{self, IntrFrame, IRQ_BASE};
use crate::threads::synch::{lock_acquire, lock_release, sema_down, sema_up, Lock, Semaphore};

// Command block registers, as offsets from the channel's base port.
const REG_DATA: u16 = 0;
const REG_ERROR: u16 = 1;
const REG_NSECT: u16 = 2;
const REG_LBAL: u16 = 3;
const REG_LBAM: u16 = 4;
const REG_LBAH: u16 = 5;
const REG_DEVICE: u16 = 6;
/// Status when read (reading it acknowledges the drive's interrupt), Command when written.
const REG_STATUS: u16 = 7;
const REG_COMMAND: u16 = 7;
/// Device Control when written, Alternate Status when read (which does not acknowledge).
const REG_CTL: u16 = 0x206;

// Status bits.
const STA_BSY: u8 = 0x80;
const STA_DRDY: u8 = 0x40;
const STA_DRQ: u8 = 0x08;

/// Device Control: software reset, held while set. Writing the register without nIEN
/// (0x02) also enables the channel's interrupt.
const CTL_SRST: u8 = 0x04;

// Device register bits.
/// Bits 7 and 5, which old drives require to be set.
const DEV_MBS: u8 = 0xa0;
const DEV_LBA: u8 = 0x40;
/// Selects device 1 (the slave).
const DEV_DEV: u8 = 0x10;

const CMD_IDENTIFY_DEVICE: u8 = 0xec;
const CMD_READ_SECTOR_RETRY: u8 = 0x20;
const CMD_WRITE_SECTOR_RETRY: u8 = 0x30;

/// One channel: its ports and the synchronisation around its single set of registers.
struct Channel {
    /// "hd0" or "hd1".
    name: &'static str,
    /// Its devices' names, "hd0:0" and "hd0:1" or "hd1:0" and "hd1:1".
    dev_names: [&'static str; 2],
    /// Command block base port.
    base: u16,
    /// Interrupt vector of its IRQ.
    vec: u8,
    /// Held from selecting a device until its command has completed.
    lock: Lock,
    /// Set when a command is issued, so an interrupt at any other time is reported as
    /// unexpected instead of upping `completion` for a command nobody waits on.
    expecting_interrupt: AtomicBool,
    /// Upped by the interrupt handler when the command completes.
    completion: Semaphore,
}

/// Both channels, created once by `init` and never freed; the interrupt handler finds
/// its channel here.
static CHANNELS: IrqCell<Option<&'static [Channel; 2]>> = IrqCell::new(None);

/// A disk found by the probe: the block layer's driver for it.
struct Disk {
    /// "hd0:0" .. "hd1:1", for messages.
    name: &'static str,
    channel: &'static Channel,
    dev_no: u8,
}

/// What IDENTIFY DEVICE told us.
struct Identity {
    capacity: Sector,
    model: String,
    serial: String,
}

/// Probes both channels, prints a line for each disk found and registers it with the
/// block layer. Needs interrupts on and the timer calibrated (for the waits).
pub fn init() {
    let channels: &'static [Channel; 2] = Box::leak(Box::new([Channel::new(0), Channel::new(1)]));
    CHANNELS.with(|c| {
        assert!(c.is_none(), "ide::init called twice");
        *c = Some(channels);
    });
    for (chan_no, c) in channels.iter().enumerate() {
        interrupt::register_ext(c.vec, interrupt_handler, c.name);
        c.reset();
        let mut is_ata = [false; 2];
        let slave_possible;
        (is_ata[0], slave_possible) = c.check_device_type(0);
        if slave_possible {
            is_ata[1] = c.check_device_type(1).0;
        }
        for dev_no in (0..2).filter(|&d| is_ata[d]) {
            let disk = Disk { name: c.dev_names[dev_no], channel: c, dev_no: dev_no as u8 };
            if let Some(id) = disk.identify() {
                print_identity(disk.name, &id);
                block::register(disk.name, Role::at(chan_no, dev_no), id.capacity, Box::new(disk));
            }
        }
    }
    register_inspect_interrupts();
}

/// `hd0:0: detected 20,160 sector (9 MB) disk, model "QEMU HARDDISK", serial "QM00001"`
/// (Pintos' wording and rounding: the largest unit the size exceeds, rounded down).
fn print_identity(name: &str, id: &Identity) {
    let sectors = id.capacity as u64;
    const PER_KB: u64 = 1024 / block::SECTOR_SIZE as u64;
    print!("{name}: detected {} sector (", thousands(sectors));
    if sectors > PER_KB * 1024 * 1024 {
        print!("{} GB", sectors / (PER_KB * 1024 * 1024));
    } else if sectors > PER_KB * 1024 {
        print!("{} MB", sectors / (PER_KB * 1024));
    } else if sectors > PER_KB {
        print!("{} kB", sectors / PER_KB);
    } else {
        print!("{} byte", sectors * block::SECTOR_SIZE as u64);
    }
    println!(") disk, model \"{}\", serial \"{}\"", id.model, id.serial);
}

/// An ATA string from IDENTIFY data: two characters per word, the first in the high
/// byte, padded with spaces (or NULs) that are not part of it.
fn ata_string(words: &[u8]) -> String {
    let mut s: String = words.chunks(2).flat_map(|w| [w[1], w[0]]).map(char::from).collect();
    let end = s.trim_end_matches(|c: char| c == '\0' || c.is_ascii_whitespace()).len();
    s.truncate(end);
    s
}

impl Channel {
    fn new(chan_no: usize) -> Channel {
        let (name, dev_names, base, irq) = match chan_no {
            0 => ("hd0", ["hd0:0", "hd0:1"], 0x1f0, 14),
            1 => ("hd1", ["hd1:0", "hd1:1"], 0x170, 15),
            _ => unreachable!(),
        };
        Channel {
            name,
            dev_names,
            base,
            vec: (IRQ_BASE + irq) as u8,
            lock: Lock::new(),
            expecting_interrupt: AtomicBool::new(false),
            completion: Semaphore::new(0),
        }
    }

    fn inb(&self, reg: u16) -> u8 {
        inb(self.base + reg)
    }

    fn outb(&self, reg: u16, value: u8) {
        outb(self.base + reg, value)
    }

    /// Resets the channel and waits for the devices on it to finish resetting. How to
    /// wait depends on which devices are there, so presence is tested first.
    fn reset(&self) {
        let mut present = [false; 2];
        for (dev_no, p) in present.iter_mut().enumerate() {
            self.select_device(dev_no as u8);
            for (a, b) in [(0x55, 0xaa), (0xaa, 0x55), (0x55, 0xaa)] {
                self.outb(REG_NSECT, a);
                self.outb(REG_LBAL, b);
            }
            *p = self.inb(REG_NSECT) == 0x55 && self.inb(REG_LBAL) == 0xaa;
        }

        // SRST selects device 0; leaving nIEN clear turns the channel's interrupt on.
        self.outb(REG_CTL, 0);
        timer_usleep(10);
        self.outb(REG_CTL, CTL_SRST);
        timer_usleep(10);
        self.outb(REG_CTL, 0);
        timer_msleep(150);

        if present[0] {
            self.select_device(0);
            self.wait_while_busy(self.dev_names[0]);
        }
        if present[1] {
            self.select_device(1);
            // The slave shows its signature (count 1, LBA low 1) once its reset is done.
            for _ in 0..3000 {
                if self.inb(REG_NSECT) == 1 && self.inb(REG_LBAL) == 1 {
                    break;
                }
                timer_msleep(10);
            }
            self.wait_while_busy(self.dev_names[1]);
        }
    }

    /// Reads device `dev_no`'s reset signature: returns whether it is an ATA disk and,
    /// for the master, whether a slave may exist (diagnostic code 0x81 says it does not).
    fn check_device_type(&self, dev_no: u8) -> (bool, bool) {
        self.select_device(dev_no);
        let error = self.inb(REG_ERROR);
        let lbam = self.inb(REG_LBAM);
        let lbah = self.inb(REG_LBAH);
        let status = self.inb(REG_STATUS);
        let diag_ok = error == 1 || (error == 0x81 && dev_no == 0);
        if !diag_ok || status & STA_DRDY == 0 || status & STA_BSY != 0 {
            (false, error != 0x81)
        } else {
            // 0x3c/0xc3 is what some SATA disks in legacy mode show.
            (lbam == 0 && lbah == 0 || lbam == 0x3c && lbah == 0xc3, true)
        }
    }

    /// Selects device `dev_no` and gives it the 400 ns ATA allows it to respond.
    fn select_device(&self, dev_no: u8) {
        self.outb(REG_DEVICE, DEV_MBS | if dev_no == 1 { DEV_DEV } else { 0 });
        self.inb(REG_CTL);
        timer_nsleep(400);
    }

    /// `select_device`, waiting for the channel to be idle before and after.
    fn select_device_wait(&self, dev_no: u8, name: &str) {
        self.wait_until_idle(name);
        self.select_device(dev_no);
        self.wait_until_idle(name);
    }

    /// Waits up to 10 ms for BSY and DRQ to clear. Reads Status, so it also acknowledges
    /// any pending interrupt.
    fn wait_until_idle(&self, name: &str) {
        for _ in 0..1000 {
            if self.inb(REG_STATUS) & (STA_BSY | STA_DRQ) == 0 {
                return;
            }
            timer_usleep(10);
        }
        println!("{name}: idle timeout");
    }

    /// Waits up to 30 s (ATA's limit for a reset) for BSY to clear; returns DRQ.
    fn wait_while_busy(&self, name: &str) -> bool {
        for i in 0..3000 {
            if i == 700 {
                print!("{name}: busy, waiting...");
            }
            if self.inb(REG_CTL) & STA_BSY == 0 {
                if i >= 700 {
                    println!("ok");
                }
                return self.inb(REG_CTL) & STA_DRQ != 0;
            }
            timer_msleep(10);
        }
        println!("failed");
        false
    }

    /// Writes `command`, arming the completion interrupt first (it may arrive before the
    /// `out` instruction even returns).
    fn issue_pio_command(&self, command: u8) {
        assert!(crate::arch::cpu::interrupts_enabled(), "IDE command with interrupts off would never complete");
        self.expecting_interrupt.store(true, Ordering::Relaxed);
        self.outb(REG_COMMAND, command);
    }

    fn input_sector(&self, buf: &mut SectorBuf) {
        insw(self.base + REG_DATA, buf);
    }

    fn output_sector(&self, buf: &SectorBuf) {
        outsw(self.base + REG_DATA, buf);
    }
}

impl Disk {
    /// Runs `f` holding the channel.
    fn locked<R>(&self, f: impl FnOnce() -> R) -> R {
        lock_acquire(&self.channel.lock);
        let r = f();
        lock_release(&self.channel.lock);
        r
    }

    /// IDENTIFY DEVICE; None if the drive does not answer with data.
    fn identify(&self) -> Option<Identity> {
        let c = self.channel;
        let mut id = [0u8; block::SECTOR_SIZE];
        let ok = self.locked(|| {
            c.select_device_wait(self.dev_no, self.name);
            c.issue_pio_command(CMD_IDENTIFY_DEVICE);
            sema_down(&c.completion);
            if !c.wait_while_busy(self.name) {
                return false;
            }
            c.input_sector(&mut id);
            true
        });
        if !ok {
            return None;
        }
        let word = |i: usize| u16::from_le_bytes([id[2 * i], id[2 * i + 1]]) as u32;
        Some(Identity { capacity: word(60) | word(61) << 16, model: ata_string(&id[54..94]), serial: ata_string(&id[20..40]) })
    }

    /// Selects this disk and loads `sector` into the LBA28 address registers.
    fn select_sector(&self, sector: Sector) {
        let c = self.channel;
        assert!(sector < 1 << 28, "{}: sector {sector} beyond LBA28", self.name);
        c.select_device_wait(self.dev_no, self.name);
        c.outb(REG_NSECT, 1);
        c.outb(REG_LBAL, sector as u8);
        c.outb(REG_LBAM, (sector >> 8) as u8);
        c.outb(REG_LBAH, (sector >> 16) as u8);
        c.outb(REG_DEVICE, DEV_MBS | DEV_LBA | if self.dev_no == 1 { DEV_DEV } else { 0 } | (sector >> 24) as u8);
    }
}

impl block::Driver for Disk {
    fn read(&self, sector: Sector, buf: &mut SectorBuf) {
        let c = self.channel;
        self.locked(|| {
            self.select_sector(sector);
            c.issue_pio_command(CMD_READ_SECTOR_RETRY);
            sema_down(&c.completion);
            if !c.wait_while_busy(self.name) {
                panic!("{}: disk read failed, sector={}", self.name, sector);
            }
            c.input_sector(buf);
        })
    }

    fn write(&self, sector: Sector, buf: &SectorBuf) {
        let c = self.channel;
        self.locked(|| {
            self.select_sector(sector);
            c.issue_pio_command(CMD_WRITE_SECTOR_RETRY);
            // The drive asks for the data with DRQ and interrupts once it has stored it.
            if !c.wait_while_busy(self.name) {
                panic!("{}: disk write failed, sector={}", self.name, sector);
            }
            c.output_sector(buf);
            sema_down(&c.completion);
        })
    }
}

/// Registers Pintos-KAIST's disk inspection vectors, which tests (and user programs) use
/// to read a disk's counters: `int 0x43` (reads) and `int 0x44` (writes), channel in rdx,
/// device in rcx, count out in rax; u64::MAX for a position with no disk (KAIST would
/// fault on it).
fn register_inspect_interrupts() {
    interrupt::register_int(0x43, true, |f| f.rax = inspect(f).map_or(u64::MAX, |b| b.reads()), "Inspect Disk Read Count");
    interrupt::register_int(0x44, true, |f| f.rax = inspect(f).map_or(u64::MAX, |b| b.writes()), "Inspect Disk Write Count");
}

/// The disk an inspection interrupt asks about.
fn inspect(frame: &IntrFrame) -> Option<&'static block::Block> {
    let (chan_no, dev_no) = (frame.rdx as usize, frame.rcx as usize);
    if chan_no > 1 || dev_no > 1 {
        return None;
    }
    block::block_get_role(Role::at(chan_no, dev_no))
}

fn interrupt_handler(frame: &mut IntrFrame) {
    let channels = CHANNELS.with(|c| *c).expect("IDE interrupt before ide::init");
    let c = channels.iter().find(|c| c.vec as u64 == frame.vec).expect("IDE handler on a foreign vector");
    // Reading Status acknowledges the interrupt. Done even for an unexpected one: the
    // drive holds its interrupt line until then, and the PIC (edge-triggered) would
    // never see this channel's next interrupt.
    c.inb(REG_STATUS);
    if c.expecting_interrupt.swap(false, Ordering::Relaxed) {
        sema_up(&c.completion);
    } else {
        println!("{}: unexpected interrupt", c.name);
    }
}
