//! Helpers shared by the end-to-end tests that run the `pintos-test` binary.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

pub const PINTOS_TEST: &str = env!("CARGO_BIN_EXE_pintos-test");

/// A fresh empty working directory (so no ./os.dsk is found there).
pub fn scratch_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pintos-tests-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs `pintos-test ARGS` in `dir`: (exit code, stdout + stderr).
pub fn pintos_test(dir: &Path, args: &[&str]) -> (Option<i32>, String) {
    let out = Command::new(PINTOS_TEST).args(args).current_dir(dir).output().unwrap();
    (out.status.code(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

/// The final results list of a `pintos-test` run: (passed, test path) per line.
pub fn results(out: &Path) -> Vec<(bool, String)> {
    let text = std::fs::read_to_string(out.join("results")).unwrap_or_else(|e| panic!("{}: {e}", out.display()));
    text.lines()
        .map(|l| {
            let (verdict, path) = l.split_once(' ').unwrap();
            (verdict == "pass", path.to_string())
        })
        .collect()
}

/// The paths of the tests that passed, sorted.
pub fn passed(results: &[(bool, String)]) -> Vec<String> {
    let mut v: Vec<String> = results.iter().filter(|(p, _)| *p).map(|(_, t)| t.clone()).collect();
    v.sort();
    v
}

/// Every `.output` file under `dir`: (path relative to `dir`, contents), sorted.
pub fn outputs(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
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
