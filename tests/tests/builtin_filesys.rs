//! End to end: `pintos-test tests/filesys/base` on the built-in kernel runs the 13 base
//! file-system tests as the userprog project (Pintos grades them with project 2), with
//! our programs (user/src/bin, with the helpers child-syn-read and child-syn-wrt) and
//! specs (expected/filesys/base); all pass (`BUILTIN_FILESYS_BASE`). A second run gives
//! byte-identical consoles, and deliberately wrong specs fail on the real outputs.

mod common;

use std::path::Path;

use common::{pintos_test, results, scratch_dir};
use pintos_tests::catalogue::{find, BUILTIN_FILESYS_BASE};
use pintos_tests::check::{check, check_with, RunFacts};
use pintos_tests::spec::Spec;

fn output(out: &str, dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(out).join(format!("tests/filesys/base/{name}.output"))).unwrap()
}

#[test]
fn builtin_kernel_passes_every_filesys_base_test_deterministically() {
    // The dev-dependencies build the kernel and the programs.
    assert!(Path::new(disk_images::OS_DSK).is_file(), "{}", disk_images::OS_DSK);
    assert!(user_programs::path("child-syn-wrt").is_file(), "{}", user_programs::USER_DIR);
    let dir = scratch_dir("filesys");

    // A selection under tests/filesys runs as the userprog project (a file system, the
    // helper programs put), with syn-read's longer time limit.
    let (code, text) = pintos_test(&dir, &["--list", "tests/filesys/base"]);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("(built-in kernel), project Userprog"), "{text}");
    assert!(text.contains("tests/filesys/base/syn-read weight=2 timeout=300"), "{text}");

    let (code, text) = pintos_test(&dir, &["tests/filesys/base", "--out", "out1", "-j", "2"]);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("All 13 tests passed."), "{text}");
    let results = results(&dir.join("out1"));
    let mut want: Vec<String> = BUILTIN_FILESYS_BASE.iter().map(|n| format!("tests/filesys/base/{n}")).collect();
    let mut got: Vec<String> = results.iter().filter(|(p, _)| *p).map(|(_, t)| t.clone()).collect();
    want.sort();
    got.sort();
    assert_eq!(got, want, "passed tests differ from BUILTIN_FILESYS_BASE\n{text}");
    assert_eq!(results.len(), 13, "{text}");

    // The runs had what the KAIST makefile gives them: the helper program put next to
    // the test, the children really ran (their exit lines are there, though not compared).
    let syn_read = output("out1", &dir, "syn-read");
    assert!(syn_read.contains("Putting 'child-syn-read' into the file system..."), "{syn_read}");
    assert_eq!(syn_read.matches("child-syn-read: exit(").count(), 10, "{syn_read}");
    let syn_write = output("out1", &dir, "syn-write");
    assert!(syn_write.contains("child-syn-wrt: exit(9)") && syn_write.contains("(syn-write) read \"stuff\""), "{syn_write}");
    assert_eq!(std::fs::read_to_string(dir.join("out1/tests/filesys/base/lg-seq-random.result")).unwrap(), "PASS\n");

    // Determinism: a second run prints the very same consoles.
    let (code, text) = pintos_test(&dir, &["tests/filesys/base", "--out", "out2", "-j", "2"]);
    assert_eq!(code, Some(0), "{text}");
    for name in BUILTIN_FILESYS_BASE {
        assert_eq!(output("out1", &dir, name), output("out2", &dir, name), "{name}: the two runs differ");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn wrong_filesys_specs_fail_on_real_runs() {
    let dir = scratch_dir("filesys-wrong");
    let (code, text) = pintos_test(&dir, &["tests/filesys/base/syn-remove", "tests/filesys/base/syn-read", "--out", "out", "-j", "2"]);
    assert_eq!(code, Some(0), "{text}");

    let out = output("out", &dir, "syn-remove");
    let test = find("tests/filesys/base/syn-remove").unwrap();
    let spec_text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/expected/filesys/base/syn-remove.exp")).unwrap();
    // The embedded spec passes this output ...
    assert!(check(test, &out, RunFacts::default()).pass, "{out}");
    // ... one that expects the removed file's read to be missing does not,
    let wrong = Spec::parse(&spec_text.replace("(syn-remove) read \"deleteme\"\n", ""), "wrong.exp").unwrap();
    let v = check_with(test, &out, RunFacts::default(), Some(&wrong));
    assert!(!v.pass && v.messages[0] == "Test output failed to match any acceptable form.", "{v:?}");
    // ... nor one that compares exit lines without listing them (the option matters).
    let strict = Spec::parse(&spec_text.replace("option ignore-exit-codes\n", ""), "strict.exp").unwrap();
    assert!(!check_with(test, &out, RunFacts::default(), Some(&strict)).pass, "{out}");

    // syn-read: the children's exit lines are ignored, but the parent's wait results are
    // not: a child returning the wrong status fails.
    let out = output("out", &dir, "syn-read");
    let test = find("tests/filesys/base/syn-read").unwrap();
    assert!(check(test, &out, RunFacts::default()).pass, "{out}");
    // The children may finish in any order (they do at a lower clock rate): their exit
    // lines, moved to the end in reverse order, still pass.
    let (exits, rest): (Vec<&str>, Vec<&str>) = out.lines().partition(|l| l.starts_with("child-syn-read: exit("));
    assert_eq!(exits.len(), 10, "{out}");
    let end = rest.iter().position(|l| *l == "(syn-read) end").unwrap();
    let mut moved: Vec<&str> = rest[..end].to_vec();
    moved.extend(exits.iter().rev());
    moved.extend(&rest[end..]);
    assert!(check(test, &moved.join("\n"), RunFacts::default()).pass, "{moved:?}");
    let bad = out.replace("returned 4 (expected 4)", "returned -1 (expected 4)");
    assert!(!check(test, &bad, RunFacts::default()).pass);
    // A child's failure message fails the run whatever the spec says.
    let failed = out.replace("(syn-read) end", "(child-syn-read) 1 bytes read starting at offset 7 in \"data\" differ from expected: FAILED\n(syn-read) end");
    let v = check(test, &failed, RunFacts::default());
    assert!(!v.pass && v.messages[0].contains("differ from expected"), "{v:?}");
    let _ = std::fs::remove_dir_all(&dir);
}
