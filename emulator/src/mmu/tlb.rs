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
    /// Ordinary RAM; `code` says whether decoded instructions are cached from it.
    Ram { host: usize, code: bool },
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
        let (host, readable, writable) = match backing {
            Backing::Ram { host, code } => (host, true, !code),
            Backing::Rom { host } => (host, true, false),
            Backing::Mmio => (0, false, false),
        };
        if readable {
            e.addend = host.wrapping_sub(tag as usize);
            for user in [false, true] {
                let u = user as usize;
                if perm.allows(Access::read(user), cr0) {
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

    /// Withdraws fast write access to physical page `phys_page` (it now holds decoded code).
    pub fn protect_code_page(&mut self, phys_page: u64) {
        for e in self.entries.iter_mut() {
            if e.tag != INVALID && e.phys == phys_page {
                e.write = [INVALID; 2];
            }
        }
    }
}
