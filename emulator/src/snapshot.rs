//! Machine snapshots: the whole PC as one plain, serialisable value.
//!
//! A [`Snapshot`] holds the CPU (registers, control state, the TLB's translations,
//! counters), guest memory, every device, the event schedule (which lives in the devices'
//! own state: each timed device knows its next event, the machine asks them) and the
//! disks' changes. Restoring one and running on gives exactly the run the original gave:
//! same instruction counts, same events, same console (`tests` below, and
//! `disk-images/tests/snapshot.rs` on whole Pintos runs).
//!
//! Costs are kept to what changed:
//! * memory is kept per 4 KiB page, shared between snapshots ([`MemoryImage`]); a snapshot
//!   copies only the pages written since the previous one ([`PhysMemory`]'s dirty bits),
//!   and restoring copies back only the pages that differ;
//! * disks must be copy-on-write ([`crate::devices::ide::Disk::copy_on_write`]): a
//!   snapshot holds their written sectors, shared too.
//!
//! What is not in a snapshot: the decode cache (rebuilt from memory, invisible to the
//! guest), an observer, and debugger breakpoints (host-side).
//!
//! [`PhysMemory`]: crate::memory::PhysMemory

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::cpu::{Cpu, DescTable, Flags, Segment, Stats};
use crate::devices::cmos::Cmos;
use crate::devices::ide::IdeSnapshot;
use crate::devices::kbc::Kbc;
use crate::devices::pic::Pic;
use crate::devices::pit::Pit;
use crate::devices::power::{Power, PowerRequest};
use crate::devices::uart::Uart;
use crate::devices::vga::Vga;
use crate::devices::{Jitter, Nanos};
use crate::firmware::bios::Bios;
use crate::machine::Machine;
use crate::mmu::Perm;
use crate::observe::ClaimDecoder;

/// Page size of [`MemoryImage`].
const PAGE: usize = 4096;

/// Why a snapshot could not be taken or put back.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("disk hd{0}:{1} is not copy-on-write, so a snapshot could not take it back")]
    DiskNotCopyOnWrite(usize, usize),
    #[error("the snapshot is of a machine with {snapshot} bytes of memory, this one has {machine}")]
    MemorySize { snapshot: u64, machine: u64 },
    #[error("the snapshot's disks do not match this machine's")]
    Disks,
    #[error("not a snapshot: {0}")]
    Decode(String),
    #[error("the snapshot could not be written: {0}")]
    Encode(String),
}

/// Guest memory, page by page. Pages are shared between images (all-zero pages share
/// one), so a chain of snapshots costs what the run wrote between them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemoryImage {
    pages: Vec<Arc<[u8; PAGE]>>,
}

impl MemoryImage {
    fn zero_page() -> Arc<[u8; PAGE]> {
        thread_local! {
            static ZERO: Arc<[u8; PAGE]> = Arc::new([0; PAGE]);
        }
        ZERO.with(Arc::clone)
    }

    fn page_of(bytes: &[u8]) -> Arc<[u8; PAGE]> {
        if bytes.iter().all(|&b| b == 0) {
            Self::zero_page()
        } else {
            Arc::new(bytes.try_into().expect("a page is 4096 bytes"))
        }
    }

    /// Size in bytes.
    pub fn size(&self) -> u64 {
        (self.pages.len() * PAGE) as u64
    }

    /// Bytes held by pages not shared with `other` (what this image adds to a chain).
    pub fn unshared_bytes(&self, other: Option<&MemoryImage>) -> u64 {
        let zero = Self::zero_page();
        let n = self.pages.iter().enumerate().filter(|(i, p)| !Arc::ptr_eq(p, &zero) && !other.is_some_and(|o| o.pages.get(*i).is_some_and(|q| Arc::ptr_eq(p, q)))).count();
        (n * PAGE) as u64
    }

    /// The bytes of page `n`.
    pub fn page(&self, n: usize) -> &[u8] {
        &self.pages[n][..]
    }
}

