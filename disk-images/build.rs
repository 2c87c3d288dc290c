//! Builds os.dsk = our boot sector (boot/loader.S) + the guest kernel (../guest-kernel).
//!
//! The kernel is built by a nested `cargo build` (src/kernel_build.rs, shared with
//! `disk_images::build_variant`) with its own target directory (`<target>/guest-kernel`,
//! shared by every profile of the outer build, so switching between `cargo build` and
//! `cargo test` does not rebuild it) and its own RUSTFLAGS.
//!
//! Outputs (paths reach the crate through env vars, see src/lib.rs): loader.bin,
//! kernel.elf (with symbols, for addr2line), kernel.bin (flat, loaded at 0x200000) and
//! os.dsk in OUT_DIR; os.dsk is also copied to `<target>/pintos/os.dsk`, where the
//! `pintos` launcher looks for it.

#[path = "src/kernel_build.rs"]
mod kernel_build;

use std::env;
use std::fs;
use std::path::PathBuf;
use std::process::Command;

use kernel_build::{build_kernel, flat_kernel, install, os_disk, run, target_dir_of};

fn main() {
    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let kernel_dir = manifest_dir.join("../guest-kernel").canonicalize().expect("guest-kernel/ next to disk-images/");
    let out = PathBuf::from(env::var("OUT_DIR").unwrap());
    let target = target_dir_of(&out).unwrap_or_else(|| out.clone());
    let loader_src = manifest_dir.join("boot/loader.S");
    for p in [&loader_src, &kernel_dir.join("src"), &kernel_dir.join("Cargo.toml"), &kernel_dir.join("kernel.ld")] {
        println!("cargo:rerun-if-changed={}", p.display());
    }

    // The boot sector.
    let cc = env::var("CC").unwrap_or_else(|_| "cc".into());
    let loader_obj = out.join("loader.o");
    let loader_bin = out.join("loader.bin");
    run(Command::new(&cc).args(["-c", "-nostdlib", "-o"]).arg(&loader_obj).arg(&loader_src), &cc).unwrap();
    run(Command::new("ld").args(["-m", "elf_x86_64", "-nostdlib", "-N", "-e", "start", "-Ttext=0x7c00", "--oformat=binary", "-o"]).arg(&loader_bin).arg(&loader_obj), "ld").unwrap();

    // The kernel, without features (the deliberate bugs of `broken` are for variants).
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let elf = build_kernel(&cargo, &kernel_dir, &target.join("guest-kernel"), &[]).unwrap();
    let kernel_elf = out.join("kernel.elf");
    fs::copy(&elf, &kernel_elf).expect("copy kernel ELF");
    let kernel_bin = out.join("kernel.bin");
    flat_kernel(&kernel_elf, &kernel_bin).unwrap();

    let disk = os_disk(&fs::read(&loader_bin).expect("read loader.bin"), &fs::read(&kernel_bin).expect("read kernel.bin")).unwrap();
    let os_dsk = out.join("os.dsk");
    fs::write(&os_dsk, &disk).expect("write os.dsk");

    // The launcher's copy.
    let pintos_dir = target.join("pintos");
    install(&pintos_dir, "os.dsk", &disk).expect("write target/pintos/os.dsk");
    fs::copy(&kernel_elf, pintos_dir.join("kernel.elf")).ok();

    println!("cargo:rustc-env=DISK_IMAGES_OS_DSK={}", os_dsk.display());
    println!("cargo:rustc-env=DISK_IMAGES_KERNEL_ELF={}", kernel_elf.display());
    println!("cargo:rustc-env=DISK_IMAGES_LOADER_BIN={}", loader_bin.display());
    println!("cargo:rustc-env=DISK_IMAGES_KERNEL_DIR={}", kernel_dir.display());
}
