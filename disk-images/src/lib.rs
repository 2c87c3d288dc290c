//! The disk images the machine boots, built by this crate's build script during the host
//! build (see build.rs): os.dsk = our boot sector (boot/loader.S) + the Rust Pintos kernel
//! (guest-kernel/). `cargo build` also copies os.dsk to `target/pintos/os.dsk`, where the
//! `pintos` launcher finds it when there is no `./os.dsk`.

/// The boot disk: boot sector (with an empty kernel command line) + kernel.
pub const OS_DSK: &str = env!("DISK_IMAGES_OS_DSK");
/// The kernel ELF, with symbols and line tables: `addr2line -f -e KERNEL_ELF ADDR...`
/// turns a panic's "Call stack" into functions and lines.
pub const KERNEL_ELF: &str = env!("DISK_IMAGES_KERNEL_ELF");
/// The 512-byte boot sector alone.
pub const LOADER_BIN: &str = env!("DISK_IMAGES_LOADER_BIN");
