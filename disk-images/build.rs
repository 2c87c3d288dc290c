//! Builds os.dsk = our boot sector (boot/loader.S) + the guest kernel (../guest-kernel).
//!
//! The kernel is a `#![no_std]` crate built for the host target with a linker script, by
//! a nested `cargo build` with its own target directory (`<target>/guest-kernel`, shared
//! by every profile of the outer build, so switching between `cargo build` and
//! `cargo test` does not rebuild it) and its own RUSTFLAGS. It is not a workspace member:
//! built for the host as a normal binary it would not link.
//!
//! Outputs (paths reach the crate through env vars, see src/lib.rs): loader.bin,
//! kernel.elf (with symbols, for addr2line), kernel.bin (flat, loaded at 0x200000) and
//! os.dsk in OUT_DIR; os.dsk is also copied to `<target>/pintos/os.dsk`, where the
//! `pintos` launcher looks for it.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Where the boot sector keeps the kernel's length in sectors (see boot/loader.S).
const KERNEL_SECTORS_OFFSET: usize = 0x176;

fn run(cmd: &mut Command, what: &str) {
    let status = cmd.status().unwrap_or_else(|e| panic!("building os.dsk needs `{what}`: {e}"));
    if !status.success() {
        panic!("`{what}` failed while building os.dsk ({status})");
    }
}

/// The outer build's target directory: the nearest ancestor of OUT_DIR that cargo marked
/// with CACHEDIR.TAG (target/ or CARGO_TARGET_DIR), else OUT_DIR itself.
fn target_dir(out: &Path) -> PathBuf {
    out.ancestors().find(|d| d.join("CACHEDIR.TAG").is_file()).unwrap_or(out).to_path_buf()
}

fn main() {
    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let kernel_dir = manifest_dir.join("../guest-kernel").canonicalize().expect("guest-kernel/ next to disk-images/");
    let out = PathBuf::from(env::var("OUT_DIR").unwrap());
    let target = target_dir(&out);
    let loader_src = manifest_dir.join("boot/loader.S");
    for p in [&loader_src, &kernel_dir.join("src"), &kernel_dir.join("Cargo.toml"), &kernel_dir.join("kernel.ld")] {
        println!("cargo:rerun-if-changed={}", p.display());
    }

    // The boot sector.
    let cc = env::var("CC").unwrap_or_else(|_| "cc".into());
    let loader_obj = out.join("loader.o");
    let loader_bin = out.join("loader.bin");
    run(Command::new(&cc).args(["-c", "-nostdlib", "-o"]).arg(&loader_obj).arg(&loader_src), &cc);
    run(
        Command::new("ld").args(["-m", "elf_x86_64", "-nostdlib", "-N", "-e", "start", "-Ttext=0x7c00", "--oformat=binary", "-o"]).arg(&loader_bin).arg(&loader_obj),
        "ld",
    );

    // The kernel.
    let triple = "x86_64-unknown-linux-gnu";
    let kernel_target = target.join("guest-kernel");
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
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.args(["build", "--release", "--target", triple, "--manifest-path"])
        .arg(kernel_dir.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(&kernel_target)
        .env("CARGO_ENCODED_RUSTFLAGS", flags.join("\x1f"));
    // Settings of the outer build that must not leak into the kernel's.
    for var in ["RUSTFLAGS", "CARGO_BUILD_RUSTFLAGS", "CARGO_TARGET_DIR", "CARGO_BUILD_TARGET", "RUSTC_WORKSPACE_WRAPPER", "CARGO_PRIMARY_PACKAGE"] {
        cmd.env_remove(var);
    }
    run(&mut cmd, "cargo build (guest-kernel)");
    let elf = kernel_target.join(triple).join("release/kernel");
    let kernel_elf = out.join("kernel.elf");
    fs::copy(&elf, &kernel_elf).expect("copy kernel ELF");
    let kernel_bin = out.join("kernel.bin");
    run(Command::new("objcopy").args(["-O", "binary"]).arg(&kernel_elf).arg(&kernel_bin), "objcopy");

    // os.dsk: boot sector with the kernel's length, then the kernel padded to a sector.
    let mut disk = fs::read(&loader_bin).expect("read loader.bin");
    assert_eq!(disk.len(), 512, "the boot sector must be 512 bytes");
    assert_eq!(disk[510..], [0x55, 0xaa]);
    let mut kernel = fs::read(&kernel_bin).expect("read kernel.bin");
    kernel.resize(kernel.len().div_ceil(512) * 512, 0);
    let sectors = (kernel.len() / 512) as u32;
    disk[KERNEL_SECTORS_OFFSET..KERNEL_SECTORS_OFFSET + 4].copy_from_slice(&sectors.to_le_bytes());
    disk.extend_from_slice(&kernel);
    let os_dsk = out.join("os.dsk");
    fs::write(&os_dsk, &disk).expect("write os.dsk");

    // The launcher's copy; written then renamed so a concurrent reader never sees half.
    let pintos_dir = target.join("pintos");
    fs::create_dir_all(&pintos_dir).expect("create target/pintos");
    let tmp = pintos_dir.join(format!("os.dsk.{}", std::process::id()));
    fs::write(&tmp, &disk).expect("write target/pintos/os.dsk");
    fs::rename(&tmp, pintos_dir.join("os.dsk")).expect("rename target/pintos/os.dsk");
    fs::copy(&kernel_elf, pintos_dir.join("kernel.elf")).ok();

    println!("cargo:rustc-env=DISK_IMAGES_OS_DSK={}", os_dsk.display());
    println!("cargo:rustc-env=DISK_IMAGES_KERNEL_ELF={}", kernel_elf.display());
    println!("cargo:rustc-env=DISK_IMAGES_LOADER_BIN={}", loader_bin.display());
}
