//! Block devices: fixed-size 512-byte sectors behind a driver, found by role or name.
//!
//! As in Pintos' `devices/block.c`, drivers (here only `ide`) register each device they
//! find, and the rest of the kernel asks for a device by the role it plays. Pintos-KAIST
//! fixes roles by IDE position rather than by partition: hd0:0 holds the boot loader,
//! command line and kernel, hd0:1 the file system, hd1:0 the scratch disk (`put`/`get`),
//! hd1:1 swap (see `Role::at`).
//!
//! Devices live for the whole run, so they are leaked on registration and handed out as
//! `&'static Block`. Every sector access goes through `Block::read`/`write`, which check
//! the sector number and count accesses; the counts are printed at power-off as
//! Pintos-KAIST's `disk_print_stats` does (`hd0:1: 5 reads, 2 writes`).

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};

use crate::arch::cell::IrqCell;

/// Bytes per sector.
pub const SECTOR_SIZE: usize = 512;

/// A sector number.
pub type Sector = u32;

/// One sector's bytes.
pub type SectorBuf = [u8; SECTOR_SIZE];

/// What a device is used for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// The boot loader, command line and kernel (os.dsk).
    Kernel,
    /// The file system (`--fs-disk`).
    Filesys,
    /// Files passed in and out of the machine (`-p`/`-g`).
    Scratch,
    /// Swap space for the VM project (`--swap-disk`).
    Swap,
}

impl Role {
    /// The role of the IDE drive at (`channel`, `dev_no`) (Pintos-KAIST's fixed layout).
    pub fn at(channel: usize, dev_no: usize) -> Role {
        match (channel, dev_no) {
            (0, 0) => Role::Kernel,
            (0, 1) => Role::Filesys,
            (1, 0) => Role::Scratch,
            (1, 1) => Role::Swap,
            _ => panic!("no IDE position {channel}:{dev_no}"),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Role::Kernel => "kernel",
            Role::Filesys => "filesys",
            Role::Scratch => "scratch",
            Role::Swap => "swap",
        }
    }
}

/// What a driver provides for each of its devices. Sector numbers are already checked
/// against the device's size.
pub trait Driver: Send + Sync {
    fn read(&self, sector: Sector, buf: &mut SectorBuf);
    fn write(&self, sector: Sector, buf: &SectorBuf);
}

/// A registered block device.
pub struct Block {
    name: &'static str,
    role: Role,
    size: Sector,
    driver: Box<dyn Driver>,
    reads: AtomicU64,
    writes: AtomicU64,
}

impl Block {
    /// The device's name, e.g. "hd0:1".
    pub fn name(&self) -> &str {
        self.name
    }

    pub fn role(&self) -> Role {
        self.role
    }

    /// Size in sectors.
    pub fn size(&self) -> Sector {
        self.size
    }

    /// Reads sector `sector` into `buf`. The driver serialises access itself, so callers
    /// need no lock of their own. Must not be called from an interrupt handler.
    pub fn read(&self, sector: Sector, buf: &mut SectorBuf) {
        self.check_sector(sector);
        self.driver.read(sector, buf);
        self.reads.fetch_add(1, Ordering::Relaxed);
    }

    /// Writes `buf` to sector `sector`; returns once the device has acknowledged it.
    pub fn write(&self, sector: Sector, buf: &SectorBuf) {
        self.check_sector(sector);
        self.driver.write(sector, buf);
        self.writes.fetch_add(1, Ordering::Relaxed);
    }

    /// Sectors read so far.
    pub fn reads(&self) -> u64 {
        self.reads.load(Ordering::Relaxed)
    }

    /// Sectors written so far.
    pub fn writes(&self) -> u64 {
        self.writes.load(Ordering::Relaxed)
    }

    /// An access past the end is a kernel bug (the file system and swap code size
    /// themselves from `size`), so it panics, as Pintos does.
    fn check_sector(&self, sector: Sector) {
        assert!(sector < self.size, "Access past end of device {} (sector={}, size={})", self.name, sector, self.size);
    }
}

/// Registered devices, in registration order (which is the IDE probe order, hd0:0
/// first, so the statistics come out in Pintos' order).
static DEVICES: IrqCell<Vec<&'static Block>> = IrqCell::new(Vec::new());

/// Adds a device; panics if another one already plays `role`.
pub fn register(name: &'static str, role: Role, size: Sector, driver: Box<dyn Driver>) -> &'static Block {
    let block: &'static Block = Box::leak(Box::new(Block { name, role, size, driver, reads: AtomicU64::new(0), writes: AtomicU64::new(0) }));
    DEVICES.with(|d| {
        assert!(d.iter().all(|b| b.role != role), "two {} devices", role.name());
        d.push(block);
    });
    block
}

/// The device playing `role`, if there is one (`block_get_role`).
pub fn block_get_role(role: Role) -> Option<&'static Block> {
    DEVICES.with(|d| d.iter().copied().find(|b| b.role == role))
}

/// The device called `name`, if there is one (`block_get_by_name`).
pub fn block_get_by_name(name: &str) -> Option<&'static Block> {
    DEVICES.with(|d| d.iter().copied().find(|b| b.name == name))
}

/// Prints each device's sector counts (`hd0:0: 3 reads, 0 writes`). Called at power-off,
/// possibly after a panic inside `DEVICES.with`, so it gives up rather than re-enter.
pub fn print_stats() {
    DEVICES.try_with(|d| {
        for b in d.iter() {
            println!("{}: {} reads, {} writes", b.name, b.reads(), b.writes());
        }
    });
}
