//! The observer that watches one run and keeps the facts the checks need.
//!
//! It follows each address space (by CR3): a process *starts* when it enters user mode
//! at the entry point of one of the test's programs; each page fault on a user address is
//! *pending* until that address space next enters user mode, when the page tables show
//! what the kernel did about it (a page loaded, a stack page grown, nothing). Disk
//! commands are tied to the address space and the system call or fault that issued them.
//! Findings are kept per check; [`evaluate`] turns them into verdicts.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use emulator::bus::CpuEvent;
use emulator::memory::PhysMemory;
use emulator::mmu::inspect;
use emulator::observe::{hash64, Claim, DiskCommand, DiskRole, Event, Observer, Recorder};

use super::elf::{self, Executable, PAGE, SECTOR};
use super::{CheckResult, CheckSpec, CheckVerdict};
use crate::catalogue::{Project, Test};

/// Every address at or above this is the kernel's (Pintos-KAIST's KERN_BASE).
pub const KERN_BASE: u64 = 0x80_0400_0000;
/// The top of the user stack.
pub const USER_STACK: u64 = 0x4748_0000;
/// How far the stack may grow below USER_STACK.
pub const STACK_LIMIT: u64 = 1 << 20;

const SYS_HALT: u64 = 0;
const SYS_EXIT: u64 = 1;
const SYS_FORK: u64 = 2;
const SYS_EXEC: u64 = 3;
const SYS_MMAP: u64 = 14;
const SYS_MUNMAP: u64 = 15;

/// Findings of one check: the first failure's reason, how many failures, and how many
/// things were checked.
#[derive(Clone, Debug, Default)]
pub struct Finding {
    pub first: Option<String>,
    pub failures: u64,
    pub checked: u64,
}

impl Finding {
    fn fail(&mut self, reason: impl FnOnce() -> String) {
        if self.first.is_none() {
            self.first = Some(reason());
        }
        self.failures += 1;
    }
}

/// What the run showed.
#[derive(Debug, Default)]
pub struct Facts {
    pub page_faults: u64,
    /// Findings by check name.
    pub findings: BTreeMap<&'static str, Finding>,
    /// Claims the kernel made, by kind name.
    pub claims: BTreeMap<&'static str, u64>,
    /// Sectors (read, written) on the swap disk.
    pub swap_sectors: (u64, u64),
    /// The kernel's `frames` claims, in order: (user frames in use, free swap slots).
    pub frames: Vec<(u64, u64)>,
    /// User pages still mapped in the address space loaded at power-off.
    pub mapped_at_power_off: Option<usize>,
    /// Processes that started at a program's entry point, and forked or unknown ones.
    pub processes: u64,
    /// Lazily loaded executable pages whose content was compared with the ELF.
    pub pages_compared: u64,
    /// The run powered off through the `halt` system call.
    pub halted: bool,
    /// Stack pages that appeared for faults.
    pub stack_growths: u64,
}

/// A fault waiting for its address space to return to user mode.
#[derive(Clone, Copy, Debug)]
struct Fault {
    address: u64,
    cpl: u8,
    rsp: u64,
    /// The faulting instruction: a process the kernel lets go on resumes there.
    rip: u64,
}

/// What the watcher knows about one address space.
#[derive(Debug, Default)]
struct Space {
    /// Indexes of the executables this process may be running (empty: any).
    candidates: Vec<usize>,
    /// Whether the process was seen starting at an entry point (else a fork child or a
    /// process already running: its writable pages may hold the parent's data).
    started: bool,
    pending: Vec<Fault>,
    /// Executable pages already loaded once in this process.
    loaded: BTreeSet<u64>,
    /// Stack pages grown.
    stack: BTreeSet<u64>,
    /// mmap'd ranges (as asked; a failed mmap maps nothing, so faults there kill).
    maps: Vec<(u64, u64)>,
    /// The system call in progress (until the next return to user mode), with the user's
    /// rsp when it was made.
    syscall: Option<u64>,
    syscall_rsp: u64,
    /// The last system call made (HALT powers off with the process alive).
    last_syscall: Option<u64>,
    /// Pages claimed lazily loaded since the last return to user mode.
    claimed: BTreeSet<u64>,
    /// Whether the kernel ever made lazy-load claims in this space.
    any_claims: bool,
    /// The user address an `int 0x42` asked about, until the answer comes back.
    phys_query: Option<u64>,
    /// Pages claimed swapped out and not yet swapped back in, with their slots.
    swapped: BTreeMap<u64, u64>,
}

