//! Combines per-test verdicts into a project grade: each rubric's points (the weights of
//! its passed tests over all its weights) scaled by the rubric's share of the project.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::catalogue::{self, Project, Rubric};

/// One rubric's score.
#[derive(Clone, Debug, PartialEq)]
pub struct SetScore {
    pub rubric: Rubric,
    pub points: u32,
    pub possible: u32,
    pub passed: usize,
    pub tests: usize,
    /// Share of the grade earned, in percent.
    pub pct: f64,
    /// Share of the grade this rubric is worth, in percent.
    pub max_pct: f64,
    /// (path, weight, passed, tested) for each test of the rubric.
    pub rows: Vec<(String, u32, bool, bool)>,
}

/// A project's grade.
#[derive(Clone, Debug, PartialEq)]
pub struct Grade {
    pub sets: Vec<SetScore>,
    pub pct: f64,
    pub max_pct: f64,
    /// Tests that were not run (counted as failed) or that do not count.
    pub warnings: Vec<String>,
}

/// Grades `verdicts` (test path → passed) for a project. Tests not in `verdicts` count as
/// failed, with a warning.
pub fn grade(project: Project, verdicts: &BTreeMap<String, bool>) -> Grade {
    grade_with(project, verdicts, false)
}

/// Grades only the tests in `verdicts`, as for one partition of a suite (`pintos-test
/// --partition K/N --grade`): each rubric's points are over the weights of its tests that
/// ran, and a rubric none of whose tests ran is left out (its share is not in `max_pct`).
/// The report's first line says so. The full grade needs every partition's verdicts
/// (`pintos-test --merge`).
pub fn grade_ran(project: Project, verdicts: &BTreeMap<String, bool>, what: &str) -> Grade {
    let mut g = grade_with(project, verdicts, true);
    let ran = g.sets.iter().map(|s| s.tests).sum::<usize>();
    g.warnings.insert(0, format!("note: {what}: graded only the {ran} tests that ran, each rubric over its tests that ran; merge every partition's --json report (pintos-test --merge) for the grade"));
    g
}

fn grade_with(project: Project, verdicts: &BTreeMap<String, bool>, only_ran: bool) -> Grade {
    let mut sets = Vec::new();
    let mut warnings = Vec::new();
    let (mut pct, mut max_pct) = (0.0, 0.0);
    for &(rubric, share) in project.grading() {
        let mut s = SetScore { rubric, points: 0, possible: 0, passed: 0, tests: 0, pct: 0.0, max_pct: share, rows: vec![] };
        for t in catalogue::all().iter().filter(|t| t.rubric == rubric) {
            let verdict = verdicts.get(&t.path).copied();
            if verdict.is_none() {
                if only_ran {
                    continue;
                }
                warnings.push(format!("warning: {} not tested, assuming failure", t.path));
            }
            let passed = verdict.unwrap_or(false);
            s.possible += t.weight;
            s.tests += 1;
            if passed {
                s.points += t.weight;
                s.passed += 1;
            }
            s.rows.push((t.path.clone(), t.weight, passed, verdict.is_some()));
        }
        if only_ran && s.tests == 0 {
            continue;
        }
        s.pct = if s.possible == 0 { 0.0 } else { s.points as f64 / s.possible as f64 * share };
        pct += s.pct;
        max_pct += share;
        sets.push(s);
    }
    for path in verdicts.keys() {
        if !sets.iter().any(|s| s.rows.iter().any(|r| &r.0 == path)) {
            warnings.push(format!("warning: test {path} doesn't count for grading"));
        }
    }
    Grade { sets, pct, max_pct, warnings }
}

