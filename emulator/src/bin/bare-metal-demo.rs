//! The bare-metal CPU demo (`cargo run --release -p emulator --bin bare-metal-demo`), in two parts:
//! 1. the CPU alone: the bare-metal guest (guests/bare_metal.S) goes from real mode through
//!    protected mode into long mode, takes an exception and returns; its reports, the
//!    instruction count and anything the emulator could not execute are printed;
//! 2. the whole PC through the `pintos` launcher: the PC test image (guests/pc_boot.S)
//!    boots through the BIOS, takes timer interrupts, does IDE I/O on both channels, prints
//!    on the serial console and powers off — the same path `pintos` takes for a Pintos
//!    kernel.
//!
//! Exits non-zero if either part fails.

use std::process::ExitCode;

use clap::Parser;
use emulator::pintos::{self, Options};

use emulator::bare_metal::{self, Report};
use emulator::cpu::Exit;

fn stage_name(s: u8) -> &'static str {
    match s {
        0x01 => "real mode",
        0x02 => "protected mode (32-bit)",
        0x03 => "long mode (64-bit, paging on)",
        0x04 => "in the #BP handler (int3)",
        0x05 => "back from int3 via iretq",
        0x06 => "in the #PF handler, mapping the page",
        0x07 => "faulting store restarted and completed",
        bare_metal::DONE => "done",
        _ => "unknown stage",
    }
}

fn main() -> ExitCode {
    let out = match bare_metal::run(10_000_000) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("cannot set up guest memory: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("bare-metal guest ({} bytes at {:#x})", bare_metal::IMAGE.len(), bare_metal::LOAD_ADDR);
    let mut done = false;
    for r in &out.bus.reports {
        match *r {
            Report::Stage(s) => {
                done |= s == bare_metal::DONE;
                println!("  stage {s:#04x}: {}", stage_name(s));
            }
            Report::Value(v) => println!("      value {v:#x}"),
        }
    }
    println!("exit: {:?}", out.exit);
    println!("instructions: {}", out.cpu.icount);
    println!("exceptions delivered: {:?}", out.cpu.stats.exceptions);
    if !out.cpu.stats.unimplemented.is_empty() {
        println!("unimplemented instructions:");
        for (code, n) in &out.cpu.stats.unimplemented {
            println!("  {code}: {n}");
        }
    }
    if let Some(why) = &out.cpu.shutdown {
        println!("{why}");
    }
    if !(done && out.exit == Exit::HaltedForever) {
        println!("FAILED: the guest did not reach its last stage\n{}", out.cpu.dump());
        return ExitCode::FAILURE;
    }
    println!("OK\n");
    match boot_pc_image() {
        Ok(0) => {
            println!("OK");
            ExitCode::SUCCESS
        }
        Ok(code) => {
            println!("FAILED: pintos exited with status {code}");
            ExitCode::FAILURE
        }
        Err(e) => {
            println!("FAILED: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Boots the PC image with `pintos --os-disk IMAGE --fs-disk=1 --scratch-disk=1
/// --swap-disk=1 -T 10 -- -q`, streaming its console to stdout.
fn boot_pc_image() -> anyhow::Result<i32> {
    let dir = std::env::temp_dir().join(format!("pc-boot-demo-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let os = dir.join("os.dsk");
    std::fs::write(&os, emulator::guests::PC_BOOT_IMAGE)?;
    let args = ["pintos", "--os-disk", os.to_str().unwrap_or("os.dsk"), "--fs-disk=1", "--scratch-disk=1", "--swap-disk=1", "-T", "10", "--", "-q"];
    println!("PC image booted with: {}", args.join(" "));
    let opts = Options::try_parse_from(args)?;
    let code = pintos::run(&opts, &mut std::io::stdout().lock());
    let _ = std::fs::remove_dir_all(&dir);
    code
}