/// The context a disk command was issued in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Issuer {
    Kernel,
    Syscall(u64),
    Fault,
}

/// Watches one run.
pub struct Watcher {
    exes: Vec<Executable>,
    sectors: HashMap<u64, Vec<(usize, u64)>>,
    spaces: HashMap<u64, Space>,
    cr3: u64,
    facts: Facts,
    /// (executable, page) pairs some process faulted on: their file sectors may be read.
    faulted: BTreeSet<(usize, u64)>,
    /// The issuing context of the command in flight on each IDE channel.
    issued: [Issuer; 2],
    /// Last known content hash of each file-system sector.
    fs_content: HashMap<u64, u64>,
    /// File-system sectors read while a fault was being handled, outside executables:
    /// the sectors of mapped files.
    mapped_sectors: BTreeSet<u64>,
    /// File-system sectors read or written outside faults and write-back (metadata such
    /// as the free map and inodes, and file data used through system calls).
    other_sectors: BTreeSet<u64>,
    /// Last content hash written to each swap-disk sector, and the claim sequence at
    /// which it was written.
    swap: HashMap<u64, (u64, u64)>,
    /// Claims seen so far (a sequence number for the swap slots).
    claim_seq: u64,
    /// Per swap slot: the page swapped out to it and the claim sequence of that claim.
    slots: HashMap<u64, (u64, u64)>,
    timeline: Option<Recorder>,
}

impl Watcher {
    /// `files`: (guest name, bytes) of every file the test puts; the ELF executables
    /// among them are the programs its processes run.
    /// `timeline`: also keep every event (for `--trace`).
    pub fn new(files: Vec<(String, Vec<u8>)>, timeline: bool) -> Watcher {
        let mut exes = Vec::new();
        let mut data = Vec::new();
        for (name, bytes) in files {
            if bytes.starts_with(b"\x7fELF") {
                if let Some(e) = Executable::parse(&name, bytes) {
                    exes.push(e);
                }
            } else {
                data.push(bytes);
            }
        }
        let sectors = elf::sector_index(&exes, &data);
        Watcher {
            exes,
            sectors,
            spaces: HashMap::new(),
            cr3: 0,
            facts: Facts::default(),
            faulted: BTreeSet::new(),
            issued: [Issuer::Kernel; 2],
            fs_content: HashMap::new(),
            mapped_sectors: BTreeSet::new(),
            other_sectors: BTreeSet::new(),
            swap: HashMap::new(),
            claim_seq: 0,
            slots: HashMap::new(),
            timeline: timeline.then(Recorder::default),
        }
    }

    /// The facts, and the timeline when one was asked for.
    pub fn finish(self) -> (Facts, Option<Recorder>) {
        (self.facts, self.timeline)
    }

    fn finding(&mut self, check: &'static str) -> &mut Finding {
        self.facts.findings.entry(check).or_default()
    }

    /// The executables a process in `space` may be running.
    fn candidates(&self, space: &Space) -> Vec<usize> {
        if space.candidates.is_empty() {
            (0..self.exes.len()).collect()
        } else {
            space.candidates.clone()
        }
    }

    fn page_fault(&mut self, address: u64, error: u32, cpl: u8, cr3: u64, rsp: u64, rip: u64) {
        self.facts.page_faults += 1;
        // Only faults on absent user pages load anything; protection faults are
        // copy-on-write or bad accesses.
        if address >= KERN_BASE || error & 1 != 0 {
            return;
        }
        let page = address & !(PAGE - 1);
        let space = self.spaces.entry(cr3).or_default();
        space.pending.push(Fault { address, cpl, rsp, rip });
        let space = &self.spaces[&cr3];
        for e in self.candidates(space) {
            if self.exes[e].pages.contains_key(&page) {
                self.faulted.insert((e, page));
            }
        }
    }

