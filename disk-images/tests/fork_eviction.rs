//! Fork under memory pressure: copying a process's mapped pages may evict, and the clock
//! then meets frames the parent already shares copy-on-write with a child whose process
//! record does not exist yet. Those frames stay (the clock skips them); before, the
//! kernel panicked with `frame ... owned by a process that is gone`.

use clap::Parser;
use emulator::machine::Outcome;
use emulator::pintos::{run_report, Options};

/// mmap-inherit (maps sample.txt, reads it, forks a child that execs child-inherit)
/// with the user pool cut to `pages` pages (`-ul`): the console.
fn mmap_inherit_in(pages: usize) -> String {
    let sample = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/data/vm/sample.txt");
    let prog = |name: &str| format!("{}:{name}", user_programs::path(name).display());
    let os = format!("--os-disk={}", disk_images::OS_DSK);
    let argv = [
        "pintos".to_string(),
        os,
        "-v".into(),
        "-k".into(),
        "-T".into(),
        "60".into(),
        "--fs-disk=2".into(),
        "--swap-disk=4".into(),
        "-p".into(),
        prog("mmap-inherit"),
        "-p".into(),
        prog("child-inherit"),
        "-p".into(),
        format!("{sample}:sample.txt"),
        "--".into(),
        "-q".into(),
        format!("-ul={pages}"),
        "-f".into(),
        "run".into(),
        "mmap-inherit".into(),
    ];
    let opts = Options::try_parse_from(argv).unwrap();
    let mut out = Vec::new();
    let report = run_report(&opts, &mut out).unwrap();
    let console = String::from_utf8_lossy(&out).into_owned();
    assert_eq!(report.outcome, Outcome::PowerOff, "{console}");
    console
}

#[test]
fn fork_that_evicts_leaves_frames_shared_with_the_unborn_child() {
    for pages in [3, 4, 5] {
        let console = mmap_inherit_in(pages);
        assert!(!console.contains("PANIC"), "-ul={pages}:\n{console}");
        assert!(console.contains("(mmap-inherit) checking that mmap'd file still has same data\n(mmap-inherit) end\nmmap-inherit: exit(0)\n"), "-ul={pages}:\n{console}");
    }
}
