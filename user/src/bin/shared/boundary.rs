// Buffers that straddle a page boundary (Pintos' `tests/userprog/boundary.c` behaviour),
// for the *-boundary and create-bound programs: system-call arguments that cross from one
// user page to the next must work.

use core::ptr::addr_of_mut;

const PAGE: usize = 4096;

/// Static room around the boundary: at least 2 KiB usable on either side.
static mut AREA: [u8; 2 * PAGE] = [0; 2 * PAGE];

/// A pointer to a page boundary inside `AREA` with at least 2048 bytes of it on each side.
pub fn boundary_area() -> *mut u8 {
    let base = addr_of_mut!(AREA) as *mut u8 as usize;
    let mut p = (base + PAGE - 1) & !(PAGE - 1);
    if p - base < PAGE / 2 {
        p += PAGE;
    }
    p as *mut u8
}

/// Copies `src` (a string without NUL, at most 2 KiB) so that it straddles a page
/// boundary, NUL-terminated, and returns the copy.
pub fn copy_across_boundary(src: &[u8]) -> *mut u8 {
    // SAFETY: `boundary_area` leaves 2 KiB on each side; `src` is shorter than that.
    unsafe {
        let p = boundary_area().sub(src.len() / 2);
        core::ptr::copy_nonoverlapping(src.as_ptr(), p, src.len());
        *p.add(src.len()) = 0;
        p
    }
}
