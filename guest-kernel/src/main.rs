//! The Rust Pintos kernel.
//!
//! It boots from os.dsk (disk-images/boot/loader.S loads it to physical 0x200000 and
//! enters `arch::boot` in 32-bit mode) and follows Pintos-KAIST's conventions: the kernel
//! runs at KERN_BASE + physical address, reads its command line from the boot sector,
//! and talks through COM1 and the VGA text screen.
//!
//! Modules are named as in Pintos (`threads/`, `devices/`, later `userprog/`, `filesys/`,
//! `vm/`). Only `arch/` may use `unsafe`: it wraps the hardware in safe functions.

#![no_std]
#![no_main]
#![deny(unsafe_code)]

extern crate alloc;

#[allow(unsafe_code)]
pub mod arch;
#[macro_use]
pub mod console;
pub mod debug;
pub mod devices;
pub mod filesys;
pub mod tests;
pub mod threads;
pub mod userprog;
pub mod vm;
