//! Port I/O and access to physical memory through the KERN_BASE map.
//!
//! The kernel runs at CPL 0 with IOPL 0, so every port is reachable. Port writes are
//! exposed as safe functions: the devices this kernel drives (PIC, PIT, UART, VGA CRTC,
//! IDE in PIO mode, power port) cannot write memory, so no port access breaks memory
//! safety. A driver for a DMA-capable device would need its own unsafe API.

use core::arch::asm;

use super::{BOOT_MAPPED, KERN_BASE};

#[inline]
pub fn outb(port: u16, value: u8) {
    // SAFETY: port I/O at CPL 0; see the module comment for why it is memory-safe.
    unsafe { asm!("out dx, al", in("dx") port, in("al") value, options(nomem, nostack, preserves_flags)) }
}

#[inline]
pub fn outw(port: u16, value: u16) {
    // SAFETY: as for `outb`.
    unsafe { asm!("out dx, ax", in("dx") port, in("ax") value, options(nomem, nostack, preserves_flags)) }
}

#[inline]
pub fn outl(port: u16, value: u32) {
    // SAFETY: as for `outb`.
    unsafe { asm!("out dx, eax", in("dx") port, in("eax") value, options(nomem, nostack, preserves_flags)) }
}

#[inline]
pub fn inb(port: u16) -> u8 {
    let value: u8;
    // SAFETY: as for `outb`; reads change only device state.
    unsafe { asm!("in al, dx", in("dx") port, out("al") value, options(nomem, nostack, preserves_flags)) }
    value
}

/// Reads `buf.len() / 2` words from `port` into `buf` (`rep insw`; x86 stores them
/// little-endian, so a device's byte stream lands in order).
pub fn insw(port: u16, buf: &mut [u8]) {
    assert!(buf.len().is_multiple_of(2), "insw of an odd byte count");
    // SAFETY: `rep insw` stores exactly `rcx` words at `rdi`, which is `buf`'s whole
    // length (DF is clear, as the ABI requires); the port read itself is as for `inb`.
    unsafe {
        asm!("rep insw", in("dx") port, inout("rdi") buf.as_mut_ptr() => _, inout("rcx") buf.len() / 2 => _,
             options(nostack, preserves_flags))
    }
}

/// Writes `buf` to `port` as `buf.len() / 2` words (`rep outsw`).
pub fn outsw(port: u16, buf: &[u8]) {
    assert!(buf.len().is_multiple_of(2), "outsw of an odd byte count");
    // SAFETY: `rep outsw` reads exactly `rcx` words from `rsi`, all inside `buf` (DF
    // clear); the port writes are as for `outb`.
    unsafe {
        asm!("rep outsw", in("dx") port, inout("rsi") buf.as_ptr() => _, inout("rcx") buf.len() / 2 => _,
             options(nostack, preserves_flags, readonly))
    }
}

/// Kernel virtual address of physical address `pa`.
pub const fn ptov(pa: u64) -> u64 {
    pa + KERN_BASE
}

/// Physical address of kernel virtual address `va`.
pub const fn vtop(va: u64) -> u64 {
    va - KERN_BASE
}

fn check_phys(pa: u64, len: u64) {
    assert!(pa.checked_add(len).is_some_and(|end| end <= BOOT_MAPPED), "physical access {pa:#x}+{len} outside the mapped memory");
}

/// Reads `buf.len()` bytes of physical memory at `pa`.
pub fn read_phys(pa: u64, buf: &mut [u8]) {
    check_phys(pa, buf.len() as u64);
    // SAFETY: the range is inside the KERN_BASE map (checked) and is plain RAM or ROM
    // (firmware data such as the boot sector and the E820 block); bytes have no invalid
    // values, and the copy does not overlap `buf` (a Rust object in the kernel image).
    unsafe { core::ptr::copy_nonoverlapping(ptov(pa) as *const u8, buf.as_mut_ptr(), buf.len()) }
}

/// Writes a 16-bit cell of the VGA text buffer (80 × 25 cells at physical 0xb8000).
pub fn vga_write_cell(index: usize, value: u16) {
    assert!(index < 80 * 25);
    // SAFETY: 0xb8000 + 2 * index is inside the VGA text buffer (checked), which is device
    // memory no Rust object lives in; volatile so the store is not elided.
    unsafe { core::ptr::write_volatile((ptov(0xb8000) as *mut u16).add(index), value) }
}

/// Reads a 16-bit cell of the VGA text buffer.
pub fn vga_read_cell(index: usize) -> u16 {
    assert!(index < 80 * 25);
    // SAFETY: as for `vga_write_cell`.
    unsafe { core::ptr::read_volatile((ptov(0xb8000) as *const u16).add(index)) }
}

/// Zeroes `n` pages of physical memory at `pa`. Only the page allocator calls it, on
/// pages it has just taken from its free pools (memory past the kernel image that no
/// Rust object lives in).
pub(crate) fn zero_phys_pages(pa: u64, n: u64) {
    check_phys(pa, n * 4096);
    assert!(pa >= vtop(super::kernel_end()), "zeroing the kernel image");
    // SAFETY: the range is mapped (checked), outside the kernel image (checked), and owned
    // by the caller (see above).
    unsafe { core::ptr::write_bytes(ptov(pa) as *mut u8, 0, (n * 4096) as usize) }
}

/// Runs `f` on the whole page at kernel address `kva`: a user frame that the caller owns
/// (the VM layer's, pinned or under its lock and mapped in no running address space), so
/// nothing else reads or writes it while `f` runs, even if `f` sleeps.
pub fn with_frame<R>(kva: u64, f: impl FnOnce(&mut [u8]) -> R) -> R {
    check_phys(vtop(kva), 4096);
    assert!(kva % 4096 == 0 && vtop(kva) >= vtop(super::kernel_end()), "not a frame: {kva:#x}");
    // SAFETY: a whole page inside the KERN_BASE map and outside the kernel image (both
    // checked), owned by the caller as described above, so this is the only reference.
    f(unsafe { core::slice::from_raw_parts_mut(kva as *mut u8, 4096) })
}

/// Copies the page at kernel address `from` to the page at `to` (two distinct frames the
/// caller owns, as for `with_frame`).
pub fn copy_frame(from: u64, to: u64) {
    assert!(from != to);
    with_frame(to, |dst| {
        check_phys(vtop(from), 4096);
        // SAFETY: `from` is a whole mapped page distinct from `to`, not written meanwhile
        // (the caller owns it); bytes have no invalid values.
        dst.copy_from_slice(unsafe { core::slice::from_raw_parts(from as *const u8, 4096) })
    })
}
