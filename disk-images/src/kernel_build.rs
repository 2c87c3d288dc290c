//! Building the guest kernel and a boot disk around it. Shared by the build script
//! (`build.rs` includes this file: the product os.dsk, on every host build) and by
//! [`crate::build_variant`] (a kernel built with cargo features, only when a test asks).
//!
//! The kernel is a `#![no_std]` crate built for the host target with a linker script, by
//! a nested `cargo build` with its own target directory and RUSTFLAGS. It is not a
//! workspace member: built for the host as a normal binary it would not link.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Where the boot sector keeps the kernel's length in sectors (see boot/loader.S).
pub const KERNEL_SECTORS_OFFSET: usize = 0x176;
/// The only target whose `core` is installed; the kernel is linked for the bare machine
/// by its linker script.
const TRIPLE: &str = "x86_64-unknown-linux-gnu";

/// Runs `cmd`; an error names `what`.
pub fn run(cmd: &mut Command, what: &str) -> io::Result<()> {
    let status = cmd.status().map_err(|e| io::Error::new(e.kind(), format!("building os.dsk needs `{what}`: {e}")))?;
    if !status.success() {
        return Err(io::Error::other(format!("`{what}` failed while building os.dsk ({status})")));
    }
    Ok(())
}

/// Builds the kernel of `kernel_dir` (guest-kernel/) with `cargo` in release mode, with
/// the cargo `features` given, into `target_dir`; returns the path of the linked ELF.
pub fn build_kernel(cargo: &str, kernel_dir: &Path, target_dir: &Path, features: &[&str]) -> io::Result<PathBuf> {
    let flags = [
        "-Clink-arg=-nostartfiles".to_string(),
        "-Clink-arg=-static".into(),
        "-Clink-arg=-no-pie".into(),
        "-Clink-arg=-Wl,--gc-sections".into(),
        format!("-Clink-arg=-Wl,-T,{}", kernel_dir.join("kernel.ld").display()),
        // The interrupt path is built for this (see guest-kernel/src/arch/intr.rs).
        "-Cno-redzone=yes".into(),
        // Panic backtraces walk the frame-pointer chain.
        "-Cforce-frame-pointers=yes".into(),
    ];
    let mut cmd = Command::new(cargo);
    cmd.args(["build", "--release", "--target", TRIPLE, "--manifest-path"]).arg(kernel_dir.join("Cargo.toml")).arg("--target-dir").arg(target_dir).env("CARGO_ENCODED_RUSTFLAGS", flags.join("\x1f"));
    if !features.is_empty() {
        cmd.arg("--features").arg(features.join(","));
    }
    // Settings of the outer build that must not leak into the kernel's.
    for var in ["RUSTFLAGS", "CARGO_BUILD_RUSTFLAGS", "CARGO_TARGET_DIR", "CARGO_BUILD_TARGET", "RUSTC_WORKSPACE_WRAPPER", "CARGO_PRIMARY_PACKAGE"] {
        cmd.env_remove(var);
    }
    run(&mut cmd, "cargo build (guest-kernel)")?;
    Ok(target_dir.join(TRIPLE).join("release/kernel"))
}

/// Writes the flat image of `elf` (loaded at 0x200000) to `bin`.
pub fn flat_kernel(elf: &Path, bin: &Path) -> io::Result<()> {
    run(Command::new("objcopy").args(["-O", "binary"]).arg(elf).arg(bin), "objcopy")
}

/// os.dsk: the boot sector `loader` with the kernel's length patched in, then the flat
/// `kernel` padded to a whole sector.
pub fn os_disk(loader: &[u8], kernel: &[u8]) -> io::Result<Vec<u8>> {
    if loader.len() != 512 || loader[510..] != [0x55, 0xaa] {
        return Err(io::Error::other("the boot sector must be 512 bytes ending in 55 aa"));
    }
    let mut disk = loader.to_vec();
    let mut kernel = kernel.to_vec();
    kernel.resize(kernel.len().div_ceil(512) * 512, 0);
    let sectors = (kernel.len() / 512) as u32;
    disk[KERNEL_SECTORS_OFFSET..KERNEL_SECTORS_OFFSET + 4].copy_from_slice(&sectors.to_le_bytes());
    disk.extend_from_slice(&kernel);
    Ok(disk)
}

/// Writes `data` to `dir/name` through a temporary file renamed into place, so a
/// concurrent reader (a test booting it) never sees half of it.
pub fn install(dir: &Path, name: &str, data: &[u8]) -> io::Result<()> {
    fs::create_dir_all(dir)?;
    let tmp = dir.join(format!("{name}.{}", std::process::id()));
    fs::write(&tmp, data)?;
    fs::rename(&tmp, dir.join(name))
}

/// The outer build's target directory, from a path inside it: the nearest ancestor that
/// cargo marked with CACHEDIR.TAG (target/ or CARGO_TARGET_DIR), else None.
pub fn target_dir_of(inside: &Path) -> Option<PathBuf> {
    inside.ancestors().find(|d| d.join("CACHEDIR.TAG").is_file()).map(Path::to_path_buf)
}
