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
            for (lba, sector) in o {
                disks = emulator::observe::fold64(emulator::observe::fold64(disks, lba), hash64(&sector[..]));
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
    let (snap, at) = &snaps[snaps.len() / 2];
    let bytes = snap.to_bytes();
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