    /// The address space `cr3` returns to user mode at `rip`: resolve its pending faults,
    /// and start a process at an entry point.
    fn user_entry(&mut self, cr3: u64, rip: u64, rax: u64, mem: &PhysMemory) {
        let mut space = self.spaces.remove(&cr3).unwrap_or_default();
        // A process that exited, or whose user fault is not resumed where it happened,
        // is gone: this is a new process in a recycled page table (a fork child).
        if space.last_syscall == Some(SYS_EXIT) || space.pending.iter().any(|f| f.cpl == 3 && f.rip != rip) {
            space = Space { any_claims: space.any_claims, ..Space::default() };
        }
        space.syscall = None;
        if let Some(va) = space.phys_query.take() {
            // The kernel's answer to `int 0x42` against our own walk of its tables.
            let walked = inspect::lookup(mem, cr3, va).map_or(0, |i| i.frame | (va & (PAGE - 1)));
            let f = self.finding("phys-addr");
            f.checked += 1;
            // Pintos-KAIST kernels may answer with the frame's kernel alias (KERN_BASE +
            // the physical address, where they map all of RAM): the same frame.
            let same = rax == walked || (walked != 0 && rax == KERN_BASE + walked);
            if !same {
                let said = if rax == 0 { "not present".to_string() } else { format!("{rax:#x}") };
                let is = if walked == 0 { "not present".to_string() } else { format!("{walked:#x}") };
                f.fail(|| format!("phys-addr: int 0x42 said user address {va:#x} is at {said}, but the page tables say {is}"));
            }
        }
        for fault in std::mem::take(&mut space.pending) {
            self.resolve(cr3, &mut space, fault, mem);
        }
        space.claimed.clear();
        // Entering user mode at a program's entry point starts a process (again, if an
        // interrupt or the entry page's own fault came before its first instruction).
        let starting: Vec<usize> = (0..self.exes.len()).filter(|&e| self.exes[e].entry == rip).collect();
        if !starting.is_empty() {
            let entry_page = rip & !(PAGE - 1);
            let reentry = space.started && space.candidates == starting && space.loaded.iter().all(|&p| p == entry_page) && space.stack.is_empty();
            if !reentry {
                self.facts.processes += 1;
                space = Space { candidates: starting.clone(), started: true, any_claims: space.any_claims, ..Space::default() };
                self.first_instruction(cr3, &starting, rip, mem);
            }
        }
        self.spaces.insert(cr3, space);
    }

    /// Lazy loading: at the first user instruction no page of the executable is present,
    /// except the one holding the entry point.
    fn first_instruction(&mut self, cr3: u64, candidates: &[usize], rip: u64, mem: &PhysMemory) {
        let entry_page = rip & !(PAGE - 1);
        for &e in candidates {
            let present: Vec<u64> = self.exes[e].pages.keys().copied().filter(|&va| va != entry_page && inspect::lookup(mem, cr3, va).is_some()).collect();
            let name = self.exes[e].name.clone();
            let total = self.exes[e].pages.len();
            let f = self.finding("lazy-load");
            f.checked += 1;
            if let Some(&first) = present.first() {
                let n = present.len();
                f.fail(|| format!("lazy-load: page {first:#x} of {name} present before its first access ({n} of its {total} pages were present at its first instruction)"));
            }
        }
    }

