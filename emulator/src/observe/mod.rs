//! The machine's one observer interface: what the emulated hardware saw, reported with the
//! instruction count at which it happened.
//!
//! An [`Observer`] installed on the machine (`machine.bus.observer`) receives every
//! [`Event`]: the CPU's (page faults and other exceptions with CR2, error code, RIP, CPL,
//! CR3 and RSP; interrupts; CR3 loads; INVLPG; system calls; returns to user mode), each
//! IDE command with the disk's role and a hash of every sector moved, the claims a kernel
//! writes to the paravirtual port ([`claims`], `docs/claims.md`), and power-off. Events
//! that come from the CPU carry guest physical memory as it is at that instant, so an
//! observer can walk page tables ([`crate::mmu::inspect`]) without disturbing the guest.
//!
//! With no observer installed the cost is one `Option` test per reported event, and
//! events are rare next to instructions (`cargo bench -p emulator --bench mips` shows it).

pub mod claims;

use std::any::Any;

use crate::bus::CpuEvent;
use crate::memory::PhysMemory;

pub use claims::{Claim, ClaimDecoder, CLAIM_PORT};

/// What an IDE drive is for, by its position as Pintos attaches disks (QEMU's index 0-3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
pub enum DiskRole {
    /// hd0:0, the boot disk with the kernel.
    Os,
    /// hd0:1, the file system.
    Fs,
    /// hd1:0, the scratch disk (`-p`/`-g` transfers).
    Scratch,
    /// hd1:1, the swap disk.
    Swap,
}

impl DiskRole {
    pub const ALL: [DiskRole; 4] = [DiskRole::Os, DiskRole::Fs, DiskRole::Scratch, DiskRole::Swap];

    /// The role of IDE `channel` (0 primary, 1 secondary), `drive` (0 master, 1 slave).
    pub fn of(channel: usize, drive: usize) -> DiskRole {
        match (channel, drive) {
            (0, 0) => DiskRole::Os,
            (0, _) => DiskRole::Fs,
            (_, 0) => DiskRole::Scratch,
            _ => DiskRole::Swap,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            DiskRole::Os => "os",
            DiskRole::Fs => "fs",
            DiskRole::Scratch => "scratch",
            DiskRole::Swap => "swap",
        }
    }
}

/// One IDE command that moved sectors: reported when its last sector moved (or when it
/// stopped early on an error, with the sectors that did move).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DiskCommand {
    pub role: DiskRole,
    /// First sector.
    pub lba: u64,
    pub write: bool,
    /// [`hash64`] of each sector's 512 bytes, in order from `lba`.
    pub hashes: Vec<u64>,
}

impl DiskCommand {
    /// Sectors moved.
    pub fn count(&self) -> u64 {
        self.hashes.len() as u64
    }
}

/// Something an observer is told about.
#[derive(Clone, Copy, Debug)]
pub enum Event<'a> {
    Cpu(&'a CpuEvent),
    Disk(&'a DiskCommand),
    /// A record from the claims port; `cr3` is the address space loaded when it began.
    Claim { claim: &'a Claim, cr3: u64 },
    /// The guest powered the machine off (the run's last event).
    PowerOff,
}

/// Watches a machine. `mem` is guest memory at the instant of the event for events that
/// come from the CPU (and power-off); device events (disk commands complete on the
/// machine's schedule) have none.
pub trait Observer: Any + Send {
    fn event(&mut self, icount: u64, event: Event<'_>, mem: Option<&PhysMemory>);
}

/// An observer that keeps every event (tests and the `--trace` timeline use it).
#[derive(Debug, Default)]
pub struct Recorder {
    pub cpu: Vec<(u64, CpuEvent)>,
    pub disk: Vec<(u64, DiskCommand)>,
    pub claims: Vec<(u64, Claim, u64)>,
    pub power_off: Option<u64>,
}

impl Observer for Recorder {
    fn event(&mut self, icount: u64, event: Event<'_>, _mem: Option<&PhysMemory>) {
        match event {
            Event::Cpu(e) => self.cpu.push((icount, e.clone())),
            Event::Disk(d) => self.disk.push((icount, d.clone())),
            Event::Claim { claim, cr3 } => self.claims.push((icount, *claim, cr3)),
            Event::PowerOff => self.power_off = Some(icount),
        }
    }
}

/// The observer back as its concrete type, after a run (`machine.bus.observer.take()`).
pub fn downcast<T: Observer>(o: Box<dyn Observer>) -> Option<Box<T>> {
    let any: Box<dyn Any> = o;
    any.downcast().ok()
}

/// The content hash of sectors and pages in events and reports: FNV-1a over the bytes as
/// little-endian 64-bit words (a short tail byte by byte). Stable across runs and hosts,
/// so reports can be compared; a word at a time, because every sector a watched disk moves
/// is hashed.
pub fn hash64(bytes: &[u8]) -> u64 {
    let mut words = bytes.chunks_exact(8);
    let h = (&mut words).fold(HASH_START, |h, w| fold64(h, u64::from_le_bytes(w.try_into().unwrap())));
    words.remainder().iter().fold(h, |h, &b| fold64(h, b as u64))
}

/// The start of every [`hash64`]-style hash (FNV-1a's offset basis).
pub const HASH_START: u64 = 0xcbf2_9ce4_8422_2325;

/// One FNV-1a step: folds `x` into hash `h` (replay files hash event fields with it).
#[inline]
pub fn fold64(h: u64, x: u64) -> u64 {
    (h ^ x).wrapping_mul(0x0100_0000_01b3)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_reference_values() {
        // Shorter than a word: plain byte-wise FNV-1a (its published test vectors).
        assert_eq!(hash64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(hash64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(hash64(b"foobar"), 0x8594_4171_f739_67e8);
        // Words: one xor-multiply per 8 bytes.
        let word = 0xcbf2_9ce4_8422_2325u64 ^ u64::from_le_bytes(*b"abcdefgh");
        assert_eq!(hash64(b"abcdefgh"), word.wrapping_mul(0x0100_0000_01b3));
        let sector = [7u8; 512];
        assert_ne!(hash64(&sector), hash64(&[7u8; 511]));
    }

    #[test]
    fn roles_by_position() {
        assert_eq!([DiskRole::of(0, 0), DiskRole::of(0, 1), DiskRole::of(1, 0), DiskRole::of(1, 1)], DiskRole::ALL);
    }

    #[test]
    fn downcast_gets_the_recorder_back() {
        let mut o: Box<dyn Observer> = Box::new(Recorder::default());
        o.event(7, Event::PowerOff, None);
        assert_eq!(downcast::<Recorder>(o).unwrap().power_off, Some(7));
    }
}
