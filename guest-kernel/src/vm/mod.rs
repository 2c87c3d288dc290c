//! Virtual memory (Pintos project 3): the supplemental page table, demand paging,
//! stack growth, eviction and swap.
//!
//! Every user page of a process has an entry in its supplemental page table (`Spt`, in
//! the process record next to its page table): whether it is writable, the frame that
//! holds it if it is resident, and what it is (`Kind`): an untouched page
//! (`uninit::Uninit`: zeros, or pieces of the executable read at their own segment
//! offsets) that becomes an anonymous page (`anon::Anon`) on its first fault. A fault
//! (from user mode, or a kernel copy to or from user memory that found the page absent)
//! loads the page into a frame and maps it; a fault just below the stack pointer grows
//! the stack; any other fault kills the process.
//!
//! Frames come from the user pool; when it is empty, the clock (`frame`) sweeps the
//! resident pages, giving each recently accessed page a second chance, and evicts the
//! first one that was not: an anonymous page goes to a swap slot (`swap`).
//!
//! One VM lock serialises faults, eviction, fork's copy and teardown, so a page never
//! changes under a thread that sleeps on the disk for it. Lock order: the VM lock, then
//! the file system's. Process records are only touched inside `PROCS.with` (interrupts
//! off, no sleeping): a fault decides what to do there, does its I/O outside, and comes
//! back to install the result.

pub mod anon;
pub mod file;
pub mod frame;
pub mod swap;
pub mod uninit;

use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use alloc::vec::Vec;

use crate::arch::io::vtop;
use crate::arch::paging::{BadAddress, PageTable, USER_LIMIT};
use crate::threads::interrupt::{self, IntrFrame};
use crate::threads::palloc::PGSIZE;
use crate::threads::synch::{sema_down, sema_up, Semaphore};
use crate::threads::thread::{self, Tid};
use crate::userprog::load::USER_STACK;
use crate::userprog::process::{with_current, PROCS};
use anon::Anon;
use file::FilePage;
use uninit::Uninit;

/// How far below USER_STACK the stack may grow (Pintos: 1 MiB).
pub const STACK_LIMIT: u64 = 1 << 20;

/// What a page is.
#[derive(Clone)]
pub enum Kind {
    Uninit(Uninit),
    Anon(Anon),
    File(FilePage),
}

pub struct Page {
    pub writable: bool,
    /// Kernel address of the frame holding the page, if resident.
    pub frame: Option<u64>,
    pub kind: Kind,
}

/// A process's supplemental page table: its user pages by (page-aligned) address, and
/// its `mmap` mappings (first page → number of pages).
#[derive(Default)]
pub struct Spt {
    pages: BTreeMap<u64, Page>,
    mappings: BTreeMap<u64, u64>,
}

impl Spt {
    pub fn new() -> Spt {
        Spt::default()
    }

    /// Adds an untouched page at `va` (`vm_alloc_page_with_initializer`); false if the
    /// page already exists.
    pub fn add(&mut self, va: u64, writable: bool, init: Uninit) -> bool {
        if self.pages.contains_key(&va) {
            return false;
        }
        self.pages.insert(va, Page { writable, frame: None, kind: Kind::Uninit(init) });
        true
    }

    pub fn get_mut(&mut self, va: u64) -> Option<&mut Page> {
        self.pages.get_mut(&va)
    }

    pub fn contains(&self, va: u64) -> bool {
        self.pages.contains_key(&va)
    }

    /// Pages in the table.
    pub fn len(&self) -> usize {
        self.pages.len()
    }

    pub fn is_empty(&self) -> bool {
        self.pages.is_empty()
    }
}

/// Serialises faults, eviction, fork's copy and teardown (see the module docs).
static VM_LOCK: Semaphore = Semaphore::new(1);

/// Holds the VM lock while alive.
pub struct VmGuard(());

impl VmGuard {
    pub fn lock() -> VmGuard {
        sema_down(&VM_LOCK);
        VmGuard(())
    }
}

impl Drop for VmGuard {
    fn drop(&mut self) {
        sema_up(&VM_LOCK);
    }
}

/// Registers `int 0x42` and sizes the swap slots (`vm_init`).
pub fn init() {
    swap::init();
    interrupt::register_int(0x42, true, user_translate, "#VM translate");
}

/// `int 0x42` from user mode: rax = a user virtual address in, the physical address it
/// maps to out (0 if it is not present). The lazy tests check with it that untouched
/// pages have no frame.
fn user_translate(f: &mut IntrFrame) {
    let va = f.rax;
    f.rax = if va < USER_LIMIT { with_current(|p| p.pt.translate(va)).map_or(0, |(k, _)| vtop(k)) } else { 0 };
}

