//! Helpers shared by the whole-system tests that run user programs and file-system actions
//! on the built os.dsk (`userprog.rs`, `process.rs`, `filesys.rs`).
#![allow(dead_code)]

use std::time::Duration;

use clap::Parser;
use emulator::devices::ide::{Disk, DiskTiming, PINTOS_DISK_UNIT};
use emulator::machine::{Config, Limits, Machine, Outcome, DEFAULT_EPOCH, DEFAULT_RATE};
use emulator::pintos::scratch::{put_records, set_command_line};
use emulator::pintos::{run_report, Options};

/// `pintos -v -k -T 60 -m 20 --exit-status --fs-disk=2 -p PUT ... -- -q -f ACTIONS...`
/// (each put is `HOST:GUEST`); returns the whole console after checking that the kernel
/// powered off cleanly, without a panic.
pub fn pintos_console(puts: &[String], actions: &[&str]) -> String {
    let os = format!("--os-disk={}", disk_images::OS_DSK);
    let mut argv: Vec<String> = ["pintos", &os, "-v", "-k", "-T", "60", "-m", "20", "--exit-status", "--fs-disk=2"].into_iter().map(String::from).collect();
    for p in puts {
        argv.extend(["-p".to_string(), p.clone()]);
    }
    argv.extend(["--", "-q", "-f"].into_iter().map(String::from));
    argv.extend(actions.iter().map(|a| a.to_string()));
    let opts = Options::try_parse_from(argv).unwrap();
    let mut out = Vec::new();
    let report = run_report(&opts, &mut out).unwrap();
    let console = String::from_utf8_lossy(&out).into_owned();
    assert_eq!(report.outcome, Outcome::PowerOff, "console:\n{console}\ndiagnostics: {:?}", report.diagnostics);
    assert!(!console.contains("PANIC"), "{console}");
    assert!(console.contains("Powering off...\n"), "{console}");
    console
}

/// The console between the first `Executing` line and the statistics.
pub fn executing_section(console: &str) -> String {
    let start = console.find("Executing '").unwrap_or_else(|| panic!("no Executing line:\n{console}"));
    let end = console.find("Timer: ").unwrap();
    console[start..end].to_string()
}

/// The put argument for built user program `name`.
pub fn prog(name: &str) -> String {
    format!("{}:{name}", user_programs::path(name).display())
}

/// Boots os.dsk with the command line `argv`, a fresh 2-unit file-system disk and `puts`
/// on the scratch disk, in 20 MB; returns the machine after it powered off and the console.
pub fn boot_with_fs(argv: &[&str], puts: &[(String, Vec<u8>)]) -> (Machine, String) {
    boot_with_fs_timed(argv, puts, DiskTiming::DEFAULT, false)
}

/// [`boot_with_fs`] with the given disk timing, optionally recording the CPU's events
/// (an [`emulator::observe::Recorder`] in `machine.bus.observer`).
pub fn boot_with_fs_timed(argv: &[&str], puts: &[(String, Vec<u8>)], disk_timing: DiskTiming, trace: bool) -> (Machine, String) {
    let mut os = std::fs::read(disk_images::OS_DSK).unwrap();
    set_command_line(&mut os, &argv.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap();
    let mut scratch = put_records(puts).unwrap();
    scratch.resize(scratch.len() + (1 << 20), 0);
    let disks = [[Some(Disk::from_bytes(os).unwrap()), Some(Disk::zeroed(2 * PINTOS_DISK_UNIT).unwrap())], [Some(Disk::from_bytes(scratch).unwrap()), None]];
    let mut m = Machine::new(Config { memory: 20 << 20, rate: DEFAULT_RATE, epoch: DEFAULT_EPOCH, disks, disk_timing }).unwrap();
    if trace {
        m.observe(Box::new(emulator::observe::Recorder::default()));
    }
    let mut console = Vec::new();
    let limits = Limits { virtual_time: Some(Duration::from_secs(60)), host_time: Some(Duration::from_secs(120)), instructions: None };
    let outcome = m.run(limits, |b| {
        console.extend_from_slice(b);
        true
    });
    let console = String::from_utf8_lossy(&console).into_owned();
    assert_eq!(outcome, Outcome::PowerOff, "{console}");
    (m, console)
}
