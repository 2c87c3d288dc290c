//! `--json FILE`: the run as one JSON object, a [`Report`]:
//!
//! ```json
//! {
//!   "format": "pintos-test-report", "version": 1, "project": "vm", "partition": "1/4",
//!   "tests": [
//!     { "name": "tests/vm/pt-grow-stack", "verdict": "pass", "reason": "", "messages": [],
//!       "output": "pass",
//!       "checks": [ { "name": "stack-growth", "verdict": "pass", "reason": "1 stack pages grown, all inside the window" } ],
//!       "instructions": 53921632, "virtual_ns": 580728967, "wall_ms": 78, "page_faults": 4,
//!       "sectors": { "os": { "read": 700, "written": 0 }, "fs": { "read": 28, "written": 62 },
//!                    "scratch": { "read": 23, "written": 0 }, "swap": { "read": 0, "written": 0 } },
//!       "rate": 400000000 }
//!   ]
//! }
//! ```
//!
//! `partition` is null for a whole run. The figures (`instructions` to `rate`) are null
//! for a test whose machine never ran (a missing program). [`merge`] joins the reports of
//! several partitions into one.

use std::path::Path;

use anyhow::{bail, Context, Result};

use super::Report;

/// The report as pretty-printed JSON.
pub fn render(report: &Report) -> String {
    let mut s = serde_json::to_string_pretty(report).expect("a report always serialises");
    s.push('\n');
    s
}

pub fn write(path: &Path, report: &Report) -> Result<()> {
    std::fs::write(path, render(report)).with_context(|| format!("writing {}", path.display()))
}

/// Reads a report `--json` wrote.
pub fn read(path: &Path) -> Result<Report> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let report: Report = serde_json::from_str(&text).with_context(|| format!("{} is not a pintos-test --json report", path.display()))?;
    if report.format != super::FORMAT {
        bail!("{} is not a pintos-test --json report (format `{}`)", path.display(), report.format);
    }
    if report.version != super::VERSION {
        bail!("{}: report version {} (this pintos-test reads version {})", path.display(), report.version, super::VERSION);
    }
    Ok(report)
}

/// One report from several (the partitions of one suite): the same project, every test at
/// most once, in catalogue order (tests the catalogue does not know go last, by name).
pub fn merge(reports: Vec<(String, Report)>) -> Result<Report> {
    let Some(project) = reports.first().map(|(_, r)| r.project.clone()) else { bail!("no report to merge") };
    let Some(p) = super::project_by_name(&project) else { bail!("{}: unknown project `{project}`", reports[0].0) };
    let mut tests = Vec::new();
    let mut from: std::collections::BTreeMap<String, String> = Default::default();
    for (file, r) in reports {
        if r.project != project {
            bail!("{file} is a report of project {} and the others of project {project}", r.project);
        }
        for t in r.tests {
            if let Some(other) = from.insert(t.name.clone(), file.clone()) {
                bail!("{} is in both {other} and {file}", t.name);
            }
            tests.push(t);
        }
    }
    let order: Vec<&str> = p.tests().iter().map(|t| t.path.as_str()).collect();
    tests.sort_by_key(|t| (order.iter().position(|&o| o == t.name).unwrap_or(usize::MAX), t.name.clone()));
    Ok(Report { format: super::FORMAT.into(), version: super::VERSION, project, partition: None, tests })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::Project;
    use crate::report::sample;
    use crate::runner::Partition;

    #[test]
    fn round_trips_with_the_documented_fields() {
        let r = Report::new(Project::Vm, Some(Partition { k: 2, n: 4 }), &[sample::run("tests/vm/a", true), sample::run("tests/vm/b", false)]);
        let text = render(&r);
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["partition"], "2/4");
        let t = &v["tests"][1];
        assert_eq!(t["name"], "tests/vm/b");
        assert_eq!(t["verdict"], "fail");
        assert_eq!(t["reason"], "Test output failed to match any acceptable form.");
        assert_eq!(t["checks"][1]["verdict"], "skipped");
        assert_eq!(t["sectors"]["fs"]["written"], 3);
        assert_eq!(t["instructions"], 1234);
        assert_eq!(serde_json::from_str::<Report>(&text).unwrap(), r);
    }

    #[test]
    fn merge_orders_by_catalogue_and_refuses_overlaps() {
        let all = Project::Vm.tests();
        let (first, second) = (all[0].path.as_str(), all[1].path.as_str());
        let one = Report::new(Project::Vm, Some(Partition { k: 1, n: 2 }), &[sample::run(second, true)]);
        let two = Report::new(Project::Vm, Some(Partition { k: 2, n: 2 }), &[sample::run(first, false)]);
        let m = merge(vec![("1.json".into(), one.clone()), ("2.json".into(), two)]).unwrap();
        assert_eq!(m.tests.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(), [first, second]);
        assert_eq!(m.partition, None);
        let e = merge(vec![("1.json".into(), one.clone()), ("again.json".into(), one.clone())]).unwrap_err();
        assert_eq!(e.to_string(), format!("{second} is in both 1.json and again.json"));
        let other = Report::new(Project::Threads, None, &[]);
        assert!(merge(vec![("1.json".into(), one), ("t.json".into(), other)]).unwrap_err().to_string().contains("project threads"));
    }
}
