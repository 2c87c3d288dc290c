//! The built-in kernel has no timing races: its userprog and filesys-base suites pass with
//! time slices 30 times shorter (`pintos-test --rate 13333333`: a timer tick every 133 k
//! instructions instead of every 4 M), and a run is identical, byte for byte, every time,
//! even with that much preemption. (`builtin_userprog.rs` and `builtin_filesys.rs` run the
//! same suites at the default rate.)
//!
//! Why: a kernel whose fork or file system has a race passes at the default rate and
//! fails when preempted more often (a complete C solution we measured passes under plain
//! QEMU yet panics in fork under `-icount shift=5`). Shorter slices put preemption points
//! inside far more critical sections.

mod common;

use common::{outputs, passed, pintos_test, results, scratch_dir};
use pintos_tests::catalogue::{BUILTIN_FILESYS_BASE, BUILTIN_USERPROG};

/// The default rate (400 M instructions per virtual second) divided by 30.
const SHORT_SLICES: &str = "13333333";

/// The loops per virtual second the kernel's delay calibration reports in a console.
fn calibrated_loops(console: &[u8]) -> u64 {
    let s = String::from_utf8_lossy(console);
    let line = s.lines().find(|l| l.starts_with("Calibrating timer...")).unwrap_or_else(|| panic!("no calibration line\n{s}")).to_string();
    line.trim_start_matches("Calibrating timer...").trim().trim_end_matches(" loops/s.").replace(',', "").parse().unwrap()
}

#[test]
fn userprog_and_filesys_pass_with_30x_shorter_slices_and_runs_repeat_exactly() {
    let dir = scratch_dir("short-slices-userprog");
    let suite = ["tests/userprog", "tests/filesys/base", "--rate", SHORT_SLICES, "-j", "2"];
    let (code, text) = pintos_test(&dir, &[&suite[..], &["--out", "a"]].concat());
    assert_eq!(code, Some(0), "{text}");
    let mut want: Vec<String> = BUILTIN_USERPROG.iter().map(|n| format!("tests/userprog/{n}")).chain(BUILTIN_FILESYS_BASE.iter().map(|n| format!("tests/filesys/base/{n}"))).collect();
    want.sort();
    assert_eq!(passed(&results(&dir.join("a"))), want, "{text}");

    // Deterministic: a second run writes the same consoles, byte for byte.
    let (code, text) = pintos_test(&dir, &[&suite[..], &["--out", "b"]].concat());
    assert_eq!(code, Some(0), "{text}");
    let (a, b) = (outputs(&dir.join("a")), outputs(&dir.join("b")));
    assert_eq!(a.len(), want.len());
    assert_eq!(a.iter().map(|(p, _)| p).collect::<Vec<_>>(), b.iter().map(|(p, _)| p).collect::<Vec<_>>());
    for ((path, ca), (_, cb)) in a.iter().zip(&b) {
        assert!(ca == cb, "{} differs between two runs", path.display());
    }

    // The runs really had the lower rate: the kernel's delay-loop calibration counts
    // about 30 times fewer loops per virtual second than at the default rate.
    let (code, text) = pintos_test(&dir, &["tests/userprog/args-none", "--out", "default"]);
    assert_eq!(code, Some(0), "{text}");
    let console = |out: &str| std::fs::read(dir.join(out).join("tests/userprog/args-none.output")).unwrap();
    let (normal, short) = (calibrated_loops(&console("default")), calibrated_loops(&console("a")));
    assert!(short * 20 < normal && short * 40 > normal, "loops/s {normal} at the default rate, {short} with short slices");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn alarm_and_priority_pass_with_30x_shorter_slices() {
    let dir = scratch_dir("short-slices-threads");
    let (code, text) = pintos_test(&dir, &["tests/threads/alarm", "tests/threads/priority", "--rate", SHORT_SLICES, "--out", "out", "-j", "2"]);
    assert_eq!(code, Some(0), "{text}");
    let r = results(&dir.join("out"));
    assert_eq!((r.len(), passed(&r).len()), (18, 18), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}