impl Serialize for MemoryImage {
    /// The page count, then (page number, bytes) for every page that is not all zeros.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let zero = Self::zero_page();
        let used: Vec<(u64, &[u8])> = self.pages.iter().enumerate().filter(|(_, p)| !Arc::ptr_eq(p, &zero) && p.iter().any(|&b| b != 0)).map(|(i, p)| (i as u64, &p[..])).collect();
        (self.pages.len() as u64, used).serialize(s)
    }
}

impl<'de> Deserialize<'de> for MemoryImage {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let (count, used): (u64, Vec<(u64, Vec<u8>)>) = Deserialize::deserialize(d)?;
        if count > (64u64 << 30) / PAGE as u64 {
            return Err(serde::de::Error::custom("memory image larger than 64 GiB"));
        }
        let mut pages = vec![Self::zero_page(); count as usize];
        for (n, bytes) in used {
            let slot = pages.get_mut(n as usize).ok_or_else(|| serde::de::Error::custom("page beyond the image"))?;
            let page: [u8; PAGE] = bytes.as_slice().try_into().map_err(|_| serde::de::Error::invalid_length(bytes.len(), &"a 4096-byte page"))?;
            *slot = Arc::new(page);
        }
        Ok(MemoryImage { pages })
    }
}

/// The CPU's state: everything in [`Cpu`] but memory and the decode cache.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CpuState {
    pub gpr: [u64; 32],
    pub rip: u64,
    pub flags: Flags,
    pub seg: [Segment; 6],
    pub ldtr: Segment,
    pub tr: Segment,
    pub gdtr: DescTable,
    pub idtr: DescTable,
    pub cr: [u64; 5],
    pub dr: [u64; 8],
    pub efer: u64,
    pub msr: crate::cpu::Msrs,
    pub sse: crate::cpu::SseState,
    pub fpu: crate::cpu::FpuState,
    pub icount: u64,
    pub deliveries: u64,
    pub idle: u64,
    pub halted: bool,
    pub shutdown: Option<String>,
    pub stats: Stats,
    pub spin_skip: bool,
    cpl: u8,
    bits: u8,
    long64: bool,
    seg_base: [u64; 8],
    ip_mask: u64,
    shadow: bool,
    intr: bool,
    a20: bool,
    /// The TLB's translations (stale ones included: a guest may depend on them).
    tlb: Vec<(u16, u64, u64, Perm, u64)>,
}

impl CpuState {
    fn of(cpu: &Cpu) -> CpuState {
        CpuState {
            gpr: cpu.gpr,
            rip: cpu.rip,
            flags: cpu.flags,
            seg: cpu.seg,
            ldtr: cpu.ldtr,
            tr: cpu.tr,
            gdtr: cpu.gdtr,
            idtr: cpu.idtr,
            cr: [cpu.cr0, cpu.cr2, cpu.cr3, cpu.cr4, cpu.cr8],
            dr: cpu.dr,
            efer: cpu.efer,
            msr: cpu.msr,
            sse: cpu.sse,
            fpu: cpu.fpu,
            icount: cpu.icount,
            deliveries: cpu.deliveries,
            idle: cpu.idle,
            halted: cpu.halted,
            shutdown: cpu.shutdown.clone(),
            stats: cpu.stats.clone(),
            spin_skip: cpu.spin_skip,
            cpl: cpu.cpl,
            bits: cpu.bits,
            long64: cpu.long64,
            seg_base: cpu.seg_base,
            ip_mask: cpu.ip_mask,
            shadow: cpu.shadow,
            intr: cpu.intr,
            a20: cpu.a20,
            tlb: cpu.tlb.translations(),
        }
    }

