//! Per-process page tables (4-level, 4 KiB pages) and checked access to user memory.
//!
//! A `PageTable` owns its PML4, its lower-level tables and every user frame it maps, all
//! allocated from `palloc` (tables from the kernel pool, frames from whichever pool the
//! caller chose; the table only frees them). User space is PML4 slot 0 (virtual
//! 0..512 GiB, below `USER_LIMIT`); slot 1, which holds KERN_BASE, is copied from the
//! boot PML4 so the kernel stays mapped in every address space.
//!
//! The kernel never dereferences a user pointer: `copy_in`/`copy_out` translate each user
//! page through the table and copy through the frame's KERN_BASE alias, so a bad user
//! pointer is an `Err` and never a kernel page fault (KeOS' `uaccess` idea).

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
const ADDR_MASK: u64 = 0x000f_ffff_ffff_f000;

/// A user address that is not mapped (or not writable, for a write).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadAddress;

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

    /// Makes the mapped page at `va` writable.
    pub fn set_writable(&mut self, va: u64) {
        if let Some((t, i)) = self.pte(va, false) {
            let e = entry(t, i);
            if e & PRESENT != 0 {
                set_entry(t, i, e | WRITABLE);
            }
        }
    }

    /// Kernel address of the byte user address `va` maps to, and whether it is writable.
    pub fn translate(&self, va: u64) -> Option<(u64, bool)> {
        let (t, i) = self.pte(va, false)?;
        let e = entry(t, i);
        (e & PRESENT != 0 && e & USER != 0).then(|| (ptov(e & ADDR_MASK) + va % PGSIZE, e & WRITABLE != 0))
    }

    /// Copies user memory at `va` into `buf`; Err if any byte is not mapped.
    pub fn copy_in(&self, va: u64, buf: &mut [u8]) -> Result<(), BadAddress> {
        let mut done = 0;
        while done < buf.len() {
            let at = va.checked_add(done as u64).ok_or(BadAddress)?;
            let (k, _) = self.translate(at).ok_or(BadAddress)?;
            let n = ((PGSIZE - at % PGSIZE) as usize).min(buf.len() - done);
            // SAFETY: [k, k+n) lies in one user frame this table owns (mapped at
            // KERN_BASE), which no Rust object aliases; `buf` is a distinct kernel buffer.
            unsafe { core::ptr::copy_nonoverlapping(k as *const u8, buf[done..].as_mut_ptr(), n) };
            done += n;
        }
        Ok(())
    }

    /// Copies `data` to user memory at `va`; Err if any byte is not mapped, or not
    /// writable unless `force` (the loader fills read-only segments).
    pub fn copy_out(&self, va: u64, data: &[u8], force: bool) -> Result<(), BadAddress> {
        let mut done = 0;
        while done < data.len() {
            let at = va.checked_add(done as u64).ok_or(BadAddress)?;
            let (k, w) = self.translate(at).ok_or(BadAddress)?;
            if !w && !force {
                return Err(BadAddress);
            }
            let n = ((PGSIZE - at % PGSIZE) as usize).min(data.len() - done);
            // SAFETY: as in `copy_in`, in the other direction.
            unsafe { core::ptr::copy_nonoverlapping(data[done..].as_ptr(), k as *mut u8, n) };
            done += n;
        }
        Ok(())
    }

    /// A copy of this address space: every user page copied into a fresh user-pool
    /// frame with the same writability (fork). None when out of memory (what was
    /// copied is freed).
    pub fn duplicate(&self) -> Option<PageTable> {
        let mut child = PageTable::new()?;
        copy_level(self.pml4, 4, 0, &mut child).then_some(child)
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

/// Copies every present user page under `table` (a level-`level` table covering
/// addresses from `base`) into `child`; false when out of memory.
fn copy_level(table: u64, level: u32, base: u64, child: &mut PageTable) -> bool {
    let shift = 12 + 9 * (level as u64 - 1);
    // Only PML4 slot 0 is user space.
    let n = if level == 4 { 1 } else { 512 };
    for i in 0..n {
        let e = entry(table, i);
        if e & PRESENT == 0 {
            continue;
        }
        let va = base + (i << shift);
        let next = ptov(e & ADDR_MASK);
        if level > 1 {
            if !copy_level(next, level - 1, va, child) {
                return false;
            }
            continue;
        }
        let Some(frame) = palloc::get_page(Pool::User, false) else { return false };
        // SAFETY: `next` is a user frame owned by the parent's table and `frame` a fresh
        // page from palloc, both whole pages mapped at KERN_BASE and distinct.
        unsafe { core::ptr::copy_nonoverlapping(next as *const u8, frame as *mut u8, PGSIZE as usize) };
        if !child.map(va, frame, e & WRITABLE != 0) {
            palloc::free_page(frame);
            return false;
        }
    }
    true
}

fn free_level(table: u64, level: u32) {
    let count = if level == 4 { 1 } else { 512 };
    for i in 0..count {
        let e = entry(table, i);
        if e & PRESENT != 0 {
            let child = ptov(e & ADDR_MASK);
            if level > 1 {
                free_level(child, level - 1);
            } else {
                palloc::free_page(child);
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
