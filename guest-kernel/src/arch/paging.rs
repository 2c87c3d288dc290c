//! Per-process page tables (4-level, 4 KiB pages) and checked access to user memory.
//!
//! A `PageTable` owns its PML4 and its lower-level tables (from the kernel pool). The
//! user frames it maps belong to the virtual-memory layer (`vm::frame`), which maps and
//! unmaps them and frees them; the table never frees a frame. User space is PML4 slot 0
//! (virtual 0..512 GiB, below `USER_LIMIT`); slot 1, which holds KERN_BASE, is copied
//! from the boot PML4 so the kernel stays mapped in every address space.
//!
//! The kernel never dereferences a user pointer: `copy_in`/`copy_out` translate each user
//! page through the table and copy through the frame's KERN_BASE alias, so a page that
//! is not present is an `Err` naming it (the VM layer then loads it and retries, or kills
//! the process) and never a kernel page fault (KeOS' `uaccess` idea).

use core::arch::asm;

use super::io::{ptov, vtop};
use crate::threads::palloc::{self, Pool, PGSIZE};

/// User virtual addresses are below this (PML4 slot 0).
pub const USER_LIMIT: u64 = 1 << 39;
/// Physical address of the boot PML4 (`arch::boot`), used by threads with no process.
const BOOT_PML4: u64 = 0x1000;

const PRESENT: u64 = 1;
const WRITABLE: u64 = 2;
const USER: u64 = 4;
const ACCESSED: u64 = 0x20;
const DIRTY: u64 = 0x40;
const ADDR_MASK: u64 = 0x000f_ffff_ffff_f000;

/// A user address that is not mapped (or not writable, for a write): the address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadAddress(pub u64);

/// What `unmap` found in a page's entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unmapped {
    /// Kernel address of the frame.
    pub frame: u64,
    pub dirty: bool,
}

/// A user address space. Dropping it frees every table and mapped frame.
pub struct PageTable {
    /// Kernel virtual address of the PML4 page.
    pml4: u64,
}

fn entry(table_kva: u64, index: u64) -> u64 {
    assert!(index < 512);
    // SAFETY: `table_kva` is a page-table page owned by a `PageTable` (or the boot PML4),
    // mapped at KERN_BASE; the index is in range.
    unsafe { ((table_kva + index * 8) as *const u64).read_volatile() }
}

fn set_entry(table_kva: u64, index: u64, value: u64) {
    assert!(index < 512);
    // SAFETY: as for `entry`; only tables the caller owns are written.
    unsafe { ((table_kva + index * 8) as *mut u64).write_volatile(value) }
}

impl PageTable {
    /// A new address space with no user mappings, or None when out of kernel pages.
    pub fn new() -> Option<PageTable> {
        let pml4 = palloc::get_page(Pool::Kernel, true)?;
        set_entry(pml4, 1, entry(ptov(BOOT_PML4), 1));
        Some(PageTable { pml4 })
    }

    /// Physical address of the PML4 (for CR3).
    pub fn root(&self) -> u64 {
        vtop(self.pml4)
    }

    /// The PTE slot (table kva, index) of `va`, creating missing tables if `create`.
    fn pte(&self, va: u64, create: bool) -> Option<(u64, u64)> {
        if va >= USER_LIMIT {
            return None;
        }
        let mut table = self.pml4;
        for level in [39u64, 30, 21] {
            let i = (va >> level) & 511;
            let e = entry(table, i);
            if e & PRESENT == 0 {
                if !create {
                    return None;
                }
                let page = palloc::get_page(Pool::Kernel, true)?;
                set_entry(table, i, vtop(page) | PRESENT | WRITABLE | USER);
                table = page;
            } else {
                table = ptov(e & ADDR_MASK);
            }
        }
        Some((table, (va >> 12) & 511))
    }

    /// Maps the user page at `va` to the frame at kernel address `frame` (a whole page
    /// from `palloc` that the table now owns). False if `va` is not a user page address,
    /// is already mapped, or a table could not be allocated.
    pub fn map(&mut self, va: u64, frame: u64, writable: bool) -> bool {
        if !va.is_multiple_of(PGSIZE) || !frame.is_multiple_of(PGSIZE) {
            return false;
        }
        match self.pte(va, true) {
            Some((t, i)) if entry(t, i) & PRESENT == 0 => {
                set_entry(t, i, vtop(frame) | PRESENT | USER | if writable { WRITABLE } else { 0 });
                true
            }
            _ => false,
        }
    }

    /// Removes the mapping of the page at `va` (the frame stays with its owner); None if
    /// it was not mapped.
    pub fn unmap(&mut self, va: u64) -> Option<Unmapped> {
        let (t, i) = self.pte(va, false)?;
        let e = entry(t, i);
        if e & PRESENT == 0 {
            return None;
        }
        set_entry(t, i, 0);
        self.flush(va);
        Some(Unmapped { frame: ptov(e & ADDR_MASK), dirty: e & DIRTY != 0 })
    }

    /// Makes the mapped page at `va` writable or read-only.
    pub fn set_writable(&mut self, va: u64, writable: bool) {
        if let Some((t, i)) = self.pte(va, false) {
            let e = entry(t, i);
            if e & PRESENT != 0 {
                set_entry(t, i, if writable { e | WRITABLE } else { e & !WRITABLE });
                self.flush(va);
            }
        }
    }

