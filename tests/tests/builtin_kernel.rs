//! End to end: the `pintos-test` binary, run where there is no ./os.dsk and given no
//! --os-disk, tests the built-in kernel (target/pintos/os.dsk, our Rust Pintos kernel)
//! as the threads project, passes a few fast threads tests with the harness's checker,
//! and files the results in the Pintos build-directory layout. Also checks that the
//! `pintos` launcher hands `pintos test` to it, and runs the whole threads suite (all 27
//! tests, checked with Pintos' rules) as the README's main job does.

use std::path::Path;
use std::process::{Command, Output};

mod common;

use common::{scratch_dir, PINTOS_TEST};

fn run(exe: &Path, args: &[&str], cwd: &Path) -> (Output, String) {
    let out = Command::new(exe).args(args).current_dir(cwd).output().expect("run");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out, text)
}

/// The built-in kernel must be where both binaries look for it (the dev-dependency on
/// disk-images builds it).
fn assert_builtin_kernel_exists() {
    assert!(Path::new(disk_images::OS_DSK).is_file(), "{}", disk_images::OS_DSK);
    let builtin = emulator::pintos::builtin_os_disk(Path::new(PINTOS_TEST));
    assert!(builtin.is_some(), "no target/pintos/os.dsk next to {PINTOS_TEST}");
}

#[test]
fn builtin_kernel_passes_fast_threads_tests_with_output_files() {
    assert_builtin_kernel_exists();
    let dir = scratch_dir("builtin");
    let tests = ["tests/threads/alarm-single", "tests/threads/priority-donate-chain", "tests/threads/alarm-zero"];

    // Default project for the built-in kernel: threads.
    let (out, text) = run(Path::new(PINTOS_TEST), &["--list", "tests/threads/alarm-zero"], &dir);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("(built-in kernel), project Threads"), "{text}");

    let mut args = vec!["--out", "out", "-j", "2"];
    args.extend(tests);
    let (out, text) = run(Path::new(PINTOS_TEST), &args, &dir);
    assert_eq!(out.status.code(), Some(0), "{text}");
    for t in tests {
        assert!(text.contains(&format!("pass {t}\n")), "{text}");
        let base = dir.join("out").join(t);
        let result = std::fs::read_to_string(base.with_extension("result")).unwrap();
        assert_eq!(result.lines().next(), Some("PASS"), "{t}: {result}");
        let output = std::fs::read_to_string(base.with_extension("output")).unwrap();
        let name = t.rsplit('/').next().unwrap();
        assert!(output.contains(&format!("({name}) begin")) && output.contains("Powering off"), "{t}: {output}");
        assert!(base.with_extension("errors").is_file(), "{t}");
    }
    assert!(text.trim_end().ends_with("All 3 tests passed."), "{text}");
    // The results file lists the tests in catalogue order.
    let results = std::fs::read_to_string(dir.join("out/results")).unwrap();
    assert_eq!(results, "pass tests/threads/alarm-single\npass tests/threads/alarm-zero\npass tests/threads/priority-donate-chain\n");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn pintos_launcher_dispatches_test_to_pintos_test() {
    // `cargo test` builds the emulator's `pintos` next to `pintos-test` only when the
    // emulator's own tests are built too (as `cargo test --workspace` does).
    let pintos = Path::new(PINTOS_TEST).with_file_name(format!("pintos{}", std::env::consts::EXE_SUFFIX));
    // Never a silent skip: `cargo test --workspace` builds it; a narrower invocation must
    // build it first.
    assert!(pintos.is_file(), "{} is not built: run `cargo test --workspace` (or `cargo build -p emulator --bin pintos`)", pintos.display());
    assert_builtin_kernel_exists();
    let dir = scratch_dir("dispatch");
    let (out, text) = run(&pintos, &["test", "--list", "tests/threads/alarm-zero"], &dir);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("(built-in kernel), project Threads") && text.contains("tests/threads/alarm-zero "), "{text}");
    // The harness's exit status comes back: 2 for a usage error.
    let (out, text) = run(&pintos, &["test", "tests/no-such-test"], &dir);
    assert_eq!(out.status.code(), Some(2), "{text}");

    // Alone in a directory, `pintos test` explains what is missing.
    let lone = dir.join("pintos");
    std::fs::copy(&pintos, &lone).unwrap();
    let (out, text) = run(&lone, &["test", "tests/threads"], &dir);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert_eq!(text.trim(), "pintos: pintos-test not found next to pintos; run cargo build --release");
    let _ = std::fs::remove_dir_all(&dir);
}

/// All 27 threads tests on our kernel, each with its catalogue settings, checked by the
/// harness (exact specs, the alarm and fifo rules, the mlfqs tolerance checks).
#[test]
fn whole_threads_suite_passes_on_the_builtin_kernel() {
    assert_builtin_kernel_exists();
    let dir = scratch_dir("suite");
    let (out, text) = run(Path::new(PINTOS_TEST), &["tests/threads", "--out", "out", "-j", "2"], &dir);
    assert!(out.status.success(), "{text}");
    let passes = text.lines().filter(|l| l.starts_with("pass tests/threads/")).count();
    // Each test is reported as it finishes and again in the final list.
    assert_eq!(passes, 2 * 27, "{text}");
    assert!(!text.contains("FAIL"), "{text}");
    assert!(text.contains("All 27 tests passed."), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}
