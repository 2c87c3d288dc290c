//! The page allocator. Free memory (from the end of the kernel image to the end of the
//! E820 extended memory) is split in two halves, as in Pintos: the kernel pool (for the
//! kernel's own data and the heap) and the user pool (for user pages), so user programs
//! can't starve the kernel.
//!
//! One bitmap covers all free pages; each pool is a range of it. Allocation is first fit
//! over contiguous runs.
//!
//! The kernel pool keeps a reserve of `KERNEL_RESERVE` pages that only the heap may use
//! (`heap_pages`): every other kernel-pool allocation (page tables, thread stacks) fails
//! when it would dip into it, and those allocations are all fallible. Heap allocations
//! cannot fail gracefully (`alloc` aborts), so the kernel paths a user program can drive
//! to allocate heap memory (fork, open, dup2) check `kernel_low()` first and fail with
//! -1; each of them then uses far less heap than the reserve, and the kernel never runs
//! out of heap.
//!
//! Several forks can be under way at once (a child copying its parent sleeps on the disk,
//! and other processes fork meanwhile), each having passed the check before any of them
//! used its heap. So a fork also claims `FORK_HEAP_PAGES` for as long as its child copies
//! (`claim_heap`): claimed pages count as taken both for the check and for the non-heap
//! allocations, and the reserve stays whole for everything else.

use crate::arch::cell::IrqCell;
use crate::arch::io::{ptov, read_phys, vtop};
use crate::arch::{self, BOOT_MAPPED};

pub const PGSIZE: u64 = 4096;
/// Kernel-pool pages only the heap may take (see the module docs): far more than one
/// fork (the largest user-driven heap use: a full 512-entry fd table) needs.
pub const KERNEL_RESERVE: usize = 64;
/// Pages a fork claims while its child copies the parent (see the module docs): more
/// than a copy of the largest fd table and the process's records take.
pub const FORK_HEAP_PAGES: usize = 32;
/// Pages the bitmap can describe: all of the boot map.
const MAX_PAGES: usize = (BOOT_MAPPED / PGSIZE) as usize;

/// Where the boot sector left the multiboot-style E820 block.
const MB_INFO: u64 = 0x7000;
const E820_USABLE: u32 = 1;
const E820_ACPI_RECLAIMABLE: u32 = 3;

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Pool {
    Kernel,
    User,
}

#[derive(Clone, Copy, Default)]
struct Range {
    first: usize,
    end: usize,
}

struct Pages {
    /// Physical address of page 0 of the bitmap.
    base: u64,
    used: [u64; MAX_PAGES / 64],
    kernel: Range,
    user: Range,
    /// Free pages in each pool.
    kernel_free: usize,
    user_free: usize,
    /// Kernel-pool pages claimed for the heap by calls under way (`claim_heap`).
    claimed: usize,
}

static PAGES: IrqCell<Pages> = IrqCell::new(Pages {
    base: 0,
    used: [0; MAX_PAGES / 64],
    kernel: Range { first: 0, end: 0 },
    user: Range { first: 0, end: 0 },
    kernel_free: 0,
    user_free: 0,
    claimed: 0,
});

/// Physical memory areas found in the E820 map: (start, end) below and above 1 MiB.
#[derive(Clone, Copy, Debug, Default)]
pub struct MemInfo {
    pub base_mem: (u64, u64),
    pub ext_mem: (u64, u64),
}

fn read_u32(pa: u64) -> u32 {
    let mut b = [0; 4];
    read_phys(pa, &mut b);
    u32::from_le_bytes(b)
}

fn read_u64(pa: u64) -> u64 {
    let mut b = [0; 8];
    read_phys(pa, &mut b);
    u64::from_le_bytes(b)
}

/// Reads the E820 map, printing each usable area (base ~ end type).
fn resolve_areas() -> MemInfo {
    let flags = read_u32(MB_INFO);
    assert!(flags & 0x40 != 0, "the boot loader left no memory map");
    let len = read_u32(MB_INFO + 0x2c) as u64;
    let addr = read_u32(MB_INFO + 0x30) as u64;
    let mut info = MemInfo { base_mem: (u64::MAX, 0), ext_mem: (u64::MAX, 0) };
    let mut e = addr;
    while e < addr + len {
        // Each entry: u32 size, u64 base, u64 length, u32 type.
        let (base, length, kind) = (read_u64(e + 4), read_u64(e + 12), read_u32(e + 20));
        if kind == E820_USABLE || kind == E820_ACPI_RECLAIMABLE {
            println!("{:x} ~ {:x} {}", base, base + length, kind);
            let area = if base < 0x10_0000 { &mut info.base_mem } else { &mut info.ext_mem };
            area.0 = area.0.min(base);
            area.1 = area.1.max(base + length);
        }
        e += 24;
    }
    for a in [&mut info.base_mem, &mut info.ext_mem] {
        if a.0 > a.1 {
            *a = (0, 0);
        }
    }
    info
}

