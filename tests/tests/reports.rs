//! `pintos-test`'s reports and errors, end to end through the binary on the built-in
//! kernel: `--json` parses back with every documented field and type, `--junit` is JUnit
//! XML with suite counts, cases and failures, `--trace` writes a Chrome trace per test,
//! `--partition` runs and grades a slice and `--merge` joins slices, and a bad option, an
//! unknown prefix or a missing kernel is one line on stderr with a non-zero exit.

mod common;

use std::path::Path;
use std::process::Command;

use common::{scratch_dir, PINTOS_TEST};
use serde_json::Value;

/// Runs `pintos-test ARGS` in `dir`: (exit code, stdout, stderr).
fn run(dir: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(PINTOS_TEST).args(args).current_dir(dir).output().unwrap();
    (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn assert_built_in_kernel() {
    assert!(Path::new(disk_images::OS_DSK).is_file(), "no built-in kernel at {}", disk_images::OS_DSK);
}

#[test]
fn json_junit_and_trace_reports_parse() {
    assert_built_in_kernel();
    let dir = scratch_dir("reports");
    let (code, stdout, stderr) = run(&dir, &["tests/userprog/args-single", "tests/vm/pt-grow-stack", "--project", "vm", "-j", "2", "--json", "r.json", "--junit", "r.xml", "--trace"]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    // The final listing puts the output check and the behaviour checks side by side.
    assert!(stdout.lines().any(|l| l.starts_with("pass tests/vm/pt-grow-stack") && l.contains("output pass") && l.contains("checks ")), "{stdout}");
    assert!(stdout.contains("All 2 tests passed."), "{stdout}");

    // JSON: an object with the run's project and a tests array, every field typed.
    let r = read_json(&dir.join("r.json"));
    assert_eq!((r["format"].as_str(), r["version"].as_u64(), r["project"].as_str()), (Some("pintos-test-report"), Some(1), Some("vm")));
    assert!(r["partition"].is_null());
    let tests = r["tests"].as_array().unwrap();
    assert_eq!(tests.iter().map(|t| t["name"].as_str().unwrap()).collect::<Vec<_>>(), ["tests/userprog/args-single", "tests/vm/pt-grow-stack"]);
    for t in tests {
        assert_eq!(t["verdict"], "pass", "{t}");
        assert_eq!(t["output"], "pass", "{t}");
        assert_eq!(t["reason"], "", "{t}");
        for k in ["instructions", "virtual_ns", "wall_ms", "page_faults", "rate"] {
            assert!(t[k].is_u64(), "{k} in {t}");
        }
        assert!(t["instructions"].as_u64().unwrap() > 1_000_000, "{t}");
        for role in ["os", "fs", "scratch", "swap"] {
            for k in ["read", "written"] {
                assert!(t["sectors"][role][k].is_u64(), "sectors.{role}.{k} in {t}");
            }
        }
        // The kernel boots from the os disk and the test's program comes in on the scratch disk.
        assert!(t["sectors"]["os"]["read"].as_u64().unwrap() > 0 && t["sectors"]["scratch"]["read"].as_u64().unwrap() > 0, "{t}");
        for c in t["checks"].as_array().unwrap() {
            assert!(c["name"].is_string() && c["reason"].is_string(), "{c}");
            assert!(["pass", "fail", "skipped"].contains(&c["verdict"].as_str().unwrap()), "{c}");
        }
    }
    // pt-grow-stack grows its stack by faulting.
    assert!(tests[1]["page_faults"].as_u64().unwrap() > 0, "{}", tests[1]);

    // JUnit: a suite with counts, a case per test.
    let xml = std::fs::read_to_string(dir.join("r.xml")).unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap_or_else(|e| panic!("{e}\n{xml}"));
    let suite = doc.descendants().find(|n| n.has_tag_name("testsuite")).unwrap();
    assert_eq!((suite.attribute("tests"), suite.attribute("failures")), (Some("2"), Some("0")));
    let cases: Vec<_> = suite.children().filter(|n| n.has_tag_name("testcase")).collect();
    assert_eq!(cases.iter().map(|c| (c.attribute("classname").unwrap(), c.attribute("name").unwrap())).collect::<Vec<_>>(), [("tests.userprog", "args-single"), ("tests.vm", "pt-grow-stack")]);
    for c in &cases {
        assert!(c.attribute("time").unwrap().parse::<f64>().is_ok(), "{xml}");
        assert!(!c.children().any(|n| n.has_tag_name("failure") || n.has_tag_name("skipped")), "{xml}");
    }

    // Traces beside the outputs: traceEvents, each with name, ph, ts, pid and tid.
    for t in ["tests/userprog/args-single", "tests/vm/pt-grow-stack"] {
        let path = dir.join(format!("pintos-test-out/{t}.trace.json"));
        let trace = read_json(&path);
        let events = trace["traceEvents"].as_array().unwrap_or_else(|| panic!("{}: no traceEvents", path.display()));
        for e in events {
            assert!(e["name"].is_string() && e["ph"].is_string() && e["ts"].is_number() && e["pid"].is_u64() && e["tid"].is_u64(), "{t}: {e}");
        }
        let named = |prefix: &str| events.iter().filter(|e| e["name"].as_str().unwrap().starts_with(prefix)).count();
        assert!(named("page fault 0x") > 0, "{t}: no page fault");
        assert!(named("cr3 0x") > 1, "{t}: no address-space spans");
        assert!(named("read os ") > 0 && named("read scratch ") > 0 && named("write fs ") > 0, "{t}: disk transfers missing");
        // The program writes its messages and exits: system calls by their KAIST names.
        let syscall = |name: &str| events.iter().filter(|e| e["name"] == name && e["tid"] == 4 && e["args"]["number"].is_u64()).count();
        assert!(syscall("write") > 0 && syscall("exit") == 1, "{t}: system calls missing");
        assert!(named("power off") == 1, "{t}");
        // Complete events on one track never overlap (a viewer would nest them).
        let mut spans: Vec<(u64, f64, f64)> = events.iter().filter(|e| e["ph"] == "X").map(|e| (e["tid"].as_u64().unwrap(), e["ts"].as_f64().unwrap(), e["dur"].as_f64().unwrap())).collect();
        spans.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
        for w in spans.windows(2).filter(|w| w[0].0 == w[1].0) {
            assert!(w[0].1 + w[0].2 < w[1].1, "{t}: spans overlap: {w:?}");
        }
        assert_eq!(trace["otherData"]["test"], t);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_failure_is_in_every_report() {
    assert_built_in_kernel();
    let dir = scratch_dir("reports-fail");
    // At 1000 instructions per virtual second the kernel cannot boot within the test's
    // 60 virtual seconds: a TIMEOUT, in milliseconds of host time.
    let (code, stdout, stderr) = run(&dir, &["tests/threads/alarm-zero", "--rate", "1000", "--json", "f.json", "--junit", "f.xml"]);
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    assert!(stdout.contains("FAIL tests/threads/alarm-zero   output fail   checks none\n     output: run: TIMEOUT\n"), "{stdout}");
    let t = &read_json(&dir.join("f.json"))["tests"][0];
    assert_eq!((t["verdict"].as_str(), t["reason"].as_str()), (Some("fail"), Some("run: TIMEOUT")));
    let xml = std::fs::read_to_string(dir.join("f.xml")).unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let suite = doc.descendants().find(|n| n.has_tag_name("testsuite")).unwrap();
    assert_eq!((suite.attribute("tests"), suite.attribute("failures")), (Some("1"), Some("1")));
    let failure = doc.descendants().find(|n| n.has_tag_name("failure")).unwrap_or_else(|| panic!("{xml}"));
    assert_eq!(failure.attribute("message"), Some("run: TIMEOUT"));
    assert_eq!(failure.parent().unwrap().attribute("name"), Some("alarm-zero"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn partitions_run_slices_and_merge_into_the_whole() {
    assert_built_in_kernel();
    let dir = scratch_dir("reports-partition");
    let sel = ["tests/threads/alarm-zero", "tests/threads/alarm-negative", "tests/threads/alarm-single"];
    let mut slices = Vec::new();
    for k in 1..=2 {
        let part = format!("{k}/2");
        let (json, out) = (format!("p{k}.json"), format!("out{k}"));
        let mut args: Vec<&str> = sel.to_vec();
        args.extend(["--partition", &part, "--json", &json, "--grade", "--out", &out]);
        let (code, stdout, stderr) = run(&dir, &args);
        assert_eq!(code, Some(0), "{stdout}{stderr}");
        assert!(stdout.contains(&format!("note: partition {k}/2: graded only the")), "{stdout}");
        let r = read_json(&dir.join(&json));
        assert_eq!(r["partition"].as_str(), Some(part.as_str()));
        slices.push(r["tests"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap().to_string()).collect::<Vec<_>>());
    }
    // Catalogue order: alarm-single, alarm-zero, alarm-negative; slice 1 has the 1st and 3rd.
    assert_eq!(slices, [vec!["tests/threads/alarm-single", "tests/threads/alarm-negative"], vec!["tests/threads/alarm-zero"]]);

    let (code, stdout, stderr) = run(&dir, &["--merge", "p1.json", "p2.json", "--json", "all.json", "--junit", "all.xml", "--grade", "--out", "merged"]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("All 3 tests passed."), "{stdout}");
    // The whole threads grade: the other 24 threads tests were not run.
    assert!(stdout.contains("warning: tests/threads/alarm-multiple not tested, assuming failure") && !stdout.contains("note: partition"), "{stdout}");
    let all = read_json(&dir.join("all.json"));
    assert!(all["partition"].is_null());
    assert_eq!(all["tests"].as_array().unwrap().len(), 3);
    assert!(roxmltree::Document::parse(&std::fs::read_to_string(dir.join("all.xml")).unwrap()).is_ok());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn checks_option_lists_every_behaviour_check() {
    let dir = scratch_dir("reports-checks");
    let (code, stdout, stderr) = run(&dir, &["--checks"]);
    assert_eq!(code, Some(0), "{stderr}");
    for c in pintos_tests::behaviour::CHECKS {
        let line = stdout.lines().find(|l| l.split_whitespace().next() == Some(c.name)).unwrap_or_else(|| panic!("{} missing\n{stdout}", c.name));
        assert!(line.contains(c.summary) && line.contains(if c.needs_claims { "needs" } else { " - " }), "{line}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Runs `pintos-test ARGS` (from `exe`) and checks it failed with one line on stderr that
/// contains `says`, and nothing on stdout.
fn assert_one_line_error(exe: &Path, dir: &Path, args: &[&str], says: &str) {
    let out = Command::new(exe).args(args).current_dir(dir).output().unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(2), "{args:?}: {stdout}{stderr}");
    assert!(stdout.is_empty(), "{args:?}: stdout {stdout}");
    assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
    assert!(stderr.starts_with("pintos-test: ") && stderr.contains(says), "{args:?}: {stderr}");
}

#[test]
fn usage_and_setup_errors_are_one_line() {
    let dir = scratch_dir("reports-errors");
    let exe = Path::new(PINTOS_TEST);
    assert_one_line_error(exe, &dir, &["--bogus"], "unexpected argument '--bogus'");
    assert_one_line_error(exe, &dir, &["--project", "nope"], "invalid value 'nope' for '--project <PROJECT>' [possible values: threads, userprog, userprog-extra, vm]");
    assert_one_line_error(exe, &dir, &["--partition", "5/4"], "bad partition `5/4`");
    assert_one_line_error(exe, &dir, &["tests/no-such-test"], "no test of the threads project matches tests/no-such-test");
    assert_one_line_error(exe, &dir, &["tests/threads", "--os-disk", "missing/os.dsk"], "boot disk missing/os.dsk not found");
    assert_one_line_error(exe, &dir, &["--merge", "missing.json"], "reading missing.json");
    // A pintos-test with no built-in kernel next to it, run where there is no ./os.dsk.
    let lonely = dir.join("a/b/bin/pintos-test");
    std::fs::create_dir_all(lonely.parent().unwrap()).unwrap();
    std::fs::copy(exe, &lonely).unwrap();
    assert_one_line_error(&lonely, &dir, &["tests/threads"], "no ./os.dsk and no built-in kernel");
    let _ = std::fs::remove_dir_all(&dir);
}