    /// Loads the state into `cpu` (whose memory already holds the snapshot's).
    fn load(&self, cpu: &mut Cpu) {
        cpu.gpr = self.gpr;
        cpu.rip = self.rip;
        cpu.flags = self.flags;
        cpu.seg = self.seg;
        cpu.ldtr = self.ldtr;
        cpu.tr = self.tr;
        cpu.gdtr = self.gdtr;
        cpu.idtr = self.idtr;
        [cpu.cr0, cpu.cr2, cpu.cr3, cpu.cr4, cpu.cr8] = self.cr;
        cpu.dr = self.dr;
        cpu.efer = self.efer;
        cpu.msr = self.msr;
        cpu.sse = self.sse;
        cpu.fpu = self.fpu;
        cpu.icount = self.icount;
        cpu.deliveries = self.deliveries;
        cpu.idle = self.idle;
        cpu.halted = self.halted;
        cpu.shutdown = self.shutdown.clone();
        cpu.stats = self.stats.clone();
        cpu.spin_skip = self.spin_skip;
        cpu.cpl = self.cpl;
        cpu.bits = self.bits;
        cpu.long64 = self.long64;
        cpu.seg_base = self.seg_base;
        cpu.ip_mask = self.ip_mask;
        cpu.shadow = self.shadow;
        cpu.intr = self.intr;
        cpu.a20 = self.a20;
        cpu.end_block = false;
        cpu.stop = false;
        cpu.debug.hit = None;
        // Decoded code is rebuilt from memory as it runs.
        cpu.code.clear();
        let cr0 = cpu.cr0;
        let tlb = std::mem::take(&mut cpu.tlb);
        let mut tlb = tlb;
        tlb.restore(&self.tlb, cr0, |lin, phys| cpu.backing_at(lin, phys));
        cpu.tlb = tlb;
    }
}

/// The devices and the machine's own bookkeeping (everything in `PcBus` but the
/// observer and the disks' contents).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct BusState {
    pub pic: Pic,
    pub pit: Pit,
    pub com1: Uart,
    pub com2: Uart,
    pub cmos: Cmos,
    pub kbc: Kbc,
    pub vga: Vga,
    pub power: Power,
    pub firmware_output: Vec<u8>,
    pub rate: u64,
    synced: Nanos,
    stop: bool,
    request: Option<PowerRequest>,
    claims: ClaimDecoder,
    claim_cr3: u64,
    cr3: u64,
    claim_space: Option<u64>,
    jitter: Option<Jitter>,
    stall: u64,
}

/// The whole machine at one instant (see the module docs).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Snapshot {
    pub cpu: CpuState,
    pub memory: MemoryImage,
    pub bus: BusState,
    pub ide: IdeSnapshot,
    pub bios: Bios,
    pub epoch: u64,
}

impl Snapshot {
    /// Steps of the run at the snapshot ([`Cpu::steps`]).
    pub fn steps(&self) -> u64 {
        self.cpu.icount + self.cpu.deliveries
    }

    /// The snapshot as bytes (postcard; memory without its all-zero pages).
    pub fn to_bytes(&self) -> Result<Vec<u8>, SnapshotError> {
        postcard::to_stdvec(self).map_err(|e| SnapshotError::Encode(e.to_string()))
    }

    /// Reads [`Snapshot::to_bytes`]'s bytes. The CPU state is checked for values the CPU
    /// cannot hold (a damaged file would otherwise run into nonsense); device states are
    /// taken as written by this emulator.
    pub fn from_bytes(bytes: &[u8]) -> Result<Snapshot, SnapshotError> {
        let s: Snapshot = postcard::from_bytes(bytes).map_err(|e| SnapshotError::Decode(e.to_string()))?;
        let c = &s.cpu;
        let bad = |what: &str| Err(SnapshotError::Decode(format!("impossible CPU state: {what}")));
        if !matches!(c.bits, 16 | 32 | 64) || (c.long64 && c.bits != 64) {
            return bad("code size");
        }
        if c.cpl > 3 {
            return bad("privilege level");
        }
        if !c.flags.is_valid() {
            return bad("flags");
        }
        if c.tlb.len() > crate::mmu::tlb::TLB_ENTRIES || c.tlb.iter().any(|t| t.1 & 0xfff != 0 || t.2 & 0xfff != 0) {
            return bad("TLB");
        }
        if s.memory.pages.len() < 512 {
            return Err(SnapshotError::Decode("memory image smaller than 2 MiB".into()));
        }
        Ok(s)
    }
}