/// Whether a fault at `va` with user stack pointer `rsp` is the stack growing: within
/// STACK_LIMIT below USER_STACK, and no lower than 8 bytes below rsp (a `push`).
fn is_stack_growth(va: u64, rsp: u64) -> bool {
    va < USER_STACK && va >= USER_STACK - STACK_LIMIT && va.wrapping_add(8) >= rsp
}

/// What a fault must do, decided with the process record in hand.
enum Plan {
    /// The page is resident already.
    Done,
    Kill,
    /// Fill a new frame this way, then map it.
    Fill(Fill),
}

enum Fill {
    Init(Uninit),
    Swap(usize),
    File(FilePage),
}

/// Resolves a fault at user address `va` of the running process (`vm_try_handle_fault`):
/// loads the page (growing the stack if `va` is just below `rsp`) and maps it. False if
/// the access is not allowed: no such page, or a write to a read-only one; the caller
/// then kills the process.
pub fn handle_fault(va: u64, write: bool, rsp: u64) -> bool {
    if va >= USER_LIMIT {
        return false;
    }
    let page_va = va & !(PGSIZE - 1);
    let _vm = VmGuard::lock();
    let plan = with_current(|p| {
        if !p.spt.contains(page_va) {
            if !is_stack_growth(va, rsp) {
                return Plan::Kill;
            }
            p.spt.add(page_va, true, Uninit::Zero);
        }
        let page = p.spt.get_mut(page_va).unwrap();
        if write && !page.writable {
            return Plan::Kill;
        }
        if page.frame.is_some() {
            return Plan::Done;
        }
        Plan::Fill(match &page.kind {
            Kind::Uninit(u) => Fill::Init(u.clone()),
            Kind::Anon(Anon { slot: Some(s) }) => Fill::Swap(*s),
            Kind::Anon(Anon { slot: None }) => unreachable!("an anonymous page with no frame and no slot"),
            Kind::File(f) => Fill::File(f.clone()),
        })
    });
    let fill = match plan {
        Plan::Done => return true,
        Plan::Kill => return false,
        Plan::Fill(f) => f,
    };
    let tid = thread::thread_tid();
    let Some(kva) = frame_for((tid, page_va)) else { return false };
    let ok = match &fill {
        Fill::Init(u) => u.initialize(kva),
        Fill::Swap(slot) => {
            anon::swap_in(*slot, kva);
            true
        }
        Fill::File(f) => {
            f.read_into(kva);
            true
        }
    };
    let installed = ok
        && with_current(|p| {
            let page = p.spt.get_mut(page_va).unwrap();
            page.frame = Some(kva);
            if !matches!(page.kind, Kind::File(_)) {
                page.kind = Kind::Anon(Anon::default());
            }
            p.pt.map(page_va, kva, page.writable)
        });
    if !installed {
        // The slot (if any) was freed by swap_in and the page now lives nowhere: the
        // process dies anyway.
        with_current(|p| {
            if let Some(page) = p.spt.get_mut(page_va) {
                page.frame = None;
                page.kind = Kind::Uninit(Uninit::Zero);
            }
        });
        frame::free(kva);
        return false;
    }
    frame::unpin(kva);
    true
}

/// A pinned frame for `owner`: a free one, or one taken from another page by eviction.
/// Must be called with the VM lock held.
pub fn frame_for(owner: (Tid, u64)) -> Option<u64> {
    if let Some(kva) = frame::take_free(owner) {
        return Some(kva);
    }
    let kva = evict()?;
    frame::reassign(kva, owner);
    Some(kva)
}

/// Evicts a resident page by the clock (second chance on the accessed bit); returns its
/// frame, pinned. None if no page can go (all pinned, or swap full).
fn evict() -> Option<u64> {
    // Two sweeps: the first may only clear accessed bits.
    for _ in 0..2 * frame::count() + 1 {
        let (kva, (tid, va)) = frame::next_candidate()?;
        let accessed = PROCS.with(|ps| ps.get_mut(&tid).map(|p| p.pt.test_and_clear_accessed(va)));
        match accessed {
            Some(false) => {}
            Some(true) => continue,
            None => unreachable!("frame {kva:#x} owned by a process that is gone"),
        }
        if !frame::try_pin(kva) {
            continue;
        }
        // Unmap first, so the owner cannot change the page while it is written out.
        let (dirty, file) = PROCS.with(|ps| {
            let p = ps.get_mut(&tid).unwrap();
            let dirty = p.pt.unmap(va).is_some_and(|u| u.dirty);
            let page = p.spt.get_mut(va).unwrap();
            let file = match &page.kind {
                Kind::File(f) => Some(f.clone()),
                _ => None,
            };
            if file.is_some() {
                page.frame = None;
            }
            (dirty, file)
        });
        if let Some(f) = file {
            // A file page goes back to its file if written, and is read again later.
            if dirty {
                f.write_back(kva);
            }
            return Some(kva);
        }
        let Some(slot) = anon::swap_out(kva) else {
            // Swap is full: put it back and give up.
            PROCS.with(|ps| {
                let p = ps.get_mut(&tid).unwrap();
                let w = p.spt.get_mut(va).unwrap().writable;
                p.pt.map(va, kva, w);
            });
            frame::unpin(kva);
            return None;
        };
        PROCS.with(|ps| {
            let page = ps.get_mut(&tid).unwrap().spt.get_mut(va).unwrap();
            page.frame = None;
            page.kind = Kind::Anon(Anon { slot: Some(slot) });
        });
        return Some(kva);
    }
    None
}

