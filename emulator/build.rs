//! Assembles and links the bare-metal guests (guests/*.S) into flat binaries at 0x7C00 in
//! OUT_DIR, for the tests and the `bare-metal-demo` binary to embed:
//! * `bare_metal.bin`: run directly on the CPU (see `src/bare_metal.rs`);
//! * `pc_boot.bin`: a bootable disk image for the whole PC (see `src/guests.rs`);
//! * `disk_probe.bin`: a boot sector that times IDE commands (see `src/guests.rs`).

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

fn run(cmd: &mut Command, what: &str, guest: &str) {
    let status = cmd.status().unwrap_or_else(|e| {
        panic!("building the bare-metal guest {guest} needs `{what}` (GNU toolchain: gcc/cc and ld): {e}")
    });
    if !status.success() {
        panic!("`{what}` failed while building the bare-metal guest {guest} ({status})");
    }
}

/// Preprocesses and assembles `guests/<name>.S` and links it flat at 0x7c00 (the
/// boot-sector address) into `<out>/<name>.bin`.
fn build_guest(name: &str, out: &Path, cc: &str) {
    let src = PathBuf::from(format!("guests/{name}.S"));
    println!("cargo:rerun-if-changed={}", src.display());
    let obj = out.join(format!("{name}.o"));
    let bin = out.join(format!("{name}.bin"));
    let guest = src.display().to_string();
    // The C compiler runs the preprocessor over the .S file and hands it to `as`.
    run(Command::new(cc).args(["-c", "-nostdlib", "-o"]).arg(&obj).arg(&src), cc, &guest);
    run(
        Command::new("ld").args(["-m", "elf_x86_64", "-nostdlib", "-N", "-e", "start", "-Ttext=0x7c00", "--oformat=binary", "-o"]).arg(&bin).arg(&obj),
        "ld",
        &guest,
    );
}

fn main() {
    let out = PathBuf::from(env::var("OUT_DIR").expect("OUT_DIR"));
    let cc = env::var("CC").unwrap_or_else(|_| "cc".into());
    println!("cargo:rerun-if-env-changed=CC");
    for name in ["bare_metal", "pc_boot", "disk_probe"] {
        build_guest(name, &out, &cc);
    }
}