/// Sets up the pools; `user_page_limit` caps the user pool (the `-ul` option).
pub fn init(user_page_limit: usize) -> MemInfo {
    let info = resolve_areas();
    println!("Pintos booting with: ");
    for (name, (s, e)) in [("base_mem", info.base_mem), ("ext_mem", info.ext_mem)] {
        println!("\t{name}: {s:#x} ~ {e:#x} (Usable: {} kB)", super::init::thousands((e - s) / 1024));
    }
    let kernel_end = (vtop(arch_kernel_end()) + PGSIZE - 1) & !(PGSIZE - 1);
    let free_end = info.ext_mem.1.min(BOOT_MAPPED) & !(PGSIZE - 1);
    let pages = (free_end.saturating_sub(kernel_end) / PGSIZE) as usize;
    let user = (pages / 2).min(user_page_limit);
    PAGES.with(|p| {
        p.base = kernel_end;
        p.kernel = Range { first: 0, end: pages - user };
        p.user = Range { first: pages - user, end: pages };
        p.kernel_free = pages - user;
        p.user_free = user;
    });
    info
}

fn arch_kernel_end() -> u64 {
    arch::kernel_end()
}

/// Allocates `n` contiguous pages from `pool`, zeroed if `zero`. Returns their kernel
/// virtual address. Kernel-pool allocations leave the heap's reserve alone.
pub fn get_multiple(pool: Pool, n: usize, zero: bool) -> Option<u64> {
    let keep = if pool == Pool::Kernel { KERNEL_RESERVE + PAGES.with(|p| p.claimed) } else { 0 };
    allocate(pool, n, zero, keep)
}

/// `n` contiguous kernel-pool pages for the heap, which may use the reserve.
pub(super) fn heap_pages(n: usize) -> Option<u64> {
    allocate(Pool::Kernel, n, false, 0)
}

/// Whether the kernel pool is down to its reserve: calls that a user program can repeat
/// to grow the heap (fork, open, dup2) then fail.
pub fn kernel_low() -> bool {
    PAGES.with(|p| p.kernel_free <= KERNEL_RESERVE + p.claimed)
}

/// Kernel-pool pages set aside for a call's heap use while it is under way; released on
/// drop.
pub struct HeapClaim {
    pages: usize,
}

/// Claims `pages` for the heap if the kernel pool has them beyond the reserve and every
/// other claim; None when memory is low (the caller then fails cleanly).
pub fn claim_heap(pages: usize) -> Option<HeapClaim> {
    PAGES.with(|p| {
        if p.kernel_free <= KERNEL_RESERVE + p.claimed + pages {
            return None;
        }
        p.claimed += pages;
        Some(HeapClaim { pages })
    })
}

impl Drop for HeapClaim {
    fn drop(&mut self) {
        PAGES.with(|p| p.claimed -= self.pages);
    }
}

/// Allocates `n` contiguous pages of `pool` if more than `keep` pages stay free.
fn allocate(pool: Pool, n: usize, zero: bool, keep: usize) -> Option<u64> {
    if n == 0 {
        return None;
    }
    let pa = PAGES.with(|p| {
        let (r, free) = if pool == Pool::Kernel { (p.kernel, p.kernel_free) } else { (p.user, p.user_free) };
        if free < n + keep {
            return None;
        }
        let mut run = 0;
        let mut i = r.first;
        while i < r.end {
            // Skip whole words of used pages.
            if i % 64 == 0 && p.used[i / 64] == u64::MAX {
                run = 0;
                i += 64;
                continue;
            }
            if p.used[i / 64] & (1 << (i % 64)) != 0 {
                run = 0;
                i += 1;
                continue;
            }
            run += 1;
            if run == n {
                let first = i + 1 - n;
                for j in first..=i {
                    p.used[j / 64] |= 1 << (j % 64);
                }
                if pool == Pool::Kernel {
                    p.kernel_free -= n;
                } else {
                    p.user_free -= n;
                }
                return Some(p.base + first as u64 * PGSIZE);
            }
            i += 1;
        }
        None
    })?;
    if zero {
        arch::io::zero_phys_pages(pa, n as u64);
    }
    Some(ptov(pa))
}

pub fn get_page(pool: Pool, zero: bool) -> Option<u64> {
    get_multiple(pool, 1, zero)
}

/// Frees `n` pages at kernel virtual address `va`, which `get_multiple` returned.
pub fn free_multiple(va: u64, n: usize) {
    assert!(va % PGSIZE == 0, "freeing an unaligned page {va:#x}");
    PAGES.with(|p| {
        let first = ((vtop(va) - p.base) / PGSIZE) as usize;
        for j in first..first + n {
            assert!(j < p.user.end && p.used[j / 64] & (1 << (j % 64)) != 0, "freeing a free page {va:#x}");
            p.used[j / 64] &= !(1 << (j % 64));
        }
        if first < p.kernel.end {
            p.kernel_free += n;
        } else {
            p.user_free += n;
        }
    });
}

pub fn free_page(va: u64) {
    free_multiple(va, 1)
}

/// Free pages in each pool: (kernel, user).
pub fn free_counts() -> (usize, usize) {
    PAGES.with(|p| (p.kernel_free, p.user_free))
}
