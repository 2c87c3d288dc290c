//! Boots the bare-metal guest (guests/bare_metal.S) from real mode through protected mode
//! into long mode, and prints what it reported, the instruction count and anything the
//! emulator could not execute. Exits non-zero if the guest did not finish.

use std::process::ExitCode;

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
    if done && out.exit == Exit::HaltedForever {
        println!("OK");
        ExitCode::SUCCESS
    } else {
        println!("FAILED: the guest did not reach its last stage\n{}", out.cpu.dump());
        ExitCode::FAILURE
    }
}