    fn resolve(&mut self, cr3: u64, space: &mut Space, fault: Fault, mem: &PhysMemory) {
        let page = fault.address & !(PAGE - 1);
        if inspect::lookup(mem, cr3, page).is_none() {
            return; // nothing mapped: the process is being killed (or faults again)
        }
        if let Some(slot) = space.swapped.remove(&page) {
            // Mapped again, but not from its slot: whatever it holds now, its data is lost.
            self.finding("swap-content").fail(|| format!("swap-content: page {page:#x} was swapped out to slot {slot} but was mapped again without being swapped in (its data is lost)"));
        }
        let candidates = self.candidates(space);
        let models: Vec<usize> = candidates.iter().copied().filter(|&e| self.exes[e].pages.contains_key(&page)).collect();
        if !models.is_empty() {
            let first_load = space.loaded.insert(page);
            if space.any_claims && !space.claimed.contains(&page) && first_load {
                let name = self.exes[models[0]].name.clone();
                self.finding("lazy-claims").fail(|| format!("lazy-claims: page {page:#x} of {name} was loaded on a fault but no lazy-load claim said so"));
            }
            // The bytes are the ELF's unless the process (or the kernel, for it) may have
            // written them: compare text and read-only data always, writable pages only
            // on their first load in a process seen starting, for a fault from user mode.
            let writable = models.iter().any(|&e| self.exes[e].pages[&page].writable);
            if writable && !(first_load && space.started && fault.cpl == 3) {
                return;
            }
            let Some(bytes) = inspect::read_page(mem, cr3, page) else { return };
            self.facts.pages_compared += 1;
            let matching: Vec<usize> = models.iter().copied().filter(|&e| self.exes[e].pages[&page].mismatch(&self.exes[e].bytes, &bytes).is_none()).collect();
            self.finding("file-offset").checked += 1;
            if matching.is_empty() {
                let e = &self.exes[models[0]];
                let model = &e.pages[&page];
                let want = model.file_range().map(|(lo, _)| lo);
                let at = model.mismatch(&e.bytes, &bytes).unwrap_or(0);
                let got = e.actual_offset(page, &bytes);
                let name = e.name.clone();
                let reason = match (want, got) {
                    (Some(w), Some(g)) => format!("file-offset: page {page:#x} of {name} holds the file's bytes at offset {g:#x}, but its segment puts offset {w:#x} there"),
                    (Some(w), None) => format!("file-offset: page {page:#x} of {name} differs from the ELF's bytes at file offset {w:#x} (first difference at byte {at:#x} of the page)"),
                    (None, _) => format!("file-offset: page {page:#x} of {name} should be all zeros (bss) but byte {at:#x} is not"),
                };
                self.finding("file-offset").fail(|| reason);
            } else if space.started {
                space.candidates = matching;
            }
            return;
        }
        // Not an executable page: a stack page, a mapped page, or something else.
        if space.maps.iter().any(|&(lo, hi)| page >= lo & !(PAGE - 1) && page < hi) {
            return;
        }
        if space.stack.insert(page) {
            self.facts.stack_growths += 1;
            let f = self.finding("stack-growth");
            f.checked += 1;
            let addr = fault.address;
            if addr < USER_STACK - STACK_LIMIT || addr >= USER_STACK {
                f.fail(|| format!("stack-growth: page {page:#x} was mapped for a fault at {addr:#x}, outside the stack's 1 MiB below USER_STACK and any mapping"));
            } else if fault.cpl == 3 && addr.wrapping_add(8) < fault.rsp {
                let below = fault.rsp - addr;
                let rsp = fault.rsp;
                f.fail(|| format!("stack-growth: page {page:#x} was grown for a fault at {addr:#x}, {below} bytes below rsp {rsp:#x} (at most 8 are allowed)"));
            }
        }
    }

    fn syscall(&mut self, number: u64, args: [u64; 6], rsp: u64) {
        let space = self.spaces.entry(self.cr3).or_default();
        space.syscall = Some(number);
        space.last_syscall = Some(number);
        space.syscall_rsp = rsp;
        if number == SYS_MMAP && args[1] > 0 {
            space.maps.push((args[0], args[0].saturating_add(args[1])));
        }
    }

    /// A command register write: remember who issued the command on that channel.
    fn command_issued(&mut self, channel: usize) {
        let issuer = match self.spaces.get(&self.cr3) {
            Some(s) if !s.pending.is_empty() => Issuer::Fault,
            Some(Space { syscall: Some(n), .. }) => Issuer::Syscall(*n),
            _ => Issuer::Kernel,
        };
        self.issued[channel] = issuer;
    }

