//! The hardware layer: everything that needs `unsafe` lives here, behind safe functions
//! (the rest of the kernel is `#![deny(unsafe_code)]`).
//!
//! - `boot`: the 32-bit entry, boot page tables, long mode, SSE;
//! - `io`: port I/O, physical memory through the KERN_BASE map;
//! - `cpu`: interrupt flag, HLT, control registers;
//! - `gdt`: GDT and TSS (IST stacks);
//! - `intr`: the IDT, the entry stubs and the interrupt frame;
//! - `cell`: `IrqCell`, state shared with interrupt handlers;
//! - `context`: saved thread contexts and the context switch;
//! - `paging`: per-process page tables and checked user-memory copies;
//! - `user`: entering user mode and the `syscall` entry stub;
//! - `mem`: memcpy and friends, which the precompiled `core` calls;
//! - `backtrace`: the frame-pointer walk for panics.

pub mod backtrace;
pub mod boot;
pub mod cell;
pub mod context;
pub mod cpu;
pub mod gdt;
pub mod intr;
pub mod io;
pub mod mem;
pub mod paging;
pub mod selftest;
pub mod user;

/// Every address at or above this is kernel space; physical memory is mapped here.
pub const KERN_BASE: u64 = 0x80_0400_0000;
/// Bytes of physical memory the boot page tables map at KERN_BASE (480 2-MiB pages).
pub const BOOT_MAPPED: u64 = 480 << 21;

extern "C" {
    static __kernel_end: u8;
}

/// Kernel virtual address of the end of the kernel image (including .bss).
pub fn kernel_end() -> u64 {
    // Taking the address of an extern static is safe; it is never read.
    &raw const __kernel_end as u64
}
