//! Builds the Pintos user programs into `<target>/pintos/user/NAME` (see src/lib.rs):
//!
//! - Rust programs, `user/src/bin/NAME.rs` → `NAME`: a nested `cargo build --release` of
//!   the `no_std` crate `user/` for the host target with its own target directory
//!   (`<target>/user-programs`, shared by every profile of the outer build) and its own
//!   RUSTFLAGS: no start files, static, no PIE, `user/user.ld`, SSE disabled, no red zone.
//! - C programs, `user/c/bin/NAME.c` → `c-NAME`: the system gcc with Pintos-KAIST's user
//!   flags (`-O0 -mno-sse -msoft-float -mno-red-zone -mcmodel=large -fno-pic -fno-plt
//!   -fno-stack-protector ...`), linked `-static -nostdlib -no-pie` with the same
//!   `user/user.ld` against the C runtime in `user/c/` (entry.c, syscall.c, lib.c).

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

fn run(cmd: &mut Command, what: &str) {
    let status = cmd.status().unwrap_or_else(|e| panic!("building the user programs needs `{what}`: {e}"));
    if !status.success() {
        panic!("`{what}` failed while building the user programs ({status})");
    }
}

/// The outer build's target directory: the nearest ancestor of OUT_DIR that cargo marked
/// with CACHEDIR.TAG (target/ or CARGO_TARGET_DIR), else OUT_DIR itself.
fn target_dir(out: &Path) -> PathBuf {
    out.ancestors().find(|d| d.join("CACHEDIR.TAG").is_file()).unwrap_or(out).to_path_buf()
}

/// The stems of the files in `dir` ending in `.ext`, sorted.
fn stems(dir: &Path, ext: &str) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == ext))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Copies `from` to `dir/name` through a temporary file and a rename, so a concurrent
/// reader never sees half a program.
fn install(from: &Path, dir: &Path, name: &str) {
    let tmp = dir.join(format!(".{name}.{}", std::process::id()));
    fs::copy(from, &tmp).unwrap_or_else(|e| panic!("copy {} to {}: {e}", from.display(), tmp.display()));
    fs::rename(&tmp, dir.join(name)).expect("rename user program");
}

fn build_rust(user_dir: &Path, target: &Path, dest: &Path) -> Vec<String> {
    let triple = "x86_64-unknown-linux-gnu";
    let cargo_target = target.join("user-programs");
    let flags = [
        "-Clink-arg=-nostartfiles".to_string(),
        "-Clink-arg=-static".into(),
        "-Clink-arg=-no-pie".into(),
        "-Clink-arg=-Wl,--gc-sections".into(),
        "-Clink-arg=-Wl,--build-id=none".into(),
        format!("-Clink-arg=-Wl,-T,{}", user_dir.join("user.ld").display()),
        // Pintos user code has no SSE (-mno-sse). rustc warns that the x86-64 float ABI
        // wants SSE2: the user programs pass no floats. The artifact tests check that no
        // instruction touches an XMM register.
        "-Ctarget-feature=-sse,-sse2".into(),
        "-Cno-redzone=yes".into(),
    ];
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.args(["build", "--release", "--bins", "--target", triple, "--manifest-path"])
        .arg(user_dir.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(&cargo_target)
        .env("CARGO_ENCODED_RUSTFLAGS", flags.join("\x1f"));
    // Settings of the outer build that must not leak into this one.
    for var in ["RUSTFLAGS", "CARGO_BUILD_RUSTFLAGS", "CARGO_TARGET_DIR", "CARGO_BUILD_TARGET", "RUSTC_WORKSPACE_WRAPPER", "CARGO_PRIMARY_PACKAGE"] {
        cmd.env_remove(var);
    }
    run(&mut cmd, "cargo build (user programs)");
    let names = stems(&user_dir.join("src/bin"), "rs");
    for name in &names {
        install(&cargo_target.join(triple).join("release").join(name), dest, name);
    }
    names
}

fn build_c(user_dir: &Path, out: &Path, dest: &Path) -> Vec<String> {
    let c_dir = user_dir.join("c");
    let cc = env::var("PINTOS_USER_CC").unwrap_or_else(|_| "gcc".into());
    // Pintos-KAIST's Make.config CFLAGS for user code, plus -ffreestanding (we keep gcc's
    // own stddef.h/stdarg.h instead of Pintos' lib/ headers).
    let cflags = [
        "-g", "-O0", "-std=gnu11", "-ffreestanding", "-fno-omit-frame-pointer", "-mno-red-zone", "-mcmodel=large",
        "-fno-plt", "-fno-pic", "-mno-sse", "-msoft-float", "-fcommon", "-fno-stack-protector", "-Wall", "-W",
        "-Wstrict-prototypes", "-Wmissing-prototypes", "-Werror",
    ];
    let obj_dir = out.join("c");
    fs::create_dir_all(&obj_dir).expect("create OUT_DIR/c");
    let compile = |src: &Path, obj: &Path| {
        run(Command::new(&cc).args(cflags).arg("-I").arg(&c_dir).arg("-c").arg(src).arg("-o").arg(obj), &cc);
    };
    let mut runtime = Vec::new();
    for part in ["entry", "syscall", "lib"] {
        let obj = obj_dir.join(format!("{part}.o"));
        compile(&c_dir.join(format!("{part}.c")), &obj);
        runtime.push(obj);
    }
    let mut names = Vec::new();
    for stem in stems(&c_dir.join("bin"), "c") {
        let name = format!("c-{stem}");
        let obj = obj_dir.join(format!("{stem}.o"));
        compile(&c_dir.join("bin").join(format!("{stem}.c")), &obj);
        let exe = obj_dir.join(&name);
        run(
            Command::new(&cc)
                .args(["-static", "-nostdlib", "-no-pie", "-Wl,--no-relax", "-Wl,-z,noseparate-code", "-Wl,--build-id=none", "-T"])
                .arg(user_dir.join("user.ld"))
                .arg("-o")
                .arg(&exe)
                .args(&runtime)
                .arg(&obj),
            &cc,
        );
        install(&exe, dest, &name);
        names.push(name);
    }
    names
}

fn main() {
    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let user_dir = manifest_dir.join("../user").canonicalize().expect("user/ next to user-programs/");
    let out = PathBuf::from(env::var("OUT_DIR").unwrap());
    let target = target_dir(&out);
    for p in ["src", "c", "Cargo.toml", "user.ld"] {
        println!("cargo:rerun-if-changed={}", user_dir.join(p).display());
    }
    // The test programs compile in the data files the harness puts (sample.txt).
    println!("cargo:rerun-if-changed={}", user_dir.join("../tests/data").display());
    println!("cargo:rerun-if-env-changed=PINTOS_USER_CC");

    let dest = target.join("pintos/user");
    fs::create_dir_all(&dest).expect("create target/pintos/user");
    let rust = build_rust(&user_dir, &target, &dest);
    let c = build_c(&user_dir, &out, &dest);

    println!("cargo:rustc-env=USER_PROGRAMS_DIR={}", dest.display());
    println!("cargo:rustc-env=USER_PROGRAMS_RUST={}", rust.join(","));
    println!("cargo:rustc-env=USER_PROGRAMS_C={}", c.join(","));
}
