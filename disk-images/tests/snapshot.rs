//! Machine snapshots on whole Pintos runs: a snapshot holds exactly the machine's memory
//! at its instant (the dirty-page tracking misses no writer), and restoring one, in the
//! same machine or, through bytes, in a freshly built one, then running on gives exactly
//! what the original run gave: console, steps, memory and disks.

use std::path::Path;

use clap::Parser;
use emulator::machine::Machine;
use emulator::observe::hash64;
use emulator::pintos::{self, Options};
use emulator::snapshot::Snapshot;

fn user(name: &str) -> String {
    format!("{}:{name}", Path::new(user_programs::USER_DIR).join(name).display())
}

/// syn-write (several processes sharing the file system) under jitter seed 5.
fn options() -> Options {
    let args = [format!("--os-disk={}", disk_images::OS_DSK), "-k".into(), "-T".into(), "60".into(), "--jitter".into(), "5".into(), "--fs-disk=10".into(), "-p".into(), user("syn-write"), "-p".into(), user("child-syn-wrt"), "--swap-disk=4".into(), "--".into(), "-q".into(), "-f".into(), "run".into(), "syn-write".into()];
    Options::try_parse_from(std::iter::once("pintos".to_string()).chain(args)).unwrap()
}

fn machine(opts: &Options) -> Machine {
    let mut m = pintos::build_machine(opts, pintos::prepare(opts).unwrap(), None).unwrap();
    m.disks_copy_on_write();
    m
}

/// What a run ended with: console since the start point, steps, a hash of memory and of
/// every disk's written sectors.
#[derive(Debug, PartialEq, Eq)]
struct End {
    console: Vec<u8>,
    steps: u64,
    memory: u64,
    disks: u64,
}

fn run_to_end(m: &mut Machine, mut snapshot_every: Option<(u64, &mut Vec<(Snapshot, usize)>)>) -> End {
    let mut console = Vec::new();
    loop {
        if let Some((every, list)) = &mut snapshot_every {
            let next = (m.cpu.steps() / *every + 1) * *every;
            if let Some(o) = m.step_slice((next - m.cpu.steps()).min(1_000_000), None) {
                assert_eq!(o, emulator::machine::Outcome::PowerOff);
                break;
            }
            console.extend(m.take_console());
            if m.cpu.steps() == next {
                let snap = m.snapshot().unwrap();
                // The snapshot's memory is the machine's, byte for byte.
                let mem = m.cpu.mem.as_slice();
                for p in 0..mem.len() / 4096 {
                    assert!(snap.memory.page(p) == &mem[p * 4096..(p + 1) * 4096], "page {p:#x} differs in the snapshot at step {next}");
                }
                list.push((snap, console.len()));
            }
        } else if let Some(o) = m.step_slice(1_000_000, None) {
            assert_eq!(o, emulator::machine::Outcome::PowerOff);
            break;
        }
        console.extend(m.take_console());
    }
    console.extend(m.take_console());
    let mut disks = emulator::observe::HASH_START;
    for (c, d) in [(0, 0), (0, 1), (1, 0), (1, 1)] {
        if let Some(o) = m.bus.ide.disk_mut(c, d).and_then(|d| d.overlay().cloned()) {
            for (lba, sector) in o.iter() {
                disks = emulator::observe::fold64(emulator::observe::fold64(disks, lba), hash64(sector));
            }
        }
    }
    End { console, steps: m.cpu.steps(), memory: hash64(m.cpu.mem.as_slice()), disks }
}

#[test]
fn restoring_a_snapshot_and_running_on_gives_the_same_run() {
    let opts = options();
    let mut m = machine(&opts);
    let mut snaps = Vec::new();
    let whole = run_to_end(&mut m, Some((7_000_000, &mut snaps)));
    assert!(String::from_utf8_lossy(&whole.console).contains("(syn-write) end"), "{}", String::from_utf8_lossy(&whole.console));
    assert!(snaps.len() >= 3, "only {} snapshots in {} steps", snaps.len(), whole.steps);

    // Back in the same machine, from the last snapshot to the first (each restore undoes
    // a whole run's worth of changes to memory and disks).
    for (snap, at) in snaps.iter().rev() {
        m.restore(snap).unwrap();
        assert_eq!(m.cpu.steps(), snap.steps());
        let end = run_to_end(&mut m, None);
        assert_eq!(end.console, whole.console[*at..], "console after restoring step {}", snap.steps());
        assert_eq!((end.steps, end.memory, end.disks), (whole.steps, whole.memory, whole.disks), "after restoring step {}", snap.steps());
    }

    // Through bytes, in a machine built afresh.
    let (snap, at) = &snaps[snaps.len() - 1];
    assert!(snap.ide.overlays.iter().flatten().flatten().any(|o| !o.0.is_empty()), "the run wrote its disks");
    let bytes = snap.to_bytes().unwrap();
    let back = Snapshot::from_bytes(&bytes).unwrap();
    let mut fresh = machine(&opts);
    fresh.restore(&back).unwrap();
    let end = run_to_end(&mut fresh, None);
    assert_eq!(end.console, whole.console[*at..]);
    assert_eq!((end.steps, end.memory, end.disks), (whole.steps, whole.memory, whole.disks));
    assert!(Snapshot::from_bytes(&bytes[..bytes.len() / 2]).is_err(), "a truncated snapshot is an error");
}

