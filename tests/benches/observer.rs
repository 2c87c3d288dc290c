//! What watching costs: one heavy test on the built-in kernel run with no observer, with
//! an observer that ignores every event (the cost of reporting events at all), with the
//! grader's watcher (every behaviour check), and with the watcher keeping the whole
//! timeline (`--trace`). Best of 3 host times each, and the overhead against no observer.
//!
//!     cargo bench -p pintos-tests --bench observer             (swap-iter)
//!     cargo bench -p pintos-tests --bench observer -- page-merge-seq
//!
//! Figures only, no thresholds. Every mode must retire exactly the same instructions:
//! observing never changes the run (checked).

use std::path::PathBuf;
use std::time::Instant;

use emulator::memory::PhysMemory;
use emulator::observe::{Event, Observer};
use pintos_tests::catalogue::{find, Project};
use pintos_tests::runner::{self, Setup};

/// Listens and does nothing.
struct Null;

impl Observer for Null {
    fn event(&mut self, _: u64, _: Event<'_>, _: Option<&PhysMemory>) {}
}

fn main() {
    let name = std::env::args().skip(1).find(|a| !a.starts_with("--")).unwrap_or_else(|| "swap-iter".into());
    let test = find(&format!("tests/vm/{name}")).unwrap_or_else(|| panic!("no catalogue test tests/vm/{name}"));
    let os_disk = PathBuf::from(disk_images::OS_DSK);
    let out = std::env::temp_dir().join(format!("pintos-observer-bench-{}", std::process::id()));
    // Figures of the run alone: no watcher.
    let setup = Setup { behaviour: false, ..Setup::new(Project::Vm, os_disk, vec![PathBuf::from(user_programs::USER_DIR)], out.clone()) };
    type Make = fn(&Setup, &pintos_tests::Test) -> Option<Box<dyn Observer>>;
    let modes: [(&str, Make); 4] = [
        ("no observer", |_, _| None),
        ("null observer", |_, _| Some(Box::new(Null))),
        ("watcher", |s, t| Some(Box::new(runner::watcher(s, t, false).unwrap()))),
        ("watcher + timeline", |s, t| Some(Box::new(runner::watcher(s, t, true).unwrap()))),
    ];
    println!("tests/vm/{name}, best of 3 host times:");
    let mut base = None;
    let mut instructions = None;
    for (label, make) in modes {
        let mut best = f64::MAX;
        for _ in 0..3 {
            let observer = make(&setup, test);
            let start = Instant::now();
            let (_, report, _) = runner::run_observed(&setup, test, observer).expect("the test runs");
            best = best.min(start.elapsed().as_secs_f64());
            let n = report.figures.instructions;
            assert_eq!(*instructions.get_or_insert(n), n, "observing changed the run");
        }
        let base = *base.get_or_insert(best);
        println!("  {label:<20} {best:>8.3} s  {:>+6.1}%", (best / base - 1.0) * 100.0);
    }
    println!("  {} guest instructions in every mode", instructions.unwrap_or(0));
    let _ = std::fs::remove_dir_all(&out);
}