    fn disk(&mut self, cmd: &DiskCommand) {
        let issuer = self.issued[if matches!(cmd.role, DiskRole::Os | DiskRole::Fs) { 0 } else { 1 }];
        match cmd.role {
            DiskRole::Fs => self.fs_command(cmd, issuer),
            DiskRole::Swap => {
                for (i, &h) in cmd.hashes.iter().enumerate() {
                    let lba = cmd.lba + i as u64;
                    if cmd.write {
                        self.facts.swap_sectors.1 += 1;
                        self.swap.insert(lba, (h, self.claim_seq));
                    } else {
                        self.facts.swap_sectors.0 += 1;
                        let f = self.facts.findings.entry("swap-content").or_default();
                        f.checked += 1;
                        if !self.swap.contains_key(&lba) {
                            f.fail(|| format!("swap-content: swap sector {lba} (slot {}) was read back but nothing was written to it in this run", lba / 8));
                        }
                    }
                }
            }
            _ => {}
        }
    }

    fn fs_command(&mut self, cmd: &DiskCommand, issuer: Issuer) {
        for (i, &h) in cmd.hashes.iter().enumerate() {
            let lba = cmd.lba + i as u64;
            if !cmd.write {
                if issuer == Issuer::Fault && !self.sectors.contains_key(&h) {
                    self.mapped_sectors.insert(lba);
                }
                if let Some(parts) = self.sectors.get(&h) {
                    self.exe_sector_read(lba, parts.clone(), issuer);
                }
            } else if matches!(issuer, Issuer::Fault | Issuer::Syscall(SYS_MUNMAP) | Issuer::Syscall(SYS_EXIT)) {
                // Write-back of mapped pages.
                let known = self.fs_content.get(&lba).copied();
                let mapped = self.mapped_sectors.contains(&lba);
                let f = self.facts.findings.entry("mmap-writeback").or_default();
                f.checked += 1;
                if mapped && known == Some(h) {
                    f.fail(|| format!("mmap-writeback: sector {lba} of the file-system disk was written back with the bytes it already held (a clean page written back?)"));
                } else if !mapped && !self.other_sectors.contains(&lba) && issuer != Issuer::Syscall(SYS_EXIT) {
                    let why = if issuer == Issuer::Fault { "evicting a page" } else { "munmap" };
                    f.fail(|| format!("mmap-writeback: {why} wrote sector {lba} of the file-system disk, which no mapped page was read from"));
                }
            }
            if !matches!(issuer, Issuer::Fault | Issuer::Syscall(SYS_MUNMAP) | Issuer::Syscall(SYS_EXIT)) {
                self.other_sectors.insert(lba);
            }
            self.fs_content.insert(lba, h);
        }
    }

    /// A file-system sector holding part of an executable was read: lazily, only for a
    /// page that faulted (or the headers, or a `read` system call).
    fn exe_sector_read(&mut self, lba: u64, parts: Vec<(usize, u64)>, issuer: Issuer) {
        // A system call that touches user memory may load pages without a fault; only
        // starting a process (the kernel, exec, fork) must not read its segments.
        if matches!(issuer, Issuer::Syscall(n) if n != SYS_EXEC && n != SYS_FORK) {
            return;
        }
        let justified = parts.iter().any(|&(e, off)| {
            let exe = &self.exes[e];
            off < exe.header_end
                || exe.pages.iter().any(|(&va, m)| {
                    self.faulted.contains(&(e, va)) && m.pieces.iter().any(|p| p.file.is_some_and(|f| f < off + SECTOR && off < f + (p.end - p.start)))
                })
                // A sector no loadable byte comes from (section headers, symbols) is
                // never needed by a page.
                || !exe.pages.values().any(|m| m.pieces.iter().any(|p| p.file.is_some_and(|f| f < off + SECTOR && off < f + (p.end - p.start))))
        });
        let f = self.finding("lazy-load");
        f.checked += 1;
        if !justified {
            let (e, off) = parts[0];
            let name = self.exes[e].name.clone();
            let va = self.exes[e].pages.iter().find(|(_, m)| m.pieces.iter().any(|p| p.file.is_some_and(|f| f < off + SECTOR && off < f + (p.end - p.start)))).map(|(va, _)| *va).unwrap_or(0);
            self.finding("lazy-load").fail(|| format!("lazy-load: sector {lba} ({name} bytes {off:#x}..{:#x}, page {va:#x}) was read from disk before any fault on a page that needs it", off + SECTOR));
        }
    }

