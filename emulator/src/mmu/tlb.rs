//! A direct-mapped software TLB with host-pointer fast paths.
//!
//! Each entry caches one 4 KiB piece of a translation (large pages are cached per 4 KiB
//! piece, and `invlpg` drops every piece of the large page it names). Besides the
//! architectural translation, an entry holds *fast tags*: for each privilege class (user,
//! supervisor) and access kind (read, write, fetch), the linear page number if that access
//! may go straight to host memory, or [`INVALID`]. A hit is one compare and yields a host
//! pointer (`addend + linear`).
//!
//! Fast write tags are withheld when the page is not dirty yet (the walk must set D), when
//! it is ROM or MMIO, and when it holds decoded code (the write must invalidate it).

use super::{Access, Perm};

/// Number of entries (a power of two).
pub const TLB_ENTRIES: usize = 1024;
/// A tag no page-aligned address equals.
pub const INVALID: u64 = 1;

#[derive(Clone, Copy, Debug)]
pub struct TlbEntry {
    /// Linear page address of the cached translation, or INVALID.
    pub tag: u64,
    /// Physical page address.
    pub phys: u64,
    pub perm: Perm,
    /// `page size - 1` of the mapping this piece belongs to.
    pub page_mask: u64,
    /// Fast tags, indexed by `user as usize`.
    pub read: [u64; 2],
    pub write: [u64; 2],
    pub fetch: [u64; 2],
    /// Host address of the page minus its linear address (wrapping), for RAM/ROM pages.
    pub addend: usize,
}

impl TlbEntry {
    const EMPTY: TlbEntry = TlbEntry {
        tag: INVALID,
        phys: 0,
        perm: Perm { user: false, writable: false, nx: false, dirty: false, global: false },
        page_mask: 0,
        read: [INVALID; 2],
        write: [INVALID; 2],
        fetch: [INVALID; 2],
        addend: 0,
    };
}

/// How the host may reach a physical page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backing {
    /// Ordinary RAM. `slow_writes`: writes must take the slow path (the page holds decoded
    /// code, is not yet marked written for the next snapshot, or is watched);
    /// `slow_reads`: so must reads (a read watch).
    Ram { host: usize, slow_writes: bool, slow_reads: bool },
    /// Read-only memory: reads and fetches go to `host`, writes are dropped.
    Rom { host: usize },
    /// Device memory: every access goes through the bus.
    Mmio,
}

pub struct Tlb {
    entries: Box<[TlbEntry; TLB_ENTRIES]>,
    /// Translation fills since creation (for statistics).
    pub fills: u64,
    /// Full and partial flushes since creation (for statistics).
    pub flushes: u64,
    /// Bumped by every flush; the decode cache's jump cache (which remembers code
    /// translations) is only trusted while it stays put. A fill does not bump it: a
    /// translation cached until the next invalidation is what a TLB may architecturally
    /// keep, so a jump-cache hit after an unflushed page-table edit is a legitimate stale
    /// hit, as on hardware.
    pub gen: u64,
}

impl Default for Tlb {
    fn default() -> Self {
        Self::new()
    }
}

#[inline(always)]
pub fn index(lin: u64) -> usize {
    (lin >> 12) as usize & (TLB_ENTRIES - 1)
}

impl Tlb {
    pub fn new() -> Self {
        Self { entries: Box::new([TlbEntry::EMPTY; TLB_ENTRIES]), fills: 0, flushes: 0, gen: 0 }
    }

    #[inline(always)]
    pub fn entry(&self, lin: u64) -> &TlbEntry {
        &self.entries[index(lin)]
    }

    /// The cached translation for `lin`, if any.
    #[inline]
    pub fn lookup(&self, lin: u64) -> Option<&TlbEntry> {
        let e = &self.entries[index(lin)];
        (e.tag == lin & !0xfff).then_some(e)
    }

