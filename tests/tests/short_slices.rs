//! The built-in kernel has no timing races: its test suites give the same verdicts with
//! time slices 30 times shorter (`pintos-test --rate 33333333`: a timer tick every 333 k
//! instructions instead of every 10 M), and a run is identical, byte for byte, every time.
//!
//! Why: a kernel whose fork or file system has a race passes at the default rate and
//! fails when preempted more often (a complete C solution we measured passes under plain
//! QEMU yet panics in fork under `-icount shift=5`). Shorter slices put preemption points
//! inside far more critical sections.

use std::path::{Path, PathBuf};
use std::process::Command;

const PINTOS_TEST: &str = env!("CARGO_BIN_EXE_pintos-test");
/// The default rate (1 G instructions per virtual second) divided by 30.
const SHORT_SLICES: &str = "33333333";

fn scratch_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pintos-tests-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs `pintos-test` with `args` in `dir`, writing to `dir/out`; returns the results
/// file's lines and the console text.
fn run(dir: &Path, out: &str, args: &[&str]) -> (Vec<String>, String) {
    let o = Command::new(PINTOS_TEST).args(args).args(["--out", out, "-j", "2"]).current_dir(dir).output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    let results = std::fs::read_to_string(dir.join(out).join("results")).unwrap_or_else(|e| panic!("{e}\n{text}"));
    (results.lines().map(str::to_string).collect(), text)
}

/// Every `.output` file under `dir`, relative path and contents.
fn outputs(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "output") {
                found.push((p.strip_prefix(dir).unwrap().to_path_buf(), std::fs::read(&p).unwrap()));
            }
        }
    }
    found.sort();
    found
}

fn passed(results: &[String]) -> Vec<&str> {
    results.iter().filter_map(|l| l.strip_prefix("pass ")).collect()
}

#[test]
fn userprog_and_filesys_verdicts_do_not_change_with_30x_shorter_slices_and_runs_repeat_exactly() {
    let dir = scratch_dir("short-slices-userprog");
    let suite = ["tests/userprog", "tests/filesys/base"];
    let (normal, text) = run(&dir, "a", &suite);
    let (again, _) = run(&dir, "b", &suite);
    let (short, short_text) = run(&dir, "short", &[&suite[..], &["--rate", SHORT_SLICES]].concat());

    // Every test the kernel implements passes at the default rate ...
    for name in pintos_tests::catalogue::BUILTIN_USERPROG {
        let path = format!("tests/userprog/{name}");
        assert!(passed(&normal).contains(&path.as_str()), "{path} failed\n{text}");
    }
    for name in pintos_tests::catalogue::BUILTIN_FILESYS_BASE {
        let path = format!("tests/filesys/base/{name}");
        assert!(passed(&normal).contains(&path.as_str()), "{path} failed\n{text}");
    }
    // ... and with short slices: the same verdict for every test.
    assert_eq!(short, normal, "verdicts differ with --rate {SHORT_SLICES}\n{short_text}");

    // Deterministic: a second run writes the same consoles, byte for byte.
    let (a, b) = (outputs(&dir.join("a")), outputs(&dir.join("b")));
    assert_eq!(a.len(), normal.len());
    for ((pa, ca), (pb, cb)) in a.iter().zip(&b) {
        assert_eq!(pa, pb);
        assert!(ca == cb, "{} differs between two runs", pa.display());
    }
    // The short-slice runs really ran at the lower rate: the kernel's delay-loop
    // calibration counts loops per virtual second, about 30 times fewer.
    let loops = |out: &[u8]| -> u64 {
        let s = String::from_utf8_lossy(out);
        let line = s.lines().find(|l| l.starts_with("Calibrating timer...")).unwrap_or_else(|| panic!("no calibration line\n{s}")).to_string();
        line.trim_start_matches("Calibrating timer...").trim().trim_end_matches(" loops/s.").replace(',', "").parse().unwrap()
    };
    let fork = Path::new("tests/userprog/fork-multiple.output");
    let normal_out = &a.iter().find(|(p, _)| p == fork).unwrap().1;
    let short_out = std::fs::read(dir.join("short").join(fork)).unwrap();
    let (n, s) = (loops(normal_out), loops(&short_out));
    assert!(s * 20 < n && s * 40 > n, "loops/s {n} at the default rate, {s} with short slices");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn alarm_and_priority_pass_with_30x_shorter_slices() {
    let dir = scratch_dir("short-slices-threads");
    let (results, text) = run(&dir, "out", &["tests/threads/alarm", "tests/threads/priority", "--rate", SHORT_SLICES]);
    assert_eq!(results.len(), 18, "{text}");
    assert_eq!(passed(&results).len(), 18, "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}