    fn claim(&mut self, claim: &Claim, cr3: u64, mem: Option<&PhysMemory>) {
        *self.facts.claims.entry(claim.name()).or_default() += 1;
        self.claim_seq += 1;
        match *claim {
            Claim::LazyLoad { va, offset, bytes } => {
                let page = va & !(PAGE - 1);
                let space = self.spaces.entry(cr3).or_default();
                space.any_claims = true;
                space.claimed.insert(page);
                // A page is loaded for a fault, or for a system call that touches it.
                let faulted = space.pending.iter().any(|f| f.address & !(PAGE - 1) == page) || space.syscall.is_some();
                let context = describe(space);
                let candidates = self.candidates(&self.spaces[&cr3]);
                let present = mem.and_then(|m| inspect::lookup(m, cr3, page)).is_some();
                let f = self.finding("lazy-claims");
                f.checked += 1;
                if !faulted {
                    f.fail(|| format!("lazy-claims: page {page:#x} was claimed lazily loaded ({context}), but no fault on it was pending and no system call was running"));
                    return;
                }
                if !present {
                    f.fail(|| format!("lazy-claims: page {page:#x} was claimed loaded but the page tables do not map it"));
                    return;
                }
                let models: Vec<(String, Option<(u64, u64)>, u64)> = candidates.iter().filter_map(|&e| self.exes[e].pages.get(&page).map(|m| (self.exes[e].name.clone(), m.file_range(), m.pieces.iter().find(|p| p.file.is_some()).map_or(0, |p| p.start)))).collect();
                if models.is_empty() {
                    return; // an anonymous, stack or mapped page
                }
                let agrees = models.iter().any(|(_, range, start)| match (range, offset) {
                    (Some((lo, hi)), Some(o)) => (o == *lo || o + start == *lo) && o + bytes == *hi,
                    (None, None) => true,
                    // A page the ELF zero-fills was "read" from the file: at a wrong
                    // offset (past the end, or the bytes would show).
                    (None, Some(_)) => false,
                    (Some(_), None) => false,
                });
                if !agrees {
                    let (name, range, _) = models[0].clone();
                    let said = offset.map_or("zeros".to_string(), |o| format!("file offset {o:#x} ({bytes} bytes)"));
                    let elf = range.map_or("zeros".to_string(), |(lo, hi)| format!("file offset {lo:#x} ({} bytes)", hi - lo));
                    self.finding("lazy-claims").fail(|| format!("lazy-claims: the kernel says page {page:#x} of {name} came from {said}; the ELF puts {elf} there"));
                }
            }
            Claim::SwapOut { va, slot } => {
                let f = self.facts.findings.entry("swap-content").or_default();
                f.checked += 1;
                // Its sectors must have been written since the slot was last claimed.
                let since = self.slots.get(&slot).map_or(0, |s| s.1);
                let written = (0..8).all(|i| self.swap.get(&(slot * 8 + i)).is_some_and(|&(_, at)| at >= since));
                if !written {
                    f.fail(|| format!("swap-content: page {va:#x} was claimed swapped out to slot {slot}, but its sectors were not written to the swap disk"));
                }
                self.slots.insert(slot, (va & !(PAGE - 1), self.claim_seq));
                let page = va & !(PAGE - 1);
                let space = self.spaces.entry(cr3).or_default();
                // A slot holds one page: giving it another page of the same process that
                // is still out loses the first (across processes a slot may be shared
                // copy-on-write, and an exited process's slots are free again).
                let held = space.swapped.iter().find(|&(&p, &s)| s == slot && p != page).map(|(&p, _)| p);
                space.swapped.insert(page, slot);
                if let Some(other) = held {
                    space.swapped.remove(&other);
                    self.finding("swap-content").fail(|| format!("swap-content: slot {slot} was given page {page:#x} while it still held page {other:#x} of the same process (a page would be lost)"));
                }
            }
            Claim::SwapIn { slot, va } => {
                let page = va & !(PAGE - 1);
                self.spaces.entry(cr3).or_default().swapped.remove(&page);
                let f = self.facts.findings.entry("swap-content").or_default();
                f.checked += 1;
                match self.slots.get(&slot) {
                    None => f.fail(|| format!("swap-content: page {page:#x} was claimed swapped in from slot {slot}, but nothing was swapped out to that slot")),
                    Some(&(out, _)) if out != page => f.fail(|| format!("swap-content: slot {slot} held page {out:#x}, but was swapped in at {page:#x}")),
                    Some(_) => {
                        let Some(bytes) = mem.and_then(|m| inspect::read_page(m, cr3, page)) else {
                            f.fail(|| format!("swap-content: page {page:#x} was claimed swapped in, but the page tables do not map it"));
                            return;
                        };
                        let same = bytes.chunks(SECTOR as usize).enumerate().all(|(i, s)| self.swap.get(&(slot * 8 + i as u64)).is_some_and(|&(h, _)| h == hash64(s)));
                        if !same {
                            f.fail(|| format!("swap-content: page {page:#x} swapped in from slot {slot} does not hold the bytes that were swapped out to it"));
                        }
                    }
                }
            }
            Claim::StackGrowth { va } => {
                let page = va & !(PAGE - 1);
                let space = self.spaces.entry(cr3).or_default();
                let faulted = space.pending.iter().any(|f| f.address & !(PAGE - 1) == page);
                // A system call may grow the stack for a buffer it writes, within the
                // window below the rsp the call was made with.
                let (in_call, rsp) = (space.syscall.is_some(), space.syscall_rsp);
                if in_call {
                    space.stack.insert(page);
                    self.facts.stack_growths += 1;
                }
                let f = self.finding("stack-growth");
                f.checked += 1;
                if !faulted && !in_call {
                    f.fail(|| format!("stack-growth: the kernel says it grew the stack at {page:#x}, but no fault there was pending and no system call was running"));
                } else if in_call && (page + PAGE < rsp.saturating_sub(8) || page < USER_STACK - STACK_LIMIT) {
                    f.fail(|| format!("stack-growth: a system call grew the stack at {page:#x}, below the window under its rsp {rsp:#x}"));
                }
            }
            Claim::Frames { in_use, swap_free } => self.facts.frames.push((in_use, swap_free)),
            Claim::CowCopy { .. } | Claim::Evict { .. } | Claim::AddressSpace { .. } => {}
        }
    }

