// Access to user memory at fixed addresses for the mmap tests: the mapped regions are
// not Rust objects, so the tests reach them through raw pointers.

/// Where most of the mmap tests map their file.
#[allow(dead_code)]
pub const MAP_ADDR: usize = 0x1000_0000;

/// The `len` bytes at `addr` as a slice.
///
/// # Safety
/// The range must be mapped (or the test must expect the access to kill it), and nothing
/// else may hold a reference into it.
#[allow(dead_code)]
pub unsafe fn region(addr: usize, len: usize) -> &'static mut [u8] {
    unsafe { core::slice::from_raw_parts_mut(addr as *mut u8, len) }
}

/// Reads the 32-bit little-endian word at `addr` with a real load (a test that expects the
/// load to fault needs it to happen).
#[allow(dead_code)]
pub fn load_i32(addr: usize) -> i32 {
    // SAFETY: none needed beyond what the caller tests; a fault ends the process.
    unsafe { core::ptr::read_volatile(addr as *const i32) }
}

/// Reads the byte at `addr` with a real load.
#[allow(dead_code)]
pub fn load_u8(addr: usize) -> u8 {
    // SAFETY: as for `load_i32`.
    unsafe { core::ptr::read_volatile(addr as *const u8) }
}

/// Stores `value` to `addr` with a real store.
#[allow(dead_code)]
pub fn store_i32(addr: usize, value: i32) {
    // SAFETY: as for `load_i32`.
    unsafe { core::ptr::write_volatile(addr as *mut i32, value) }
}

/// The index of the first byte of `bytes` that is not zero.
#[allow(dead_code)]
pub fn first_nonzero(bytes: &[u8]) -> Option<usize> {
    bytes.iter().position(|&b| b != 0)
}

/// Opens sample.txt and maps `len` bytes of it read-only at `addr`, checking both as the
/// tests do (`open "sample.txt"`, `mmap "sample.txt"`): (fd, the mapping).
#[allow(dead_code)]
pub fn map_sample(addr: usize, len: usize) -> (i32, *mut u8) {
    let fd = user::syscall::open(c"sample.txt");
    user::check!(fd > 1, "open \"sample.txt\"");
    // SAFETY: the tests map where nothing of theirs lives.
    let map = unsafe { user::syscall::mmap(addr as *mut u8, len, false, fd, 0) };
    user::check!(!map.is_null(), "mmap \"sample.txt\"");
    (fd, map)
}
