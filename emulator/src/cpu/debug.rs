//! Debugger hooks: breakpoints and watchpoints by linear address, as x86 debug registers
//! see them, checked by the CPU itself so a debugged run keeps its speed.
//!
//! * **Breakpoints** are checked once per decoded block, only while some are set: a block
//!   holding one is cut short before it, and a block starting at one makes the run return
//!   [`Exit::Breakpoint`](super::Exit::Breakpoint) before the instruction executes.
//! * **Watchpoints** close the TLB's fast paths for the pages they cover (reads too, for
//!   read and access watches), so every access there takes the slow path, which compares
//!   it with the watches. A hit lets the instruction finish, records
//!   [`Debug::hit`] and makes the run return [`Exit::Stopped`](super::Exit::Stopped), as a
//!   data breakpoint traps after the access on x86.
//!
//! Writes the CPU does not make through a linear address (page-walk A/D bits, firmware,
//! the debugger's own writes) do not trigger watches, as on hardware.

use super::Cpu;
use crate::mmu::tlb::Backing;

/// What a watchpoint fires on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum WatchKind {
    Write,
    Read,
    /// Reads and writes.
    Access,
}

/// A watched range of linear addresses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Watch {
    pub addr: u64,
    pub len: u64,
    pub kind: WatchKind,
}

impl Watch {
    fn overlaps(&self, lin: u64, len: u64) -> bool {
        lin < self.addr.wrapping_add(self.len) && self.addr < lin.wrapping_add(len)
    }

    fn covers_page(&self, page: u64) -> bool {
        self.overlaps(page, 4096)
    }
}

/// Which watch an access hit, and how.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WatchHit {
    /// The watch that fired.
    pub watch: Watch,
    /// The access: a write, or a read.
    pub write: bool,
    /// The linear address accessed.
    pub address: u64,
}

/// The debugger's view into the CPU (empty and inert unless a debugger sets something).
#[derive(Clone, Debug, Default)]
pub struct Debug {
    breakpoints: Vec<u64>,
    watches: Vec<Watch>,
    /// The first watch hit since the debugger last took it.
    pub hit: Option<WatchHit>,
    /// A breakpoint at this linear address does not stop the next instruction (the one a
    /// resumed run starts with); cleared by the first block.
    pub(crate) resume_at: Option<u64>,
    /// Range stepping (gdb's `next` over a line): stop before the first instruction
    /// outside `[start, end)`, as at a breakpoint.
    range: Option<(u64, u64)>,
}

impl Debug {
    pub fn breakpoints(&self) -> &[u64] {
        &self.breakpoints
    }

    pub fn watches(&self) -> &[Watch] {
        &self.watches
    }

    /// Whether the run loop must look at each block's instruction addresses.
    #[inline(always)]
    pub(crate) fn checks_code(&self) -> bool {
        !self.breakpoints.is_empty() || self.range.is_some()
    }

    /// Gates a TLB fill of linear page `page`: a watched page gets no fast path for the
    /// accesses its watches see.
    #[inline]
    pub(crate) fn gate(&self, page: u64, backing: Backing) -> Backing {
        let mut b = backing;
        if let Backing::Ram { slow_writes, slow_reads, .. } = &mut b {
            for w in self.watches.iter().filter(|w| w.covers_page(page)) {
                *slow_writes |= w.kind != WatchKind::Read;
                *slow_reads |= w.kind != WatchKind::Write;
            }
        }
        b
    }
}

impl Cpu {
    /// Stops the run before the instruction at linear address `lin` (CS base + RIP).
    pub fn add_breakpoint(&mut self, lin: u64) -> bool {
        if self.debug.breakpoints.contains(&lin) {
            return false;
        }
        self.debug.breakpoints.push(lin);
        true
    }

    pub fn remove_breakpoint(&mut self, lin: u64) -> bool {
        let before = self.debug.breakpoints.len();
        self.debug.breakpoints.retain(|&b| b != lin);
        before != self.debug.breakpoints.len()
    }

    /// Watches `len` bytes at linear `addr` (any length; x86 allows 1, 2, 4 or 8, this
    /// allows more).
    pub fn add_watch(&mut self, watch: Watch) -> bool {
        if watch.len == 0 || self.debug.watches.contains(&watch) {
            return false;
        }
        self.debug.watches.push(watch);
        // Close the fast paths the TLB already opened on the watched pages; the
        // translations themselves stay (dropping them would change what the guest sees).
        self.flush_fast_paths();
        true
    }

    pub fn remove_watch(&mut self, watch: Watch) -> bool {
        let before = self.debug.watches.len();
        self.debug.watches.retain(|w| *w != watch);
        before != self.debug.watches.len()
    }

    /// Clears every breakpoint and watch, and any pending hit.
    pub fn clear_debug(&mut self) {
        self.debug = Debug::default();
        self.flush_fast_paths();
    }

    /// Closes every fast path (translations stay), so the next fills see the current
    /// watchpoints (after the debugger's hooks were taken out or put back).
    pub fn flush_fast_paths(&mut self) {
        self.tlb.revoke_fast();
    }

    /// The linear address of the next instruction (CS base + RIP), as breakpoints see it.
    pub fn pc(&self) -> u64 {
        self.seg[super::segment::CS as usize].base.wrapping_add(self.rip)
    }

    /// Runs only while the next instruction's linear address is in `[start, end)`: the
    /// run stops before the first one outside, as at a breakpoint (None: no range).
    pub fn set_step_range(&mut self, range: Option<(u64, u64)>) {
        self.debug.range = range;
    }

    /// Lets the next run start with the instruction at the current PC even if a breakpoint
    /// is set there (continuing from a breakpoint).
    pub fn resume_over_breakpoint(&mut self) {
        self.debug.resume_at = Some(self.pc());
    }

    /// The index of the first op of a block starting at linear `start` with instruction
    /// lengths `lens` that sits on a breakpoint or outside the step range (0 = the
    /// block's first instruction).
    pub(crate) fn breakpoint_in(&mut self, start: u64, lens: impl Iterator<Item = u8>) -> Option<usize> {
        let skip = self.debug.resume_at.take();
        let mut at = start;
        for (i, len) in lens.enumerate() {
            let outside = self.debug.range.is_some_and(|(s, e)| at < s || at >= e);
            if (outside || self.debug.breakpoints.contains(&at)) && !(i == 0 && skip == Some(at)) {
                return Some(i);
            }
            at = at.wrapping_add(len as u64);
        }
        None
    }

    /// Called by the slow access paths with every access the CPU makes at linear `lin`.
    #[inline]
    pub(crate) fn check_watch(&mut self, lin: u64, len: u64, write: bool) {
        if self.debug.watches.is_empty() || self.debug.hit.is_some() {
            return;
        }
        let hit = self.debug.watches.iter().find(|w| {
            let sees = match w.kind {
                WatchKind::Write => write,
                WatchKind::Read => !write,
                WatchKind::Access => true,
            };
            sees && w.overlaps(lin, len)
        });
        if let Some(&watch) = hit {
            self.debug.hit = Some(WatchHit { watch, write, address: lin });
            self.stop = true;
            self.end_block = true;
        }
    }
}
