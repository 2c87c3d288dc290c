//! A correct kernel passes under any disk speed: the whole built-in catalogue (threads,
//! userprog with its extras, filesys base) passes with an instant disk (`--disk-latency
//! 0`, every command complete on the access after it) and with a slow one (1 ms per
//! command on top of the default per-sector time). The default timing is covered by
//! `builtin_*.rs`, and the default with 30 times shorter time slices by `short_slices.rs`.

mod common;

use common::{passed, pintos_test, results, scratch_dir};
use pintos_tests::catalogue::{BUILTIN_FILESYS_BASE, BUILTIN_USERPROG};

/// Runs the whole built-in catalogue with `timing` (pintos-test options) and checks every
/// test passed.
fn whole_catalogue_passes(name: &str, timing: &[&str]) {
    let dir = scratch_dir(name);
    // The threads tests are their own project; userprog and filesys base share one.
    for (suite, out) in [(&["tests/threads"][..], "threads"), (&["tests/userprog", "tests/filesys/base"][..], "userprog")] {
        let args = [suite, &["--out", out, "-j", "2"][..], timing].concat();
        let (code, text) = pintos_test(&dir, &args);
        assert_eq!(code, Some(0), "{text}");
        let r = results(&dir.join(out));
        let got = passed(&r);
        assert_eq!(r.len(), got.len(), "{text}");
        if out == "threads" {
            assert_eq!(got.len(), 27, "{text}");
            assert!(got.iter().all(|t| t.starts_with("tests/threads/")), "{text}");
        } else {
            let mut want: Vec<String> = BUILTIN_USERPROG.iter().map(|n| format!("tests/userprog/{n}")).chain(BUILTIN_FILESYS_BASE.iter().map(|n| format!("tests/filesys/base/{n}"))).collect();
            want.sort();
            assert_eq!(got, want, "{text}");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn whole_catalogue_passes_with_an_instant_disk() {
    whole_catalogue_passes("disk-instant", &["--disk-latency", "0"]);
}

#[test]
fn whole_catalogue_passes_with_1ms_per_disk_command() {
    whole_catalogue_passes("disk-1ms", &["--disk-latency", "1000000"]);
}
