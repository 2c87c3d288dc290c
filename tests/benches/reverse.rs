//! What reverse execution costs on a recorded run of the built-in kernel: running the
//! replay forward while it takes snapshots (against the plain replay), the snapshots'
//! number, interval and size, and the latency of gdb's reverse commands from the end of
//! the run: reverse-stepi, reverse-continue to a breakpoint, and reverse-continue to a
//! watchpoint whose last write is at boot (so it goes back over the whole run).
//!
//!     cargo bench -p pintos-tests --bench reverse              (syn-write)
//!     cargo bench -p pintos-tests --bench reverse -- swap-iter
//!
//! Figures only, no thresholds.

use std::path::PathBuf;
use std::time::Instant;

use clap::Parser;
use emulator::cpu::debug::{Watch, WatchKind};
use emulator::pintos::backtrace::symbol_address;
use emulator::pintos::replay;
use emulator::pintos::timetravel::{Stop, DEFAULT_INTERVAL};
use emulator::pintos::Options;
use pintos_tests::catalogue::{find, Project};
use pintos_tests::runner::{self, Setup};

fn secs(t: Instant) -> f64 {
    t.elapsed().as_secs_f64()
}

fn main() {
    let name = std::env::args().skip(1).find(|a| !a.starts_with("--")).unwrap_or_else(|| "syn-write".into());
    let test = find(&format!("tests/vm/{name}")).or_else(|| find(&format!("tests/filesys/base/{name}"))).or_else(|| find(&format!("tests/userprog/{name}"))).unwrap_or_else(|| panic!("no catalogue test named {name}"));
    let os_disk = PathBuf::from(disk_images::OS_DSK);
    let out = std::env::temp_dir().join(format!("pintos-reverse-bench-{}", std::process::id()));
    let setup = Setup { behaviour: false, ..Setup::new(Project::Vm, os_disk, vec![PathBuf::from(user_programs::USER_DIR)], out.clone()) };
    let args = runner::command_line(&setup, test).expect("the test's command line");
    let opts = Options::try_parse_from(std::iter::once("pintos".to_string()).chain(args.iter().cloned())).unwrap();
    std::fs::create_dir_all(&out).unwrap();
    let file = out.join("run.replay");
    replay::record_args(&opts, args.clone(), &mut std::io::sink(), &file).unwrap();

    let t = Instant::now();
    assert!(matches!(replay::replay(&file, &mut std::io::sink()).unwrap(), replay::Verdict::Verified { .. }));
    let plain = secs(t);

    let (mut tt, elf) = replay::time_travel(&file, DEFAULT_INTERVAL).unwrap();
    let elf = elf.expect("kernel.elf next to os.dsk");
    let t = Instant::now();
    let end = tt.cont(&mut std::io::sink(), &mut || false);
    let forward = secs(t);
    assert!(matches!(end, Stop::Ended(_)), "{end:?}");
    let steps = tt.steps();
    let (count, interval) = tt.snapshot_count();
    let stats = tt.stats;
    let one = tt.machine.snapshot().unwrap().to_bytes().unwrap().len();

    println!("{} ({} steps, {} instructions), replayed with snapshots:", test.path, steps, tt.machine.cpu.icount);
    println!("  replay without snapshots     {plain:>8.3} s");
    println!("  replay taking snapshots      {forward:>8.3} s  {:>+6.1}%", (forward / plain - 1.0) * 100.0);
    println!("  snapshots: {count} kept, one every {interval} steps; {} taken, {:.1} MiB of pages copied ({:.0} KiB each on average)", stats.snapshots_taken, stats.snapshot_bytes as f64 / (1 << 20) as f64, stats.snapshot_bytes as f64 / stats.snapshots_taken.max(1) as f64 / 1024.0);
    println!("  one snapshot serialised: {:.1} MiB (memory without its zero pages, devices, disk changes)", one as f64 / (1 << 20) as f64);

    // reverse-stepi from the end, 1000 times (the first re-runs from the last snapshot
    // and keeps one just before; the rest re-run a few thousand steps each).
    let mut times = Vec::new();
    for i in 1..=1000 {
        let s = Instant::now();
        assert_eq!(tt.step_back(&mut std::io::sink()), Stop::Reached);
        assert_eq!(tt.steps(), steps - i);
        times.push(secs(s));
    }
    let first = times[0];
    times.sort_by(f64::total_cmp);
    println!("  reverse-stepi                {first:>8.3} s the first, then median {:.4} s, worst {:.3} s (1000 in a row)", times[500], times[999]);

    // reverse-continue to the last call of a function (a breakpoint).
    let bp = symbol_address(&elf, "process_exit").or_else(|_| symbol_address(&elf, "thread_exit")).unwrap();
    tt.machine.cpu.add_breakpoint(bp);
    let before = tt.steps();
    let t = Instant::now();
    let stop = tt.cont_back(&mut std::io::sink());
    println!("  reverse-continue, breakpoint {:>8.3} s  ({:?} at {:#x}, {} steps back)", secs(t), matches!(stop, Stop::Breakpoint(_)), tt.machine.cpu.pc(), before - tt.steps());
    tt.machine.cpu.remove_breakpoint(bp);

    // reverse-continue to a watchpoint written only at boot: back over the whole run.
    let var = symbol_address(&elf, "LOOPS_PER_TICK").unwrap();
    tt.machine.cpu.add_watch(Watch { addr: var, len: 8, kind: WatchKind::Write });
    let before = tt.steps();
    let t = Instant::now();
    let stop = tt.cont_back(&mut std::io::sink());
    let took = secs(t);
    println!("  reverse-continue, watchpoint {took:>8.3} s  ({} steps back to step {}: {})", before - tt.steps(), tt.steps(), if matches!(stop, Stop::Watch(_)) { "the last write" } else { "no write found" });
    tt.machine.cpu.clear_debug();

    // The worst case: a watchpoint nothing ever writes (the kernel's code): back over the
    // whole run to its start, every step executed again with the watch on.
    assert!(matches!(tt.goto(steps, &mut std::io::sink()), Stop::Ended(_)));
    tt.machine.cpu.add_watch(Watch { addr: bp, len: 8, kind: WatchKind::Write });
    let t = Instant::now();
    let r0 = tt.stats.replayed_steps;
    let stop = tt.cont_back(&mut std::io::sink());
    println!("  reverse-continue, no write   {:>8.3} s  ({} steps back to {:?}, {} steps executed again)", secs(t), steps - tt.steps(), stop, tt.stats.replayed_steps - r0);
    let stats = tt.stats;
    println!("  all told: {} restores, {} steps executed again", stats.restores, stats.replayed_steps);
    let _ = std::fs::remove_dir_all(&out);
}