    /// Whether the page at `va` was accessed since the bit was last cleared; clears it.
    pub fn test_and_clear_accessed(&mut self, va: u64) -> bool {
        let Some((t, i)) = self.pte(va, false) else { return false };
        let e = entry(t, i);
        if e & PRESENT == 0 || e & ACCESSED == 0 {
            return false;
        }
        set_entry(t, i, e & !ACCESSED);
        self.flush(va);
        true
    }

    /// Whether the page at `va` is mapped and was written since it was mapped.
    pub fn is_dirty(&self, va: u64) -> bool {
        self.pte(va, false).is_some_and(|(t, i)| entry(t, i) & (PRESENT | DIRTY) == PRESENT | DIRTY)
    }

    /// Drops a stale translation of `va` if this is the active address space (others
    /// have none: every CR3 load flushes the user translations).
    fn flush(&self, va: u64) {
        if super::cpu::cr3() & ADDR_MASK == self.root() {
            // SAFETY: invlpg only drops a cached translation.
            unsafe { asm!("invlpg [{}]", in(reg) va, options(nostack, preserves_flags)) }
        }
    }

    /// Kernel address of the byte user address `va` maps to, and whether it is writable.
    pub fn translate(&self, va: u64) -> Option<(u64, bool)> {
        let (t, i) = self.pte(va, false)?;
        let e = entry(t, i);
        (e & PRESENT != 0 && e & USER != 0).then(|| (ptov(e & ADDR_MASK) + va % PGSIZE, e & WRITABLE != 0))
    }

    /// Copies user memory at `va` into `buf`; Err(the first address not mapped) if any
    /// byte is not, with the bytes before it copied.
    pub fn copy_in(&self, va: u64, buf: &mut [u8]) -> Result<(), BadAddress> {
        let mut done = 0;
        while done < buf.len() {
            let at = va.checked_add(done as u64).ok_or(BadAddress(u64::MAX))?;
            let (k, _) = self.translate(at).ok_or(BadAddress(at))?;
            let n = ((PGSIZE - at % PGSIZE) as usize).min(buf.len() - done);
            // SAFETY: [k, k+n) lies in one user frame this table owns (mapped at
            // KERN_BASE), which no Rust object aliases; `buf` is a distinct kernel buffer.
            unsafe { core::ptr::copy_nonoverlapping(k as *const u8, buf[done..].as_mut_ptr(), n) };
            done += n;
        }
        Ok(())
    }

    /// Copies `data` to user memory at `va`; Err(the first address not mapped, or not
    /// writable) if any byte is not, with the bytes before it copied.
    pub fn copy_out(&self, va: u64, data: &[u8]) -> Result<(), BadAddress> {
        let mut done = 0;
        while done < data.len() {
            let at = va.checked_add(done as u64).ok_or(BadAddress(u64::MAX))?;
            let (k, w) = self.translate(at).ok_or(BadAddress(at))?;
            if !w {
                return Err(BadAddress(at));
            }
            let n = ((PGSIZE - at % PGSIZE) as usize).min(data.len() - done);
            // SAFETY: as in `copy_in`, in the other direction.
            unsafe { core::ptr::copy_nonoverlapping(data[done..].as_ptr(), k as *mut u8, n) };
            done += n;
        }
        Ok(())
    }

    /// Loads this address space into CR3.
    pub fn activate(&self) {
        load_cr3(self.root());
    }
}

/// Loads CR3 with `root` (a PML4 physical address), or the boot tables for 0.
pub fn load_cr3(root: u64) {
    let root = if root == 0 { BOOT_PML4 } else { root };
    // SAFETY: `root` is the boot PML4 or a live `PageTable`'s, both of which map the
    // kernel (slot 1) identically, so the running code and stack stay mapped.
    unsafe { asm!("mov cr3, {}", in(reg) root, options(nostack, preserves_flags)) }
}

/// Frees the table at `table` (level 4 = PML4) and the tables under it; frames stay.
fn free_level(table: u64, level: u32) {
    if level > 1 {
        let count = if level == 4 { 1 } else { 512 };
        for i in 0..count {
            let e = entry(table, i);
            if e & PRESENT != 0 {
                free_level(ptov(e & ADDR_MASK), level - 1);
            }
        }
    }
    palloc::free_page(table);
}

impl Drop for PageTable {
    fn drop(&mut self) {
        // Must not be the active address space.
        let cr3 = super::cpu::cr3() & ADDR_MASK;
        assert!(cr3 != self.root(), "dropping the active page table");
        free_level(self.pml4, 4);
    }
}

/// For the kernel's own tests: reads (or, if `write`, rewrites) the byte at user address
/// `va` through `pt`, as a user access would, so the hardware sets the page's accessed
/// (and dirty) bits. Returns the byte. The page must be mapped (writable for a write) to
/// a frame the caller owns.
pub fn probe_user(pt: &PageTable, va: u64, write: bool) -> u8 {
    let (_, writable) = pt.translate(va).expect("probe_user: page not mapped");
    assert!(writable || !write, "probe_user: write to a read-only page");
    let old = super::cpu::cr3();
    super::cpu::without_interrupts(|| {
        load_cr3(pt.root());
        // SAFETY: `va` is mapped in the active table (checked above) to a frame the caller
        // owns, with no Rust reference to it; the kernel may read and write user pages
        // (no SMAP). Interrupts are off, so nothing runs on this table meanwhile.
        let b = unsafe {
            let p = va as *mut u8;
            let b = p.read_volatile();
            if write {
                p.write_volatile(b);
            }
            b
        };
        load_cr3(old & ADDR_MASK);
        b
    })
}