impl Grade {
    /// The report in make-grade's layout: warnings and total, summary by test set, then
    /// every test with `**` marking the failed ones.
    pub fn render(&self) -> String {
        let mut s = String::new();
        for w in &self.warnings {
            let _ = writeln!(s, "{w}");
        }
        let _ = writeln!(s, "TOTAL TESTING SCORE: {:.1}%", self.pct);
        if format!("{:.1}", self.pct) == format!("{:.1}", self.max_pct) {
            let _ = writeln!(s, "ALL TESTED PASSED -- PERFECT SCORE");
        }
        let divider = format!("\n{}\n\n", "- ".repeat(38));
        s.push_str(&divider);
        let rule = "--------------------------------------------- --- --- ------ ------";
        let _ = writeln!(s, "SUMMARY BY TEST SET\n\n{:<45} {:>3} {:>3} {:>6} {:>6}\n{rule}", "Test Set", "Pts", "Max", "% Ttl", "% Max");
        for set in &self.sets {
            let _ = writeln!(s, "{:<45} {:>3}/{:>3} {:>5.1}%/{:>5.1}%", set.rubric.file(), set.points, set.possible, set.pct, set.max_pct);
        }
        let _ = writeln!(s, "{rule}\n{:<45} {:>3} {:>3} {:>5.1}%/{:>5.1}%", "Total", "", "", self.pct, self.max_pct);
        s.push_str(&divider);
        let _ = writeln!(s, "SUMMARY OF INDIVIDUAL TESTS\n");
        for set in &self.sets {
            let _ = writeln!(s, "{} ({}):", set.rubric.title(), set.rubric.file());
            for (path, weight, passed, _) in &set.rows {
                let (mark, got) = if *passed { ("", *weight) } else { ("**", 0) };
                let _ = writeln!(s, "\t{mark:>4}{got:>2}/{weight:>2} {path}");
            }
            let _ = writeln!(s, "\n\t- Section summary.\n\t{:>4}{:>3}/{:>3} tests passed\n\t{:>4}{:>3}/{:>3} points subtotal\n", "", set.passed, set.tests, "", set.points, set.possible);
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threads_grade_weighs_rubrics() {
        let mut v = BTreeMap::new();
        for t in Project::Threads.tests() {
            v.insert(t.path.clone(), t.rubric == Rubric::Alarm);
        }
        let g = grade(Project::Threads, &v);
        assert!((g.pct - 20.0).abs() < 1e-9);
        assert_eq!(g.max_pct, 100.0);
        assert!(g.warnings.is_empty());
        // Fail alarm-priority (2 of 7 points): alarm gives 5/7 of 20%.
        v.insert("tests/threads/alarm-priority".into(), false);
        let g = grade(Project::Threads, &v);
        assert!((g.pct - 20.0 * 5.0 / 7.0).abs() < 1e-9);
        let r = g.render();
        assert!(r.contains("TOTAL TESTING SCORE: 14.3%"), "{r}");
        assert!(r.contains("tests/threads/Rubric.alarm                      5/  7  14.3%/ 20.0%"), "{r}");
        assert!(r.contains("\t  ** 0/ 2 tests/threads/alarm-priority"), "{r}");
    }

    #[test]
    fn untested_counts_as_failure_and_perfect_score_is_announced() {
        let g = grade(Project::Threads, &BTreeMap::new());
        assert_eq!(g.pct, 0.0);
        assert_eq!(g.warnings.len(), 27);
        let all: BTreeMap<String, bool> = Project::Threads.tests().iter().map(|t| (t.path.clone(), true)).collect();
        let r = grade(Project::Threads, &all).render();
        assert!(r.contains("ALL TESTED PASSED -- PERFECT SCORE"));
    }

    #[test]
    fn a_partition_is_graded_over_the_tests_that_ran() {
        // Two alarm tests ran (alarm-priority failed) and nothing else.
        let v: BTreeMap<String, bool> = [("tests/threads/alarm-single".to_string(), true), ("tests/threads/alarm-priority".to_string(), false)].into();
        let g = grade_ran(Project::Threads, &v, "partition 1/4");
        assert_eq!(g.sets.len(), 1);
        assert_eq!((g.sets[0].points, g.sets[0].possible, g.sets[0].tests), (1, 3, 2));
        assert_eq!(g.max_pct, 20.0);
        assert!((g.pct - 20.0 / 3.0).abs() < 1e-9);
        assert_eq!(g.warnings.len(), 1);
        assert!(g.render().starts_with("note: partition 1/4: graded only the 2 tests that ran"), "{}", g.render());
    }

    #[test]
    fn vm_project_grades_eight_sets() {
        let g = grade(Project::Vm, &BTreeMap::new());
        assert_eq!(g.sets.len(), 8);
        assert_eq!(g.max_pct, 125.0);
    }
}