impl Machine {
    /// Takes a snapshot of the whole machine. Call it between slices (not from inside a
    /// run). Every disk must be copy-on-write.
    pub fn snapshot(&mut self) -> Result<Snapshot, SnapshotError> {
        let ide = self.bus.ide.snapshot().map_err(|(c, d)| SnapshotError::DiskNotCopyOnWrite(c, d))?;
        let dirty = self.cpu.take_dirty_pages();
        let memory = match self.mem_base.take() {
            Some(mut image) => {
                for p in dirty {
                    image.pages[p as usize] = MemoryImage::page_of(self.cpu.mem.page(p));
                }
                image
            }
            None => MemoryImage { pages: (0..self.cpu.mem.size() / PAGE as u64).map(|p| MemoryImage::page_of(self.cpu.mem.page(p))).collect() },
        };
        self.mem_base = Some(memory.clone());
        let b = &self.bus;
        let bus = BusState {
            pic: b.pic.clone(),
            pit: b.pit.clone(),
            com1: b.com1.clone(),
            com2: b.com2.clone(),
            cmos: b.cmos.clone(),
            kbc: b.kbc.clone(),
            vga: b.vga.clone(),
            power: b.power.clone(),
            firmware_output: b.firmware_output.clone(),
            rate: b.rate,
            synced: b.synced,
            stop: b.stop,
            request: b.request,
            claims: b.claims.clone(),
            claim_cr3: b.claim_cr3,
            cr3: b.cr3,
            claim_space: b.claim_space,
            jitter: b.jitter,
            stall: b.stall,
        };
        Ok(Snapshot { cpu: CpuState::of(&self.cpu), memory, bus, ide, bios: self.bios, epoch: self.epoch })
    }

