//! The heaviest project-3 tests on the built-in kernel, one at a time with their catalogue
//! settings: per test, instructions retired, virtual time, page faults (#PF taken),
//! swap-disk sectors read and written, and host wall time, plus whether it passed.
//!
//!     cargo bench -p pintos-tests --bench vm            (all of them)
//!     cargo bench -p pintos-tests --bench vm -- swap    (names containing "swap")
//!
//! Figures only, no thresholds: compare them across changes.

use std::path::PathBuf;

use pintos_tests::catalogue::{find, Project};
use pintos_tests::runner::{self, Setup};

const HEAVY: &[&str] = &[
    "swap-iter", "swap-anon", "swap-file", "swap-fork", "page-merge-seq", "page-merge-par",
    "page-merge-stk", "page-merge-mm", "page-shuffle", "page-parallel", "page-linear",
];

fn main() {
    // `cargo bench` passes `--bench`; any other argument filters the tests by name.
    let filter: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    let os_disk = PathBuf::from(disk_images::OS_DSK);
    let out = std::env::temp_dir().join(format!("pintos-vm-bench-{}", std::process::id()));
    // Figures of the run alone: no watcher.
    let setup = Setup { behaviour: false, ..Setup::new(Project::Vm, os_disk, vec![PathBuf::from(user_programs::USER_DIR)], out.clone()) };
    println!("{:<16} {:>14} {:>10} {:>11} {:>12} {:>12} {:>9}  verdict", "test", "instructions", "virtual s", "page faults", "swap read", "swap written", "host s");
    for name in HEAVY.iter().filter(|n| filter.is_empty() || filter.iter().any(|f| n.contains(f.as_str()))) {
        let test = find(&format!("tests/vm/{name}")).expect("a catalogue test");
        let (console, report) = match runner::run_machine(&setup, test) {
            Ok(r) => r,
            Err(e) => {
                println!("{name:<16} error: {e}");
                continue;
            }
        };
        let verdict = pintos_tests::check::check(test, &String::from_utf8_lossy(&console), Default::default());
        let f = &report.figures;
        let swap = f.disks[1][1];
        println!(
            "{:<16} {:>14} {:>10.3} {:>11} {:>12} {:>12} {:>9.2}  {}",
            name,
            f.instructions,
            f.virtual_ns as f64 / 1e9,
            f.exceptions.get(&14).copied().unwrap_or(0),
            swap.sectors_read,
            swap.sectors_written,
            f.host.as_secs_f64(),
            if verdict.pass { "pass" } else { "FAIL" }
        );
    }
    let _ = std::fs::remove_dir_all(&out);
}
