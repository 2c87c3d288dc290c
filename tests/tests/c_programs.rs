//! C programs run unchanged: test programs written in C against our C runtime (user/c:
//! entry, system-call stubs, printf) and built by the system gcc with Pintos-KAIST's user
//! flags, put in a Pintos build-directory layout, go through the same harness and specs
//! as the Rust programs and pass. exec-once and wait-simple exec the Rust child-simple,
//! so C and Rust programs also mix within one test.

mod common;

use std::path::{Path, PathBuf};

use common::pintos_test;

/// Catalogue test → the C program (from user/c/bin) that is put in its place.
const C_PORTS: &[(&str, &str)] = &[
    ("halt", "c-halt"),
    ("exit", "c-exit"),
    ("create-normal", "c-create-normal"),
    ("fork-once", "c-fork-once"),
    ("exec-once", "c-exec-once"),
    ("wait-simple", "c-wait-simple"),
];

/// A scratch directory with an empty Pintos build layout in `build/`.
fn scratch_dir(name: &str) -> PathBuf {
    let dir = common::scratch_dir(name);
    std::fs::create_dir_all(dir.join("build/tests/userprog")).unwrap();
    dir
}

/// Runs the given userprog tests with `build` as the Pintos build directory the programs
/// come from; returns the results file and the console.
fn run(dir: &Path, tests: &[&str]) -> (String, String) {
    let build = dir.join("build").display().to_string();
    // An explicit boot disk: programs come only from --search, as for a KAIST build.
    let mut args = vec!["--os-disk", disk_images::OS_DSK, "--project", "userprog", "--search", &build, "--out", "out", "-j", "2"];
    let paths: Vec<String> = tests.iter().map(|t| format!("tests/userprog/{t}")).collect();
    args.extend(paths.iter().map(String::as_str));
    let (_, text) = pintos_test(dir, &args);
    let results = std::fs::read_to_string(dir.join("out/results")).unwrap_or_else(|e| panic!("{e}\n{text}"));
    (results, text)
}

fn put(dir: &Path, test: &str, program: &str) {
    std::fs::copy(user_programs::path(program), dir.join("build/tests/userprog").join(test)).unwrap();
}

#[test]
fn c_test_programs_pass_the_same_checks_as_the_rust_ones() {
    let dir = scratch_dir("c-programs");
    for (test, program) in C_PORTS {
        // Really the gcc-built program: the build lists it among the C programs.
        assert!(user_programs::c_programs().contains(program), "{program} is not a C program");
        put(&dir, test, program);
    }
    put(&dir, "child-simple", "child-simple");
    let tests: Vec<&str> = C_PORTS.iter().map(|(t, _)| *t).collect();
    let (results, text) = run(&dir, &tests);
    for t in &tests {
        assert!(results.contains(&format!("pass tests/userprog/{t}\n")), "{t}\n{text}");
    }
    assert!(text.contains(&format!("All {} tests passed.", tests.len())), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_c_program_in_the_wrong_place_fails() {
    let dir = scratch_dir("c-programs-wrong");
    put(&dir, "fork-once", "c-exit");
    let (results, text) = run(&dir, &["fork-once"]);
    assert_eq!(results, "FAIL tests/userprog/fork-once\n", "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The VM project through the C runtime, as gcc-built student programs would use it:
/// lazy bss pages (lazy-anon, with get_phys_addr), a 64 KiB stack object (the stack grows
/// page by page) and a file written through a writable mapping (mmap-write). They pass
/// the same specs as the Rust programs.
#[test]
fn c_programs_exercise_lazy_bss_stack_growth_and_mmap() {
    let dir = common::scratch_dir("c-programs-vm");
    let build = dir.join("build");
    std::fs::create_dir_all(build.join("tests/vm")).unwrap();
    let ports = [("lazy-anon", "c-lazy-anon"), ("pt-big-stk-obj", "c-pt-big-stk-obj"), ("mmap-write", "c-mmap-write")];
    for (test, program) in ports {
        assert!(user_programs::c_programs().contains(&program), "{program} is not a C program");
        std::fs::copy(user_programs::path(program), build.join("tests/vm").join(test)).unwrap();
    }
    let build = build.display().to_string();
    let mut args = vec!["--os-disk", disk_images::OS_DSK, "--project", "vm", "--search", &build, "--out", "out", "-j", "2"];
    let paths: Vec<String> = ports.iter().map(|(t, _)| format!("tests/vm/{t}")).collect();
    args.extend(paths.iter().map(String::as_str));
    let (_, text) = pintos_test(&dir, &args);
    let results = std::fs::read_to_string(dir.join("out/results")).unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert_eq!(results, "pass tests/vm/pt-big-stk-obj\npass tests/vm/mmap-write\npass tests/vm/lazy-anon\n", "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}
