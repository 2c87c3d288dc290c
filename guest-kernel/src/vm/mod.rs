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
//!
//! What the layer did is also written to the paravirtual claims port (`claims`,
//! docs/claims.md) as it happens: pages loaded, swapped out and in, evicted, stack grown,
//! copies on write. Kernels built with the `broken` feature carry deliberate bugs for
//! testing the grader that checks those claims (`broken`).

pub mod anon;
#[cfg(feature = "broken")]
pub mod broken;
pub mod claims;
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
use crate::threads::palloc::{self, PGSIZE};
use crate::threads::synch::{sema_down, sema_up, Semaphore};
use crate::threads::thread::{self, Tid};
use crate::userprog::load::USER_STACK;
use crate::userprog::process::{with_current, PROCS};
use anon::Anon;
use claims::Space;
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
}

/// Supplemental-page-table entries per page of heap, counted low (an entry, its share of
/// a tree node and a segment's piece list take under 128 bytes).
const ENTRIES_PER_HEAP_PAGE: u64 = 32;

/// Claims the heap that `entries` new page-table entries need, so that a program cannot
/// make the kernel's heap run out (which would abort the kernel) with a huge mapping, a
/// huge segment or a fork of a huge process: the call fails cleanly instead while the
/// claim cannot be had (see `palloc::claim_heap`).
pub fn claim_entries(entries: u64) -> Option<palloc::HeapClaim> {
    let pages = entries.div_ceil(ENTRIES_PER_HEAP_PAGE) + 1;
    palloc::claim_heap(usize::try_from(pages).ok()?)
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
    /// The page is resident and the access allowed already.
    Done,
    Kill,
    /// A write to a copy-on-write page whose frame nobody else shares any more.
    MakeWritable,
    /// A write to a copy-on-write page: copy this shared frame into one of our own.
    Copy(u64),
    /// Fill a new frame this way, then map it.
    Fill(Fill),
}

enum Fill {
    Init(Uninit),
    Swap(usize),
    File(FilePage),
}

/// Decides what a fault at `va` (in page `page_va`) of process `p` needs; sets `grew` if
/// the fault grows the stack by this page.
fn decide(p: &mut crate::userprog::process::Process, page_va: u64, va: u64, write: bool, rsp: u64, grew: &mut bool) -> Plan {
    if !p.spt.contains(page_va) {
        // A new stack page's entry comes from the heap: none while the kernel pool is
        // down to its reserve.
        if !is_stack_growth(va, rsp) || palloc::kernel_low() {
            return Plan::Kill;
        }
        p.spt.add(page_va, true, Uninit::Zero);
        *grew = true;
    }
    let page = p.spt.pages.get(&page_va).unwrap();
    if write && !page.writable {
        return Plan::Kill;
    }
    if let Some(kva) = page.frame {
        let mapped_writable = p.pt.translate(page_va).is_some_and(|(_, w)| w);
        return match (write && !mapped_writable, frame::owner_count(kva)) {
            (false, _) => Plan::Done,
            (true, 1) => Plan::MakeWritable,
            (true, _) => Plan::Copy(kva),
        };
    }
    Plan::Fill(match &page.kind {
        Kind::Uninit(u) => Fill::Init(u.clone()),
        Kind::Anon(Anon { slot: Some(s) }) => Fill::Swap(*s),
        Kind::Anon(Anon { slot: None }) => unreachable!("an anonymous page with no frame and no slot"),
        Kind::File(f) => Fill::File(f.clone()),
    })
}

/// Resolves a fault at user address `va` of the running process (`vm_try_handle_fault`):
/// loads the page (growing the stack if `va` is just below `rsp`) and maps it, or gives
/// a writer its own copy of a page shared copy-on-write. False if the access is not
/// allowed: no such page, or a write to a read-only one; the caller then kills the
/// process.
pub fn handle_fault(va: u64, write: bool, rsp: u64) -> bool {
    if va >= USER_LIMIT {
        return false;
    }
    let page_va = va & !(PGSIZE - 1);
    let me = (thread::thread_tid(), page_va);
    let _vm = VmGuard::lock();
    // Taking a frame may evict (this page, or the frame it shares), so the plan is made
    // again once the frame is in hand.
    let mut spare: Option<u64> = None;
    // Whether this fault added the page as new stack (the plan is made again after
    // taking a frame, and the page is in the table by then).
    let mut grew = false;
    loop {
        let plan = with_current(|p| decide(p, page_va, va, write, rsp, &mut grew));
        let kva = match (&plan, spare) {
            (Plan::Done | Plan::Kill | Plan::MakeWritable, _) => {
                if let Some(k) = spare {
                    frame::release(k, me);
                }
                return match plan {
                    Plan::Kill => false,
                    Plan::MakeWritable => {
                        with_current(|p| p.pt.set_writable(page_va, true));
                        true
                    }
                    _ => true,
                };
            }
            (_, None) => {
                spare = Some(match frame_for(me) {
                    Some(k) => k,
                    None => return false,
                });
                continue;
            }
            (_, Some(k)) => k,
        };
        return match plan {
            Plan::Copy(from) => {
                crate::arch::io::copy_frame(from, kva);
                let (mapped, space) = with_current(|p| {
                    p.pt.unmap(page_va);
                    p.spt.get_mut(page_va).unwrap().frame = Some(kva);
                    (p.pt.map(page_va, kva, true), Space(p.pt.root()))
                });
                if mapped {
                    claims::cow_copy(space, page_va);
                }
                frame::release(from, me);
                frame::unpin(kva);
                true
            }
            Plan::Fill(fill) => fill_page(fill, kva, page_va, me, grew),
            _ => unreachable!(),
        };
    }
}

