//! Reports of a `pintos-test` run: the per-test listing and the behaviour checks' summary
//! on the console, and the files `--json` ([`json`]), `--junit` ([`junit`]) and `--trace`
//! ([`trace`]) write.
//!
//! Everything but the trace works from a [`Report`]: one [`TestRecord`] per test, made
//! from the runner's [`TestRun`] or read back from a `--json` file (so `pintos-test
//! --merge` can list, grade and re-export the reports of several partitions).

pub mod json;
pub mod junit;
pub mod trace;

use std::collections::BTreeMap;
use std::fmt::Write;

use serde::{Deserialize, Serialize};

use crate::behaviour::{CheckVerdict, CHECKS};
use crate::runner::TestRun;

/// The `--json` file's `format` field.
pub const FORMAT: &str = "pintos-test-report";
/// The `--json` file's `version` field: bumped when a field changes meaning or goes away
/// (new fields may appear without it).
pub const VERSION: u32 = 1;

/// A whole run: the object `--json` writes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Always [`FORMAT`].
    pub format: String,
    /// [`VERSION`].
    pub version: u32,
    /// The project the tests ran as (`threads`, `userprog`, `userprog-extra`, `vm`).
    pub project: String,
    /// `K/N` when the run was one partition of the selection (`--partition`), else null.
    pub partition: Option<String>,
    /// One record per test that ran, in catalogue order.
    pub tests: Vec<TestRecord>,
}

/// One test's result.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TestRecord {
    /// The test's path, `tests/vm/pt-grow-stack`.
    pub name: String,
    /// `pass` or `fail`: the output check and every behaviour check that ran.
    pub verdict: String,
    /// The first line of the explanation of a failure; empty for a pass.
    pub reason: String,
    /// Every line of the explanation (the output check's, then each failed behaviour
    /// check's reason); empty for a pass.
    pub messages: Vec<String>,
    /// The output check alone (Pintos' rules): `pass` or `fail`.
    pub output: String,
    /// The behaviour checks that concern the test, in `pintos-test --checks` order.
    pub checks: Vec<CheckRecord>,
    /// Instructions retired (null when the machine never ran, e.g. a missing program).
    pub instructions: Option<u64>,
    /// Virtual time at power-off, in nanoseconds (halted time included).
    pub virtual_ns: Option<u64>,
    /// Host time the test took, in milliseconds.
    pub wall_ms: u64,
    /// Page faults (exception 14) the CPU took.
    pub page_faults: Option<u64>,
    /// Sectors read and written on each disk.
    pub sectors: Option<DiskSectors>,
    /// The virtual clock rate (instructions per virtual second); null when the machine
    /// never ran.
    pub rate: Option<u64>,
}

/// One behaviour check's result for one test.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckRecord {
    pub name: String,
    /// `pass`, `fail` or `skipped`.
    pub verdict: String,
    pub reason: String,
}

impl CheckRecord {
    /// The reason, starting with the check's name (`lazy-load: page 0x401000 ...`).
    pub fn named_reason(&self) -> String {
        if self.reason.starts_with(&format!("{}:", self.name)) {
            self.reason.clone()
        } else {
            format!("{}: {}", self.name, self.reason)
        }
    }
}

/// Sectors moved on one disk.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadWritten {
    pub read: u64,
    pub written: u64,
}

/// Sectors per disk role (the disks as Pintos attaches them).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiskSectors {
    pub os: ReadWritten,
    pub fs: ReadWritten,
    pub scratch: ReadWritten,
    pub swap: ReadWritten,
}

fn pass_fail(pass: bool) -> String {
    if pass { "pass" } else { "fail" }.to_string()
}

impl TestRecord {
    pub fn from_run(run: &TestRun) -> TestRecord {
        use emulator::observe::DiskRole;
        let f = run.figures.as_ref();
        let sectors = f.map(|f| {
            let mut d = DiskSectors::default();
            for &(role, read, written) in &f.sectors {
                let slot = match role {
                    DiskRole::Os => &mut d.os,
                    DiskRole::Fs => &mut d.fs,
                    DiskRole::Scratch => &mut d.scratch,
                    DiskRole::Swap => &mut d.swap,
                };
                *slot = ReadWritten { read, written };
            }
            d
        });
        let messages = if run.verdict.pass { Vec::new() } else { run.verdict.messages.clone() };
        TestRecord {
            name: run.path.clone(),
            verdict: pass_fail(run.verdict.pass),
            reason: messages.first().cloned().unwrap_or_default(),
            messages,
            output: pass_fail(run.output_pass),
            checks: run.checks.iter().map(|c| CheckRecord { name: c.name.to_string(), verdict: c.verdict.name().to_string(), reason: c.reason.clone() }).collect(),
            instructions: f.map(|f| f.instructions),
            virtual_ns: f.map(|f| f.virtual_ns),
            wall_ms: (run.host_seconds * 1000.0).round() as u64,
            page_faults: f.map(|f| f.page_faults),
            sectors,
            rate: f.map(|_| run.rate),
        }
    }

