//! Boot, interrupts, memory allocation and (to come) threads and synchronisation.

pub mod init;
pub mod interrupt;
#[allow(unsafe_code)] // A heap allocator hands out raw memory; see the module docs.
pub mod malloc;
pub mod palloc;