    /// Puts the machine back as it was at `snap` (taken from this machine, or one built
    /// with the same configuration and disks). The observer, if any, stays.
    pub fn restore(&mut self, snap: &Snapshot) -> Result<(), SnapshotError> {
        if snap.memory.size() != self.cpu.mem.size() {
            return Err(SnapshotError::MemorySize { snapshot: snap.memory.size(), machine: self.cpu.mem.size() });
        }
        for c in 0..2 {
            for d in 0..2 {
                let here = self.bus.ide.sectors(c, d).is_some();
                if here != snap.ide.overlays[c][d].is_some() {
                    return Err(SnapshotError::Disks);
                }
                if let Some(disk) = self.bus.ide.disk_mut(c, d) {
                    if disk.overlay().is_none() {
                        return Err(SnapshotError::DiskNotCopyOnWrite(c, d));
                    }
                }
            }
        }
        // Memory: only the pages that differ from the snapshot's. Those are the pages
        // written since the last snapshot or restore, plus those where that one's image
        // and this one's differ; with no such base, every page.
        let dirty = self.cpu.take_dirty_pages();
        let pages: Vec<usize> = match &self.mem_base {
            Some(base) => {
                let mut v: Vec<usize> = dirty.into_iter().map(|p| p as usize).collect();
                v.extend(base.pages.iter().zip(&snap.memory.pages).enumerate().filter(|(_, (a, b))| !Arc::ptr_eq(a, b)).map(|(i, _)| i));
                v.sort_unstable();
                v.dedup();
                v
            }
            None => (0..snap.memory.pages.len()).collect(),
        };
        for p in pages {
            let _ = self.cpu.mem.load((p * PAGE) as u64, &snap.memory.pages[p][..]);
        }
        // Those loads marked the pages written; the memory now is the snapshot's exactly.
        let _ = self.cpu.take_dirty_pages();
        self.mem_base = Some(snap.memory.clone());
        snap.cpu.load(&mut self.cpu);
        let s = &snap.bus;
        let b = &mut self.bus;
        b.pic = s.pic.clone();
        b.pit = s.pit.clone();
        b.com1 = s.com1.clone();
        b.com2 = s.com2.clone();
        b.cmos = s.cmos.clone();
        b.kbc = s.kbc.clone();
        b.vga = s.vga.clone();
        b.power = s.power.clone();
        b.firmware_output = s.firmware_output.clone();
        b.rate = s.rate;
        b.synced = s.synced;
        b.stop = s.stop;
        b.request = s.request;
        b.claims = s.claims.clone();
        b.claim_cr3 = s.claim_cr3;
        b.cr3 = s.cr3;
        b.claim_space = s.claim_space;
        b.jitter = s.jitter;
        b.stall = s.stall;
        b.ide.restore(&snap.ide);
        self.bios = snap.bios;
        self.epoch = snap.epoch;
        self.take_debug_stop();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::devices::ide::{Overlay, SectorMap, OVERLAY_CHUNK};

    #[test]
    fn disk_changes_and_memory_round_trip_through_bytes() {
        let mut o = Overlay::new();
        for (i, lba) in [0, 1, OVERLAY_CHUNK + 3, 70_000].into_iter().enumerate() {
            o.insert(lba, [i as u8 + 1; 512]);
        }
        let bytes = postcard::to_stdvec(&SectorMap(o.clone())).unwrap();
        let back: SectorMap = postcard::from_bytes(&bytes).unwrap();
        assert_eq!(back.0, o);
        assert_eq!(back.0.get(70_000), Some(&[4; 512]));
        assert_eq!(back.0.len(), 4);

        let mut page = [0u8; PAGE];
        page[17] = 9;
        let image = MemoryImage { pages: vec![MemoryImage::zero_page(), Arc::new(page), MemoryImage::zero_page()] };
        let bytes = postcard::to_stdvec(&image).unwrap();
        assert!(bytes.len() < 2 * PAGE, "zero pages are left out: {} bytes", bytes.len());
        let back: MemoryImage = postcard::from_bytes(&bytes).unwrap();
        assert_eq!(back, image);
        assert!(postcard::from_bytes::<MemoryImage>(&bytes[..bytes.len() - 1]).is_err());
    }

    #[test]
    fn impossible_cpu_states_are_refused() {
        use crate::devices::ide::{Disk, DiskTiming};
        use crate::machine::{Config, Machine, DEFAULT_EPOCH, DEFAULT_RATE};
        let mut boot = vec![0xf4u8; 510]; // hlt
        boot.extend_from_slice(&[0x55, 0xaa]);
        let mut disk = Disk::from_bytes(boot).unwrap();
        disk.copy_on_write();
        let mut m = Machine::new(Config { memory: 4 << 20, rate: DEFAULT_RATE, epoch: DEFAULT_EPOCH, disks: [[Some(disk), None], [None, None]], disk_timing: DiskTiming::INSTANT }).unwrap();
        let snap = m.snapshot().unwrap();
        assert!(Snapshot::from_bytes(&snap.to_bytes().unwrap()).is_ok());
        let mut bad = snap.clone();
        bad.cpu.bits = 7;
        let e = Snapshot::from_bytes(&bad.to_bytes().unwrap()).unwrap_err().to_string();
        assert!(e.contains("impossible CPU state: code size"), "{e}");
        let mut bad = snap.clone();
        bad.cpu.cpl = 9;
        assert!(Snapshot::from_bytes(&bad.to_bytes().unwrap()).is_err());
        assert!(Snapshot::from_bytes(b"not a snapshot").is_err());
        // Restoring into a machine of another size is refused too.
        let mut boot = vec![0xf4u8; 510];
        boot.extend_from_slice(&[0x55, 0xaa]);
        let mut other = Machine::new(Config { memory: 8 << 20, rate: DEFAULT_RATE, epoch: DEFAULT_EPOCH, disks: [[Some(Disk::from_bytes(boot).unwrap()), None], [None, None]], disk_timing: DiskTiming::INSTANT }).unwrap();
        assert!(matches!(other.restore(&snap), Err(SnapshotError::MemorySize { .. })));
    }
}
