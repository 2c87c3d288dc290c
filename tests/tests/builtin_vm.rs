//! End to end: project 3 on the built-in kernel. `pintos-test --project vm --grade` runs
//! the whole project-3 set (alarm, priority, userprog, filesys base, every vm test and the
//! cow extra) with our programs (user/src/bin) and specs (expected/vm), and prints a
//! perfect score, twice identically; the vm tests also pass with 30 times shorter time
//! slices; and the heaviest programs give back every page, heap block, frame and swap
//! slot.

mod common;

use std::path::Path;

use common::{outputs, passed, pintos_test, results, scratch_dir};
use pintos_tests::catalogue::BUILTIN_VM;

/// The default rate (400 M instructions per virtual second) divided by 30.
const SHORT_SLICES: &str = "13333333";

fn vm_paths() -> Vec<String> {
    let mut v: Vec<String> = BUILTIN_VM.iter().map(|n| format!("tests/vm/{n}")).collect();
    v.sort();
    v
}

/// The numbers on the console line starting with `prefix`.
fn figures(console: &str, prefix: &str) -> Vec<u64> {
    let line = console.lines().find(|l| l.starts_with(prefix)).unwrap_or_else(|| panic!("no `{prefix}` line:\n{console}"));
    line.split(|c: char| !c.is_ascii_digit()).filter(|w| !w.is_empty()).map(|w| w.parse().unwrap()).collect()
}

#[test]
fn project_3_grades_perfect_twice_identically() {
    assert!(Path::new(disk_images::OS_DSK).is_file(), "{}", disk_images::OS_DSK);
    let dir = scratch_dir("vm-grade");
    let run = |out: &str| {
        let (code, text) = pintos_test(&dir, &["--project", "vm", "--grade", "--out", out, "-j", "2"]);
        assert_eq!(code, Some(0), "{text}");
        text
    };
    let text = run("a");
    let r = results(&dir.join("a"));
    assert_eq!(r.len(), 141, "{text}");
    assert_eq!(passed(&r).len(), 141, "{text}");
    let got = passed(&r);
    for t in vm_paths() {
        assert!(got.contains(&t), "{t} did not pass\n{text}");
    }
    let grade = std::fs::read_to_string(dir.join("a/grade")).unwrap();
    assert!(grade.contains("TOTAL TESTING SCORE: 125.0%") && grade.contains("ALL TESTED PASSED -- PERFECT SCORE"), "{grade}");
    assert!(grade.contains("tests/vm/cow/Rubric                             1/  1  25.0%/ 25.0%"), "{grade}");

    // Deterministic: a second run writes the same consoles, byte for byte.
    run("b");
    let (a, b) = (outputs(&dir.join("a")), outputs(&dir.join("b")));
    assert_eq!(a.len(), 141);
    assert_eq!(a.iter().map(|(p, _)| p).collect::<Vec<_>>(), b.iter().map(|(p, _)| p).collect::<Vec<_>>());
    for ((path, ca), (_, cb)) in a.iter().zip(&b) {
        assert!(ca == cb, "{} differs between two runs", path.display());
    }

    // The heaviest programs give everything back: free pages, heap, frames in use and free
    // swap slots at power-off equal the figures before the first process; and the swap
    // tests did use the swap disk.
    for t in ["swap-fork", "swap-iter", "swap-anon", "swap-file", "page-merge-par", "page-merge-mm", "page-parallel", "page-shuffle", "mmap-shuffle", "cow/cow-simple"] {
        let console = std::fs::read_to_string(dir.join(format!("a/tests/vm/{t}.output"))).unwrap();
        for what in ["Palloc", "Heap", "Frames"] {
            assert_eq!(figures(&console, &format!("{what} before user programs: ")), figures(&console, &format!("{what}: ")), "{t}: {what}\n{console}");
        }
        // (swap-fork's children share their pages copy-on-write, and fit in its 40 MB.)
        if ["swap-iter", "swap-anon", "swap-file"].contains(&t) {
            // The power-off counters: `hd1:1: R reads, W writes`.
            let counters = console.lines().rev().find(|l| l.starts_with("hd1:1: ") && l.ends_with(" writes")).unwrap_or_else(|| panic!("{t}: no swap counters\n{console}"));
            let n: Vec<u64> = counters.split(|c: char| !c.is_ascii_digit()).filter(|w| !w.is_empty()).map(|w| w.parse().unwrap()).collect();
            assert!(n[2] > 0 && n[3] > 0, "{t} read and wrote no swap: {counters}\n{console}");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn vm_suite_passes_with_30x_shorter_slices() {
    let dir = scratch_dir("vm-short-slices");
    let (code, text) = pintos_test(&dir, &["tests/vm", "--rate", SHORT_SLICES, "--out", "out", "-j", "2"]);
    assert_eq!(code, Some(0), "{text}");
    let r = results(&dir.join("out"));
    assert_eq!(passed(&r), vm_paths(), "{text}");
    assert_eq!(r.len(), BUILTIN_VM.len(), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}