    pub fn passed(&self) -> bool {
        self.verdict == "pass"
    }

    /// `6 pass, 2 skipped` (or `none` when no check concerns the test).
    pub fn checks_summary(&self) -> String {
        let mut parts = Vec::new();
        for v in [CheckVerdict::Pass, CheckVerdict::Fail, CheckVerdict::Skipped] {
            let n = self.checks.iter().filter(|c| c.verdict == v.name()).count();
            if n > 0 {
                parts.push(format!("{n} {}", v.name()));
            }
        }
        if parts.is_empty() {
            "none".to_string()
        } else {
            parts.join(", ")
        }
    }
}

impl Report {
    pub fn new(project: crate::catalogue::Project, partition: Option<crate::runner::Partition>, runs: &[TestRun]) -> Report {
        Report { format: FORMAT.into(), version: VERSION, project: project_name(project), partition: partition.map(|p| p.to_string()), tests: runs.iter().map(TestRecord::from_run).collect() }
    }

    pub fn failures(&self) -> usize {
        self.tests.iter().filter(|t| !t.passed()).count()
    }

    /// The verdicts by test path, for the grader.
    pub fn verdicts(&self) -> BTreeMap<String, bool> {
        self.tests.iter().map(|t| (t.name.clone(), t.passed())).collect()
    }

    /// The `results` file: `pass PATH` / `FAIL PATH` per test, as `make check` writes it.
    pub fn results_file(&self) -> String {
        self.tests.iter().map(|t| format!("{} {}\n", if t.passed() { "pass" } else { "FAIL" }, t.name)).collect()
    }

    /// The final listing: per test its verdict, the output check's and the behaviour
    /// checks' (`pass tests/vm/lazy-anon   output pass   checks 6 pass, 2 skipped`), and
    /// under a failure the reasons, one line each: the output check's explanation (its
    /// first line) and each failed check's reason.
    pub fn listing(&self) -> String {
        let width = self.tests.iter().map(|t| t.name.len()).max().unwrap_or(0);
        let mut s = String::new();
        for t in &self.tests {
            let _ = writeln!(s, "{} {:<width$}   output {}   checks {}", if t.passed() { "pass" } else { "FAIL" }, t.name, t.output, t.checks_summary());
            if t.output != "pass" {
                if let Some(first) = t.messages.first() {
                    let _ = writeln!(s, "     output: {first}");
                }
            }
            for c in t.checks.iter().filter(|c| c.verdict == "fail") {
                let _ = writeln!(s, "     {}", c.named_reason());
            }
        }
        s
    }

    /// The behaviour checks over the whole run, one line: each check that ran with its
    /// pass/fail/skipped counts (`None` when no check concerned any test).
    pub fn checks_line(&self) -> Option<String> {
        let mut tally: Vec<(String, [usize; 3])> = CHECKS.iter().map(|c| (c.name.to_string(), [0; 3])).collect();
        for c in self.tests.iter().flat_map(|t| &t.checks) {
            let i = match tally.iter().position(|(n, _)| *n == c.name) {
                Some(i) => i,
                None => {
                    tally.push((c.name.clone(), [0; 3]));
                    tally.len() - 1
                }
            };
            let slot = match c.verdict.as_str() {
                "pass" => 0,
                "fail" => 1,
                _ => 2,
            };
            tally[i].1[slot] += 1;
        }
        let ran: Vec<String> = tally.iter().filter(|(_, n)| n.iter().sum::<usize>() > 0).map(|(name, [p, f, s])| format!("{name} {p}/{f}/{s}")).collect();
        (!ran.is_empty()).then(|| format!("Behaviour checks (pass/fail/skipped): {}", ran.join(", ")))
    }