/// Copies `len` = `buf.len()` bytes of the running process's memory at `va` into `buf`,
/// loading absent pages; false (the process must die) if any byte is not a user page.
pub fn copy_in(va: u64, buf: &mut [u8], rsp: u64) -> bool {
    loop {
        match with_current(|p| p.pt.copy_in(va, buf)) {
            Ok(()) => return true,
            Err(BadAddress(at)) => {
                if !handle_fault(at, false, rsp) {
                    return false;
                }
            }
        }
    }
}

/// Copies `data` to the running process's memory at `va`, loading absent pages; false if
/// any byte is not a writable user page.
pub fn copy_out(va: u64, data: &[u8], rsp: u64) -> bool {
    loop {
        match with_current(|p| p.pt.copy_out(va, data)) {
            Ok(()) => return true,
            Err(BadAddress(at)) => {
                if !handle_fault(at, true, rsp) {
                    return false;
                }
            }
        }
    }
}

/// Whether [va, va+len) is all user pages of the running process (writable ones if
/// `write`), counting stack that a fault would grow; loads nothing.
pub fn check(va: u64, len: u64, write: bool, rsp: u64) -> bool {
    if len == 0 {
        return true;
    }
    let Some(end) = va.checked_add(len) else { return false };
    if end > USER_LIMIT {
        return false;
    }
    with_current(|p| {
        let mut page = va & !(PGSIZE - 1);
        while page < end {
            let ok = match p.spt.pages.get(&page) {
                Some(pg) => pg.writable || !write,
                None => is_stack_growth(page.max(va), rsp),
            };
            if !ok {
                return false;
            }
            page += PGSIZE;
        }
        true
    })
}

/// Makes `owner`'s copy of the pages of `parent` (fork): untouched pages stay untouched,
/// resident and swapped pages are copied into frames of their own, mapped in `pt`. The
/// frames stay pinned until `install_done`. None when memory runs out (whatever was
/// copied is freed).
pub fn copy_spt(parent: Tid, child: Tid, pt: &mut PageTable) -> Option<Spt> {
    let _vm = VmGuard::lock();
    let (keys, mappings): (Vec<u64>, BTreeMap<u64, u64>) = PROCS.with(|ps| ps.get(&parent).map(|p| (p.spt.pages.keys().copied().collect(), p.spt.mappings.clone())))?;
    let mut spt = Spt::new();
    spt.mappings = mappings;
    for va in keys {
        let (writable, kind, resident) = PROCS.with(|ps| {
            let page = ps.get_mut(&parent).unwrap().spt.get_mut(va).unwrap();
            (page.writable, page.kind.clone(), page.frame.is_some())
        });
        match (&kind, resident) {
            (Kind::Uninit(u), false) => {
                spt.add(va, writable, u.clone());
                continue;
            }
            (Kind::File(_), false) => {
                spt.pages.insert(va, Page { writable, frame: None, kind: kind.clone() });
                continue;
            }
            _ => {}
        }
        let Some(kva) = frame_for((child, va)) else {
            destroy_locked(&_vm, spt, None);
            return None;
        };
        // Our frame may have come from evicting this very page: look again.
        let slot = PROCS.with(|ps| {
            let page = ps.get_mut(&parent).unwrap().spt.get_mut(va).unwrap();
            match (page.frame, &page.kind) {
                (Some(from), _) => {
                    // The parent's page is resident and cannot change: the parent
                    // waits in fork, and this runs with interrupts off.
                    crate::arch::io::copy_frame(from, kva);
                    None
                }
                (None, Kind::Anon(Anon { slot: Some(s) })) => Some(*s),
                _ => unreachable!("a copied page with no frame and no slot"),
            }
        });
        if let Some(s) = slot {
            swap::read(s, kva);
        }
        let kind = if let Kind::File(f) = kind { Kind::File(f) } else { Kind::Anon(Anon::default()) };
        spt.pages.insert(va, Page { writable, frame: Some(kva), kind });
        if !pt.map(va, kva, writable) {
            destroy_locked(&_vm, spt, None);
            return None;
        }
    }
    Some(spt)
}