#[test]
fn a_snapshot_needs_copy_on_write_disks() {
    let opts = options();
    let mut m = pintos::build_machine(&opts, pintos::prepare(&opts).unwrap(), None).unwrap();
    let e = m.snapshot().unwrap_err().to_string();
    assert!(e.contains("hd0:0 is not copy-on-write"), "{e}");
}

/// Moving through a recorded run in both directions, with and without breakpoints and
/// watchpoints, never changes the run: its end is where and what it was. With 20 MB and
/// no jitter, and with 256 MB under jitter seed 3.
#[test]
fn time_travel_keeps_the_run() {
    time_travel_keeps(&["-m", "20"]);
    time_travel_keeps(&["--jitter", "3"]);
}

fn time_travel_keeps(extra: &[&str]) {
    use emulator::cpu::debug::{Watch, WatchKind};
    use emulator::pintos::replay;
    use emulator::pintos::timetravel::Stop;
    let dir = std::env::temp_dir().join(format!("pintos-snapshot-tt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("run.replay");
    let mut cmd: Vec<String> = [format!("--os-disk={}", disk_images::OS_DSK), "-k".into(), "-T".into(), "60".into()].to_vec();
    cmd.extend(extra.iter().map(|s| s.to_string()));
    cmd.extend(["--fs-disk=10".into(), "-p".into(), user("syn-write"), "-p".into(), user("child-syn-wrt"), "--swap-disk=4".into(), "--".into(), "-q".into(), "-f".into(), "run".into(), "syn-write".into()]);
    let opts = Options::try_parse_from(std::iter::once("pintos".to_string()).chain(cmd.iter().cloned())).unwrap();
    replay::record_args(&opts, cmd, &mut Vec::new(), &file).unwrap();
    let rec = replay::Recording::parse(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let (mut tt, elf) = replay::time_travel(&file, 1 << 20).unwrap();
    let mut console = Vec::new();
    let end = tt.cont(&mut console, &mut || false);
    assert!(matches!(end, Stop::Ended(_)), "{end:?}");
    assert_eq!(tt.machine.cpu.icount, rec.instructions, "{extra:?}: the replay under time travel is the recorded run");
    let last = tt.steps();
    let check = |tt: &mut emulator::pintos::timetravel::TimeTravel, what: &str| {
        let mut again = Vec::new();
        assert_eq!(tt.goto(last, &mut again), end, "{what}");
        assert_eq!(tt.steps(), last, "{what}");
        assert!(again.is_empty(), "{what}: nothing new to print");
    };
    for i in 1..=3 {
        assert_eq!(tt.step_back(&mut Vec::new()), Stop::Reached);
        assert_eq!(tt.steps(), last - i);
    }
    check(&mut tt, "after three reverse-stepi from the end");
    for t in [last / 3, last / 2, last - 1] {
        assert_eq!(tt.goto(t, &mut Vec::new()), Stop::Reached);
        assert_eq!(tt.steps(), t);
        check(&mut tt, &format!("after going back to {t}"));
    }
    let elf = elf.unwrap();
    let bp = emulator::pintos::backtrace::symbol_address(&elf, "process_exit").unwrap();
    tt.machine.cpu.add_breakpoint(bp);
    assert!(matches!(tt.cont_back(&mut Vec::new()), Stop::Breakpoint(pc) if pc == bp));
    check(&mut tt, "after reverse-continue to a breakpoint");
    tt.machine.cpu.clear_debug();
    let var = emulator::pintos::backtrace::symbol_address(&elf, "LOOPS_PER_TICK").unwrap();
    tt.machine.cpu.add_watch(Watch { addr: var, len: 8, kind: WatchKind::Write });
    assert!(matches!(tt.cont_back(&mut Vec::new()), Stop::Watch(_)));
    {
        let p = tt.steps();
        let mut a = tt.machine.snapshot().unwrap();
        tt.machine.cpu.clear_debug();
        tt.goto(0, &mut Vec::new());
        tt.goto(p, &mut Vec::new());
        let mut b = tt.machine.snapshot().unwrap();
        // How the host got there (code decoded, loop iterations skipped) may differ.
        (a.cpu.stats, b.cpu.stats) = Default::default();
        assert_eq!(format!("{:?}", a.cpu), format!("{:?}", b.cpu));
        // Devices keep when they were last brought up to date, which depends on how the
        // run was sliced; what they hold then is checked by running on (below).
        assert_eq!(format!("{:?}", a.ide.overlays), format!("{:?}", b.ide.overlays));
        for n in 0..(a.memory.size() / 4096) as usize {
            assert!(a.memory.page(n) == b.memory.page(n), "page {n:#x}");
        }
        tt.machine.cpu.add_watch(Watch { addr: var, len: 8, kind: WatchKind::Write });
    }
    check(&mut tt, "after reverse-continue to a watchpoint");
    assert_eq!(console.len(), String::from_utf8_lossy(&console).len());
    let _ = std::fs::remove_dir_all(&dir);
}
