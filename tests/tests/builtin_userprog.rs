//! End to end: `pintos-test tests/userprog` on the built-in kernel (our Rust kernel with
//! its file system and user programs) runs every userprog test as Pintos' `make check`
//! does (as the userprog project with the dup2 extra, the default for a tests/userprog
//! selection on the built-in kernel), with our programs (user/src/bin, built into
//! target/pintos/user) and data files. Every test passes, no-vm/multi-oom and the dup2
//! tests included, and the run exits 0. A deliberately wrong spec fails on a real output.

mod common;

use std::path::Path;

use common::{passed, pintos_test, results, scratch_dir};
use pintos_tests::catalogue::{find, Project, BUILTIN_USERPROG};
use pintos_tests::check::{check, check_with, RunFacts};
use pintos_tests::spec::Spec;

#[test]
fn builtin_kernel_passes_every_userprog_test() {
    // The dev-dependencies build the kernel and the programs.
    assert!(Path::new(disk_images::OS_DSK).is_file(), "{}", disk_images::OS_DSK);
    assert!(user_programs::path("args-many").is_file(), "{}", user_programs::USER_DIR);
    let dir = scratch_dir("userprog");
    let (code, text) = pintos_test(&dir, &["tests/userprog", "--out", "out", "-j", "2"]);
    assert_eq!(code, Some(0), "{text}");

    let results = results(&dir.join("out"));
    let mut want: Vec<String> = BUILTIN_USERPROG.iter().map(|n| format!("tests/userprog/{n}")).collect();
    want.sort();
    let got = passed(&results);
    assert_eq!(got, want, "passed tests differ from BUILTIN_USERPROG\n{text}");
    // BUILTIN_USERPROG is the whole userprog-extra catalogue under tests/userprog.
    let mut all: Vec<String> = Project::UserprogExtra.tests().iter().map(|t| t.path.clone()).filter(|p| p.starts_with("tests/userprog/")).collect();
    all.sort();
    assert_eq!(all, want);
    for t in ["tests/userprog/no-vm/multi-oom", "tests/userprog/dup2/dup2-simple", "tests/userprog/dup2/dup2-complex"] {
        assert!(got.iter().any(|g| g == t), "{t} did not pass\n{text}");
    }
    assert_eq!(results.len(), want.len());
    assert!(text.contains(&format!("All {} tests passed.", results.len())), "{text}");

    // multi-oom's hundreds of processes gave back every page and heap block: the
    // kernel's figures at power-off equal those before the first process.
    let output = std::fs::read_to_string(dir.join("out/tests/userprog/no-vm/multi-oom.output")).unwrap();
    let figures = |prefix: &str| output.lines().find(|l| l.starts_with(prefix)).map(|l| l[prefix.len()..].to_string()).unwrap_or_else(|| panic!("no {prefix}\n{output}"));
    assert_eq!(figures("Palloc before user programs: "), figures("Palloc: "), "{output}");
    assert_eq!(figures("Heap before user programs: "), figures("Heap: "), "{output}");

    // Each run left its files in the Pintos layout; the test program ran with its data.
    let base = dir.join("out/tests/userprog/read-normal");
    assert_eq!(std::fs::read_to_string(base.with_extension("result")).unwrap(), "PASS\n");
    let output = std::fs::read_to_string(base.with_extension("output")).unwrap();
    assert!(output.contains("(read-normal) verified contents of \"sample.txt\""), "{output}");
    assert!(output.contains("Executing 'read-normal':"), "{output}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_wrong_spec_fails_on_a_real_run() {
    let dir = scratch_dir("userprog-wrong");
    let (code, text) = pintos_test(&dir, &["tests/userprog/create-exists", "tests/userprog/bad-read", "--out", "out", "-j", "2"]);
    assert_eq!(code, Some(0), "{text}");
    let output = std::fs::read_to_string(dir.join("out/tests/userprog/create-exists.output")).unwrap();
    let test = find("tests/userprog/create-exists").unwrap();
    // The embedded spec passes this output ...
    assert!(check(test, &output, RunFacts::default()).pass, "{output}");
    // ... a spec expecting the re-create to succeed does not,
    let wrong = Spec::parse(
        "--- form\n(create-exists) begin\n(create-exists) create quux.dat\n(create-exists) create warble.dat\n(create-exists) create quux.dat again\n(create-exists) end\ncreate-exists: exit(0)\n",
        "wrong.exp",
    )
    .unwrap();
    let v = check_with(test, &output, RunFacts::default(), Some(&wrong));
    assert!(!v.pass && v.messages[0] == "Test output failed to match any acceptable form.", "{v:?}");
    // ... nor one with the wrong exit code (exit codes are checked).
    let wrong_exit = Spec::parse(&std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/expected/userprog/create-exists.exp")).unwrap().replace("exit(0)", "exit(1)"), "wrong.exp").unwrap();
    assert!(!check_with(test, &output, RunFacts::default(), Some(&wrong_exit)).pass);
    // A spec that forgets the process's exit(-1) fails too.
    let output = std::fs::read_to_string(dir.join("out/tests/userprog/bad-read.output")).unwrap();
    let test = find("tests/userprog/bad-read").unwrap();
    let no_exit = Spec::parse("option ignore-user-faults\n--- form\n(bad-read) begin\n", "wrong.exp").unwrap();
    assert!(!check_with(test, &output, RunFacts::default(), Some(&no_exit)).pass, "{output}");
    let _ = std::fs::remove_dir_all(&dir);
}
