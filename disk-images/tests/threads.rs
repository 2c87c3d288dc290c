//! Determinism of the kernel's threads tests: three boots of the same test give identical
//! console output and instruction count. (Whether each threads test *passes* is checked by
//! the harness with Pintos' rules: `tests/tests/builtin_kernel.rs` runs all 27 through
//! `pintos-test`, the same path as the README's main job.)

use std::time::Duration;

use emulator::devices::ide::Disk;
use emulator::machine::{Config, Limits, Machine, Outcome, DEFAULT_EPOCH, DEFAULT_RATE};
use emulator::pintos::scratch::set_command_line;

struct Run {
    console: String,
    icount: u64,
}

/// Boots os.dsk with `args` in 20 MB; the run must power off.
fn boot(args: &[&str]) -> Run {
    let mut os = std::fs::read(disk_images::OS_DSK).expect("read os.dsk");
    let argv: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    set_command_line(&mut os, &argv).unwrap();
    let config = Config { memory: 20 << 20, rate: DEFAULT_RATE, epoch: DEFAULT_EPOCH, disks: [[Some(Disk::from_bytes(os).unwrap()), None], [None, None]] };
    let mut m = Machine::new(config).unwrap();
    let mut console = Vec::new();
    let limits = Limits { virtual_time: Some(Duration::from_secs(60)), host_time: Some(Duration::from_secs(600)), instructions: None };
    let outcome = m.run(limits, |b| {
        console.extend_from_slice(b);
        true
    });
    let console = String::from_utf8_lossy(&console).into_owned();
    assert_eq!(outcome, Outcome::PowerOff, "console:\n{console}");
    assert!(console.contains("(alarm-multiple) end"), "{console}");
    Run { console, icount: m.cpu.icount }
}

/// Three runs of the same test: identical console output and instruction count.
#[test]
fn threads_tests_are_deterministic() {
    let runs: Vec<Run> = (0..3).map(|_| boot(&["-q", "run", "alarm-multiple"])).collect();
    for r in &runs[1..] {
        assert_eq!(r.console, runs[0].console);
        assert_eq!(r.icount, runs[0].icount);
    }
}