/// Unpins the frames of `spt` once its process record is in `PROCS` (the clock may then
/// pick them).
pub fn install_done(spt_frames: &[u64]) {
    for &kva in spt_frames {
        frame::unpin(kva);
    }
}

/// The frames of the resident pages of `spt`.
pub fn frames_of(spt: &Spt) -> Vec<u64> {
    spt.pages.values().filter_map(|p| p.frame).collect()
}

/// Frees every frame and swap slot of `spt` (`supplemental_page_table_kill`), which no
/// process record holds, writing back the written pages of its mappings (whether a page
/// was written is read from `pt`, the table it was mapped in).
pub fn destroy(spt: Spt, pt: Option<&PageTable>) {
    let vm = VmGuard::lock();
    destroy_locked(&vm, spt, pt);
}

/// `destroy` with the VM lock already held (`_vm` proves it).
pub fn destroy_locked(_vm: &VmGuard, spt: Spt, pt: Option<&PageTable>) {
    for (va, page) in spt.pages {
        free_page(va, page, pt);
    }
}

/// Frees one page that has left its table (written back first if it is a written page
/// of a mapping).
fn free_page(va: u64, page: Page, pt: Option<&PageTable>) {
    if let Some(kva) = page.frame {
        if let Kind::File(f) = &page.kind {
            if pt.is_some_and(|pt| pt.is_dirty(va)) {
                f.write_back(kva);
            }
        }
        frame::free(kva);
    }
    if let Kind::Anon(Anon { slot: Some(s) }) = page.kind {
        swap::free(s);
    }
}

/// `mmap(addr, length, writable, file, offset)` for the running process: maps `length`
/// bytes of `file` (a reopened handle of the mapping's own) from `offset` at `addr`,
/// lazily. None if the mapping is refused: `addr` null or not page-aligned, `offset` not
/// page-aligned, `length` zero, a range past user space, or any page already in use.
pub fn mmap(addr: u64, length: u64, writable: bool, file: Arc<crate::filesys::file::File>, offset: u32) -> Option<u64> {
    if addr == 0 || addr % PGSIZE != 0 || offset as u64 % PGSIZE != 0 || length == 0 {
        return None;
    }
    let end = addr.checked_add(length).filter(|&e| e <= USER_LIMIT)?;
    let pages = (end - addr).div_ceil(PGSIZE);
    let file_len = file.length() as u64;
    let _vm = VmGuard::lock();
    with_current(|p| {
        if (0..pages).any(|i| p.spt.contains(addr + i * PGSIZE)) {
            return None;
        }
        for i in 0..pages {
            let off = offset as u64 + i * PGSIZE;
            let read_bytes = file_len.saturating_sub(off).min(PGSIZE).min(length - i * PGSIZE) as u16;
            let fp = FilePage { file: file.clone(), offset: off as u32, read_bytes };
            p.spt.pages.insert(addr + i * PGSIZE, Page { writable, frame: None, kind: Kind::File(fp) });
        }
        p.spt.mappings.insert(addr, pages);
        Some(addr)
    })
}

/// `munmap(addr)`: ends the running process's mapping that starts at `addr`, writing
/// back its written pages; nothing if there is none.
pub fn munmap(addr: u64) {
    let _vm = VmGuard::lock();
    let Some(pages) = with_current(|p| p.spt.mappings.remove(&addr)) else { return };
    for i in 0..pages {
        let va = addr + i * PGSIZE;
        // Out of the table (and unmapped) before the write-back sleeps.
        let taken = with_current(|p| {
            let page = p.spt.pages.remove(&va)?;
            let dirty = page.frame.is_some() && p.pt.unmap(va).is_some_and(|u| u.dirty);
            Some((page, dirty))
        });
        if let Some((page, dirty)) = taken {
            if let (Some(kva), Kind::File(f)) = (page.frame, &page.kind) {
                if dirty {
                    f.write_back(kva);
                }
            }
            free_page(va, page, None);
        }
    }
}

/// (resident user frames, free swap slots, all swap slots), for the power-off figures.
pub fn stats() -> (usize, usize, usize) {
    let (free, all) = swap::stats();
    (frame::count(), free, all)
}