/// Fills frame `kva` for the absent page `page_va` of the running process and maps it;
/// `grew`: the page is new stack. Then claims what it did (`claims`).
fn fill_page(fill: Fill, kva: u64, page_va: u64, me: frame::Owner, grew: bool) -> bool {
    // Bytes read from the file, for a file page.
    let mut read = 0;
    let ok = match &fill {
        Fill::Init(u) => u.initialize(kva),
        Fill::Swap(slot) => {
            anon::swap_in(*slot, kva);
            true
        }
        Fill::File(f) => {
            read = f.read_into(kva);
            true
        }
    };
    // The address space the page is mapped in, once it is.
    let mapped_in = if ok {
        with_current(|p| {
            let page = p.spt.get_mut(page_va).unwrap();
            page.frame = Some(kva);
            if !matches!(page.kind, Kind::File(_)) {
                page.kind = Kind::Anon(Anon::default());
            }
            p.pt.map(page_va, kva, page.writable).then(|| Space(p.pt.root()))
        })
    } else {
        None
    };
    let Some(space) = mapped_in else {
        // The slot (if any) was given up by swap_in and the page now lives nowhere: the
        // process dies anyway.
        with_current(|p| {
            if let Some(page) = p.spt.get_mut(page_va) {
                page.frame = None;
                page.kind = Kind::Uninit(Uninit::Zero);
            }
        });
        frame::release(kva, me);
        return false;
    };
    match &fill {
        Fill::Init(u) => u.claim_loaded(space, page_va),
        Fill::Swap(slot) => claims::swap_in(space, *slot, page_va),
        Fill::File(f) => claims::lazy_load(space, page_va, f.offset as u64, read as u64),
    }
    if grew {
        claims::stack_growth(space, page_va);
    }
    frame::unpin(kva);
    true
}

/// A pinned frame for `owner`: a free one, or one taken from other pages by eviction.
/// Must be called with the VM lock held.
pub fn frame_for(owner: frame::Owner) -> Option<u64> {
    if let Some(kva) = frame::take_free(owner) {
        return Some(kva);
    }
    let kva = evict()?;
    frame::reassign(kva, owner);
    Some(kva)
}

