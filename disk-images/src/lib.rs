//! The disk images the machine boots, built by this crate's build script during the host
//! build (see build.rs): os.dsk = our boot sector (boot/loader.S) + the Rust Pintos kernel
//! (guest-kernel/). `cargo build` also copies os.dsk to `target/pintos/os.dsk`, where the
//! `pintos` launcher finds it when there is no `./os.dsk`. [`build_variant`] builds, on
//! demand, a kernel with cargo features (the deliberately broken one for testing the
//! grader), by the same steps (`src/kernel_build.rs`, which the build script includes).

/// The boot disk: boot sector (with an empty kernel command line) + kernel.
pub const OS_DSK: &str = env!("DISK_IMAGES_OS_DSK");
/// The kernel ELF, with symbols and line tables: `addr2line -f -e KERNEL_ELF ADDR...`
/// turns a panic's "Call stack" into functions and lines.
pub const KERNEL_ELF: &str = env!("DISK_IMAGES_KERNEL_ELF");
/// The 512-byte boot sector alone.
pub const LOADER_BIN: &str = env!("DISK_IMAGES_LOADER_BIN");

mod kernel_build;

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The guest kernel's source directory (guest-kernel/).
const KERNEL_DIR: &str = env!("DISK_IMAGES_KERNEL_DIR");

/// Builds a variant of the kernel with the cargo `features` of guest-kernel (at least
/// one; e.g. `&["broken"]`, the deliberate bugs of `guest-kernel/src/vm/broken.rs`) and
/// returns the path of its boot disk, `<target>/pintos-NAME/os.dsk` (with `kernel.elf`
/// next to it for addr2line), NAME being the features joined by `-`. The kernel is built
/// in `<target>/guest-kernel-NAME` by the same steps as [`OS_DSK`]'s, with the same boot
/// sector, only when this is called (never by `cargo build`): a few minutes the first
/// time, a no-op cargo run after. Calls in one process are serialised; builds from
/// several processes share cargo's lock on that directory.
pub fn build_variant(features: &[&str]) -> io::Result<PathBuf> {
    static BUILDING: Mutex<()> = Mutex::new(());
    if features.is_empty() || features.iter().any(|f| f.is_empty() || !f.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')) {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, format!("bad kernel features {features:?}")));
    }
    let _one = BUILDING.lock().unwrap_or_else(|e| e.into_inner());
    let name = features.join("-");
    let target = kernel_build::target_dir_of(Path::new(OS_DSK)).ok_or_else(|| io::Error::other(format!("no cargo target directory above {OS_DSK}")))?;
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let elf = kernel_build::build_kernel(&cargo, Path::new(KERNEL_DIR), &target.join(format!("guest-kernel-{name}")), features)?;
    let dir = target.join(format!("pintos-{name}"));
    std::fs::create_dir_all(&dir)?;
    let bin = dir.join(format!("kernel.bin.{}", std::process::id()));
    kernel_build::flat_kernel(&elf, &bin)?;
    let kernel = std::fs::read(&bin);
    std::fs::remove_file(&bin)?;
    let disk = kernel_build::os_disk(&std::fs::read(LOADER_BIN)?, &kernel?)?;
    kernel_build::install(&dir, "kernel.elf", &std::fs::read(&elf)?)?;
    kernel_build::install(&dir, "os.dsk", &disk)?;
    Ok(dir.join("os.dsk"))
}
