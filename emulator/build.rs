//! Assembles and links the bare-metal guest (guests/bare_metal.S) into a flat binary at
//! 0x7C00 in OUT_DIR, for the tests and the `bare-metal-demo` binary to embed.

use std::env;
use std::path::PathBuf;
use std::process::Command;

fn run(cmd: &mut Command, what: &str) {
    let status = cmd.status().unwrap_or_else(|e| {
        panic!("building the bare-metal guest needs `{what}` (GNU toolchain: gcc/cc and ld): {e}")
    });
    if !status.success() {
        panic!("`{what}` failed while building the bare-metal guest ({status})");
    }
}

fn main() {
    let src = PathBuf::from("guests/bare_metal.S");
    println!("cargo:rerun-if-changed={}", src.display());
    let out = PathBuf::from(env::var("OUT_DIR").expect("OUT_DIR"));
    let obj = out.join("bare_metal.o");
    let bin = out.join("bare_metal.bin");
    let cc = env::var("CC").unwrap_or_else(|_| "cc".into());
    // The C compiler runs the preprocessor over the .S file and hands it to `as`.
    run(Command::new(&cc).args(["-c", "-nostdlib", "-o"]).arg(&obj).arg(&src), &cc);
    run(
        Command::new("ld").args(["-m", "elf_x86_64", "-nostdlib", "-N", "-e", "start", "-Ttext=0x7c00", "--oformat=binary", "-o"]).arg(&bin).arg(&obj),
        "ld",
    );
}