    fn power_off(&mut self, mem: &PhysMemory) {
        // `halt` powers off with its process still mapped: nothing to count then.
        if self.spaces.get(&self.cr3).is_some_and(|s| s.syscall == Some(SYS_HALT)) {
            self.facts.halted = true;
            return;
        }
        self.facts.mapped_at_power_off = Some(inspect::user_pages(mem, self.cr3, KERN_BASE).len());
    }
}

impl Observer for Watcher {
    fn event(&mut self, icount: u64, event: Event<'_>, mem: Option<&PhysMemory>) {
        if let Some(t) = &mut self.timeline {
            t.event(icount, event, mem);
        }
        match event {
            Event::Cpu(e) => match *e {
                CpuEvent::Cr3Load { value } => self.cr3 = value,
                CpuEvent::Exception { vector: 14, error_code, address, cpl, cr3, rsp, rip, .. } => self.page_fault(address, error_code.unwrap_or(0), cpl, cr3, rsp, rip),
                CpuEvent::UserEntry { rip, rax, .. } => {
                    if let Some(m) = mem {
                        self.user_entry(self.cr3, rip, rax, m);
                    }
                }
                CpuEvent::SoftwareInterrupt { vector: 0x42, rax, .. } => self.spaces.entry(self.cr3).or_default().phys_query = Some(rax),
                CpuEvent::Syscall { number, args, rsp, .. } => self.syscall(number, args, rsp),
                // The command registers of the two channels.
                CpuEvent::PortOut { port: 0x1f7, .. } => self.command_issued(0),
                CpuEvent::PortOut { port: 0x177, .. } => self.command_issued(1),
                _ => {}
            },
            Event::Disk(cmd) => self.disk(cmd),
            Event::Claim { claim, cr3 } => self.claim(claim, cr3, mem),
            Event::PowerOff => {
                if let Some(m) = mem {
                    self.power_off(m);
                }
            }
        }
    }
}