    /// Caches a translation of the 4 KiB page containing `lin`.
    pub fn fill(&mut self, lin: u64, phys_page: u64, perm: Perm, page_mask: u64, backing: Backing, cr0: u64) {
        self.fills += 1;
        let tag = lin & !0xfff;
        let mut e = TlbEntry { tag, phys: phys_page, perm, page_mask, ..TlbEntry::EMPTY };
        let (host, readable, writable, fast_reads) = match backing {
            Backing::Ram { host, slow_writes, slow_reads } => (host, true, !slow_writes, !slow_reads),
            Backing::Rom { host } => (host, true, false, true),
            Backing::Mmio => (0, false, false, false),
        };
        if readable {
            e.addend = host.wrapping_sub(tag as usize);
            for user in [false, true] {
                let u = user as usize;
                if fast_reads && perm.allows(Access::read(user), cr0) {
                    e.read[u] = tag;
                }
                if perm.allows(Access::fetch(user), cr0) {
                    e.fetch[u] = tag;
                }
                if writable && perm.dirty && perm.allows(Access::write(user), cr0) {
                    e.write[u] = tag;
                }
            }
        }
        self.entries[index(lin)] = e;
    }

    /// Drops every entry.
    pub fn flush_all(&mut self) {
        self.flushes += 1;
        self.gen += 1;
        self.entries.fill(TlbEntry::EMPTY);
    }

    /// Drops every non-global entry (a CR3 load with CR4.PGE set).
    pub fn flush_non_global(&mut self) {
        self.flushes += 1;
        self.gen += 1;
        for e in self.entries.iter_mut() {
            if !e.perm.global {
                *e = TlbEntry::EMPTY;
            }
        }
    }

    /// `invlpg`: drops the translation of `lin`, including every cached piece of a large page.
    pub fn flush_page(&mut self, lin: u64) {
        self.flushes += 1;
        self.gen += 1;
        for e in self.entries.iter_mut() {
            if e.tag != INVALID && (e.tag & !e.page_mask) == (lin & !e.page_mask & !0xfff) {
                *e = TlbEntry::EMPTY;
            }
        }
    }

    /// Withdraws every fast write path (translations stay): each page's next write goes
    /// through the slow path once, which reopens it (snapshots use this to see which pages
    /// a run writes).
    pub fn revoke_writes(&mut self) {
        for e in self.entries.iter_mut() {
            e.write = [INVALID; 2];
        }
    }

    /// Withdraws every fast read and write path (translations stay); the slow path reopens
    /// them as a fill would (debuggers use this when watchpoints change).
    pub fn revoke_fast(&mut self) {
        for e in self.entries.iter_mut() {
            e.write = [INVALID; 2];
            e.read = [INVALID; 2];
        }
    }

    /// The cached translations, for snapshots: `(linear page, physical page, permissions,
    /// page mask)` of every valid entry, by slot.
    pub fn translations(&self) -> Vec<(u16, u64, u64, Perm, u64)> {
        self.entries.iter().enumerate().filter(|(_, e)| e.tag != INVALID).map(|(i, e)| (i as u16, e.tag, e.phys, e.perm, e.page_mask)).collect()
    }

    /// Empties the TLB and refills it with `translations` (from [`Tlb::translations`]),
    /// fast paths recomputed by `backing` for each physical page. Counters are not touched.
    pub fn restore(&mut self, translations: &[(u16, u64, u64, Perm, u64)], cr0: u64, mut backing: impl FnMut(u64, u64) -> Backing) {
        self.gen += 1;
        self.entries.fill(TlbEntry::EMPTY);
        let fills = self.fills;
        for &(_, tag, phys, perm, mask) in translations {
            self.fill(tag, phys, perm, mask, backing(tag, phys), cr0);
        }
        self.fills = fills;
    }

    /// Withdraws fast write access to physical page `phys_page` (it now holds decoded code).
    pub fn protect_code_page(&mut self, phys_page: u64) {
        for e in self.entries.iter_mut() {
            if e.tag != INVALID && e.phys == phys_page {
                e.write = [INVALID; 2];
            }
        }
    }
}
