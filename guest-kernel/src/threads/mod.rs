//! Boot, interrupts, memory allocation, threads and synchronisation.

pub mod init;
pub mod interrupt;
#[allow(unsafe_code)] // A heap allocator hands out raw memory; see the module docs.
pub mod malloc;
pub mod fixed_point;
pub mod palloc;
pub mod synch;
pub mod thread;