/// Where a space's kernel work is, for messages.
fn describe(space: &Space) -> String {
    match (space.syscall, space.pending.is_empty()) {
        (Some(n), _) => format!("in system call {n}"),
        (None, false) => "while handling a fault".into(),
        (None, true) => "outside any system call or fault".into(),
    }
}

/// The verdict of each of `checks` for `test`, from the run's facts.
pub fn evaluate(test: &Test, _project: Project, facts: &Facts, checks: &[&CheckSpec]) -> Vec<CheckResult> {
    let claims_made = facts.claims.values().sum::<u64>() > 0;
    checks
        .iter()
        .map(|c| {
            let (verdict, reason) = verdict_of(c.name, test, facts, claims_made);
            CheckResult { name: c.name, verdict, reason }
        })
        .collect()
}

fn verdict_of(name: &'static str, test: &Test, facts: &Facts, claims_made: bool) -> (CheckVerdict, String) {
    use CheckVerdict::*;
    let f = facts.findings.get(name).cloned().unwrap_or_default();
    if let Some(first) = f.first {
        let more = if f.failures > 1 { format!(" (and {} more)", f.failures - 1) } else { String::new() };
        return (Fail, format!("{first}{more}"));
    }
    match name {
        "lazy-load" => (Pass, format!("{} processes started with no executable page present; {} executable sector reads each followed a fault", facts.processes, f.checked.saturating_sub(facts.processes))),
        "file-offset" if f.checked == 0 => (Pass, "no executable page was loaded on a fault that could be compared".into()),
        "file-offset" => (Pass, format!("{} lazily loaded pages held the ELF's bytes for their offsets", f.checked)),
        "lazy-claims" if !claims_made => (Skipped, "skipped: the kernel made no claims on the claims port (docs/claims.md)".into()),
        "lazy-claims" => (Pass, format!("{} lazy-load claims agreed with the faults and the page tables", facts.claims.get("lazy-load").copied().unwrap_or(0))),
        "phys-addr" if f.checked == 0 => (Pass, "the test made no int 0x42 queries".into()),
        "phys-addr" => (Pass, format!("{} int 0x42 answers matched the page tables", f.checked)),
        "stack-growth" => (Pass, format!("{} stack pages grown, all inside the window", facts.stack_growths)),
        "swap-used" => {
            let (r, w) = facts.swap_sectors;
            if w == 0 || r == 0 {
                (Fail, format!("swap-used: {} never swaps: {w} sectors written to the swap disk and {r} read back", test.name()))
            } else {
                (Pass, format!("{w} swap sectors written, {r} read back"))
            }
        }
        "swap-content" => (Pass, format!("{} swap reads and claims checked", f.checked)),
        "mmap-writeback" => (Pass, format!("{} written-back sectors checked", f.checked)),
        "frames" => match (facts.mapped_at_power_off, facts.frames.first(), facts.frames.last()) {
            (None, _, _) if facts.halted => (Skipped, "skipped: the test powers off with halt, its process still running".into()),
            (None, _, _) => (Skipped, "skipped: the run did not power off".into()),
            (Some(n), _, _) if n > 0 => (Fail, format!("frames: {n} user pages were still mapped at power-off")),
            (Some(_), None, _) => (Skipped, "skipped: no user page mapped at power-off, but the kernel made no frames claims to compare counts (docs/claims.md)".into()),
            (Some(_), Some(&(u0, s0)), Some(&(u1, s1))) if facts.frames.len() >= 2 => {
                if u1 != u0 {
                    (Fail, format!("frames: {u1} user frames in use at power-off, {u0} before the first process ran ({} not returned)", u1 as i64 - u0 as i64))
                } else if s1 != s0 {
                    (Fail, format!("frames: {s1} swap slots free at power-off, {s0} before the first process ran"))
                } else {
                    (Pass, format!("{u0} user frames in use and {s0} swap slots free before and after"))
                }
            }
            _ => (Skipped, "skipped: the kernel made only one frames claim".into()),
        },
        _ => (Pass, String::new()),
    }
}