/// Evicts a resident frame by the clock (second chance on the accessed bits of every
/// page it backs); returns it, pinned, with no owner. None if nothing can go (all
/// pinned, or swap full).
fn evict() -> Option<u64> {
    // Two sweeps: the first may only clear accessed bits.
    for _ in 0..2 * frame::count() + 1 {
        let (kva, owners) = frame::next_candidate()?;
        // Whether any page the frame backs was accessed; None if one belongs to a forked
        // child that `copy_spt` is still copying (its record is not in PROCS yet, and a
        // frame it shares with its parent stays where it is until then).
        let accessed = PROCS.with(|ps| {
            let mut any = false;
            for &(tid, va) in &owners {
                any |= ps.get_mut(&tid)?.pt.test_and_clear_accessed(va);
            }
            Some(any)
        });
        if accessed != Some(false) || !frame::try_pin(kva) {
            continue;
        }
        // Unmap first, so no owner can change the page while it is written out.
        let (dirty, file) = PROCS.with(|ps| {
            let mut dirty = false;
            let mut file = None;
            for &(tid, va) in &owners {
                let p = ps.get_mut(&tid).unwrap();
                dirty |= p.pt.unmap(va).is_some_and(|u| u.dirty);
                let page = p.spt.get_mut(va).unwrap();
                page.frame = None;
                if let Kind::File(f) = &page.kind {
                    file = Some((f.clone(), Space(p.pt.root()), va));
                }
            }
            (dirty, file)
        });
        if let Some((f, space, va)) = file {
            // A file page (never shared) goes back to its file if written, and is read
            // again when needed.
            if dirty {
                f.write_back(kva);
            }
            claims::evict(space, va, dirty);
            frame::clear_owners(kva);
            return Some(kva);
        }
        let slot = anon::swap_out(kva, owners.len() as u16);
        PROCS.with(|ps| {
            for &(tid, va) in &owners {
                let p = ps.get_mut(&tid).unwrap();
                let page = p.spt.get_mut(va).unwrap();
                match slot {
                    Some(s) => {
                        page.kind = Kind::Anon(Anon { slot: Some(s) });
                        let space = Space(p.pt.root());
                        claims::swap_out(space, va, s);
                        claims::evict(space, va, true);
                    }
                    None => {
                        // Swap is full: everything goes back as it was (read-only if
                        // still shared).
                        page.frame = Some(kva);
                        p.pt.map(va, kva, page.writable && owners.len() == 1);
                    }
                }
            }
        });
        if slot.is_none() {
            frame::unpin(kva);
            return None;
        }
        frame::clear_owners(kva);
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

/// Makes `child`'s copy of the pages of `parent` (fork), mapped in `pt`: untouched pages
/// stay untouched; anonymous pages are shared copy-on-write (the frame, or the swap
/// slot, gets a second user; both processes map a resident one read-only, and the first
/// to write gets its own copy); the resident pages of mappings are copied into frames of
/// their own, pinned until `install_done`. The caller holds the VM lock (`_vm`) until
/// the child's record is in `PROCS`, since the clock may then meet the child among a
/// shared frame's owners; until then, eviction for a mapping's page leaves the frames
/// already shared with the child alone. None when memory runs out (whatever was copied
/// is freed).
pub fn copy_spt(vm: &VmGuard, parent: Tid, child: Tid, pt: &mut PageTable) -> Option<Spt> {
    let (keys, mappings): (Vec<u64>, BTreeMap<u64, u64>) = PROCS.with(|ps| ps.get(&parent).map(|p| (p.spt.pages.keys().copied().collect(), p.spt.mappings.clone())))?;
    let _claim = claim_entries(keys.len() as u64)?;
    let mut spt = Spt::new();
    spt.mappings = mappings;
    for va in keys {
        // Shares what can be shared; returns the page to copy into a frame otherwise.
        let copy = PROCS.with(|ps| {
            let par = ps.get_mut(&parent).unwrap();
            let page = par.spt.pages.get(&va).unwrap();
            let (writable, kind) = (page.writable, page.kind.clone());
            match (page.frame, &kind) {
                (None, Kind::Anon(Anon { slot: Some(s) })) => {
                    swap::share(*s);
                    spt.pages.insert(va, Page { writable, frame: None, kind });
                    Ok(true)
                }
                (None, _) => {
                    spt.pages.insert(va, Page { writable, frame: None, kind });
                    Ok(true)
                }
                (Some(kva), Kind::Anon(_)) => {
                    if !pt.map(va, kva, false) {
                        return Ok(false);
                    }
                    par.pt.set_writable(va, false);
                    frame::share(kva, (child, va));
                    spt.pages.insert(va, Page { writable, frame: Some(kva), kind });
                    Ok(true)
                }
                (Some(_), _) => Err((writable, kind)),
            }
        });
        let (writable, kind) = match copy {
            Ok(true) => continue,
            Ok(false) => {
                destroy_locked(vm, spt, None, child);
                return None;
            }
            Err(w_k) => w_k,
        };
        let Some(kva) = frame_for((child, va)) else {
            destroy_locked(vm, spt, None, child);
            return None;
        };
        // Our frame may have come from evicting this very page: then it is in its file
        // again, and the child reads it from there.
        let copied = PROCS.with(|ps| match ps.get(&parent).unwrap().spt.pages.get(&va).unwrap().frame {
            Some(from) => {
                crate::arch::io::copy_frame(from, kva);
                true
            }
            None => false,
        });
        if !copied {
            frame::release(kva, (child, va));
            spt.pages.insert(va, Page { writable, frame: None, kind });
            continue;
        }
        spt.pages.insert(va, Page { writable, frame: Some(kva), kind });
        if !pt.map(va, kva, writable) {
            destroy_locked(vm, spt, None, child);
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

/// Frees every frame and swap slot of `spt` (`supplemental_page_table_kill`), the table
/// of process `tid`, which no process record holds any more, writing back the written
/// pages of its mappings (whether a page was written is read from `pt`, the table it was
/// mapped in). Frames and slots shared copy-on-write stay with their other users.
pub fn destroy(spt: Spt, pt: Option<&PageTable>, tid: Tid) {
    let vm = VmGuard::lock();
    destroy_locked(&vm, spt, pt, tid);
}

/// `destroy` with the VM lock already held (`_vm` proves it).
pub fn destroy_locked(_vm: &VmGuard, spt: Spt, pt: Option<&PageTable>, tid: Tid) {
    for (va, page) in spt.pages {
        free_page(va, page, pt, tid);
    }
}

/// Frees one page of process `tid` that has left its table (written back first if it is
/// a written page of a mapping).
fn free_page(va: u64, page: Page, pt: Option<&PageTable>, tid: Tid) {
    if let Some(kva) = page.frame {
        if let Kind::File(f) = &page.kind {
            if pt.is_some_and(|pt| pt.is_dirty(va)) {
                f.write_back(kva);
            }
        }
        frame::release(kva, (tid, va));
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
    let _claim = claim_entries(pages)?;
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
            free_page(va, page, None, thread::thread_tid());
        }
    }
}

/// (resident user frames, free swap slots, all swap slots), for the power-off figures.
pub fn stats() -> (usize, usize, usize) {
    let (free, all) = swap::stats();
    (frame::count(), free, all)
}