    /// `All N tests passed.` or `F of N tests failed.`
    pub fn total_line(&self) -> String {
        match self.failures() {
            0 => format!("All {} tests passed.", self.tests.len()),
            f => format!("{f} of {} tests failed.", self.tests.len()),
        }
    }
}

/// The project's name on the command line (`userprog-extra`).
pub fn project_name(project: crate::catalogue::Project) -> String {
    use clap::ValueEnum;
    project.to_possible_value().map(|v| v.get_name().to_string()).unwrap_or_else(|| format!("{project:?}"))
}

/// The project named `name` (as [`project_name`] gives it).
pub fn project_by_name(name: &str) -> Option<crate::catalogue::Project> {
    use clap::ValueEnum;
    crate::catalogue::Project::from_str(name, false).ok()
}

#[cfg(test)]
pub(crate) mod sample {
    //! Synthetic runs for the writers' unit tests.
    use super::*;
    use crate::behaviour::{CheckResult, Figures};
    use crate::check::Verdict;
    use emulator::observe::DiskRole;

    pub fn run(path: &str, pass: bool) -> TestRun {
        let messages = if pass { vec![] } else { vec!["Test output failed to match any acceptable form.".to_string(), "- (x) <end> & \"quotes\" \u{1}".to_string()] };
        TestRun {
            path: path.into(),
            verdict: Verdict { pass, messages },
            output_pass: pass,
            checks: vec![
                CheckResult { name: "lazy-load", verdict: CheckVerdict::Pass, reason: "ok".into() },
                CheckResult { name: "lazy-claims", verdict: CheckVerdict::Skipped, reason: "lazy-claims: the kernel made no claims".into() },
            ],
            figures: Some(Figures { instructions: 1234, virtual_ns: 5678, page_faults: 9, sectors: [(DiskRole::Os, 1, 0), (DiskRole::Fs, 2, 3), (DiskRole::Scratch, 4, 0), (DiskRole::Swap, 5, 6)] }),
            timeline: None,
            rate: 400_000_000,
            host_seconds: 0.25,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::Project;

    #[test]
    fn records_carry_verdicts_checks_and_figures() {
        let r = Report::new(Project::Vm, None, &[sample::run("tests/vm/a", true), sample::run("tests/vm/b", false)]);
        assert_eq!(r.project, "vm");
        let (a, b) = (&r.tests[0], &r.tests[1]);
        assert_eq!((a.verdict.as_str(), a.reason.as_str(), a.output.as_str()), ("pass", "", "pass"));
        assert_eq!((b.verdict.as_str(), b.reason.as_str()), ("fail", "Test output failed to match any acceptable form."));
        assert_eq!(a.sectors.unwrap().swap, ReadWritten { read: 5, written: 6 });
        assert_eq!((a.instructions, a.wall_ms, a.rate), (Some(1234), 250, Some(400_000_000)));
        assert_eq!(a.checks_summary(), "1 pass, 1 skipped");
        assert_eq!(r.total_line(), "1 of 2 tests failed.");
        assert_eq!(r.results_file(), "pass tests/vm/a\nFAIL tests/vm/b\n");
        assert_eq!(r.checks_line().unwrap(), "Behaviour checks (pass/fail/skipped): lazy-load 2/0/0, lazy-claims 0/0/2");
    }

    #[test]
    fn listing_puts_output_and_checks_side_by_side_with_reasons() {
        let mut b = sample::run("tests/vm/bb", true);
        b.verdict.pass = false;
        b.verdict.messages = vec!["lazy-load: page 0x401000 present before its first access".into()];
        b.checks[0] = crate::behaviour::CheckResult { name: "lazy-load", verdict: CheckVerdict::Fail, reason: "lazy-load: page 0x401000 present before its first access".into() };
        let r = Report::new(Project::Vm, None, &[sample::run("tests/vm/a", true), b]);
        assert_eq!(
            r.listing(),
            "pass tests/vm/a    output pass   checks 1 pass, 1 skipped\n\
             FAIL tests/vm/bb   output pass   checks 1 fail, 1 skipped\n     \
             lazy-load: page 0x401000 present before its first access\n"
        );
        assert_eq!(project_by_name("userprog-extra"), Some(Project::UserprogExtra));
        assert_eq!(project_name(Project::UserprogExtra), "userprog-extra");
    }
}
