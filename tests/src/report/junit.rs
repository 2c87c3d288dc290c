//! `--junit FILE`: the run as JUnit XML, the format CI services show as test results.
//!
//! One `<testsuite>` (tests and failures counted) holding one `<testcase>` per Pintos
//! test: `classname` is its directory with dots (`tests.vm`, `tests.vm.cow`), `name` its
//! name (`pt-grow-stack`), `time` its host seconds. A failed test has `<failure
//! message="FIRST LINE">` with every line of the explanation inside. Every listed test
//! ran, so there is never a `<skipped/>`. Each test's figures and behaviour checks are
//! its `<properties>`.

use std::fmt::Write;

use super::{Report, TestRecord};

/// `text` escaped for XML 1.0 content and attribute values. Characters XML cannot carry
/// (control characters other than tab, newline and carriage return, a console's stray
/// bytes) become U+FFFD.
pub fn escape(text: &str) -> String {
    let mut s = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => s.push_str("&amp;"),
            '<' => s.push_str("&lt;"),
            '>' => s.push_str("&gt;"),
            '"' => s.push_str("&quot;"),
            '\'' => s.push_str("&apos;"),
            // Newlines in attributes would be normalised to spaces by a parser: keep them.
            '\n' => s.push_str("&#10;"),
            '\r' => s.push_str("&#13;"),
            '\t' => s.push_str("&#9;"),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => s.push('\u{fffd}'),
            c => s.push(c),
        }
    }
    s
}

/// (classname, name) of a test path: `tests/vm/cow/cow-simple` → (`tests.vm.cow`,
/// `cow-simple`).
pub fn class_and_name(path: &str) -> (String, &str) {
    match path.rsplit_once('/') {
        Some((dir, name)) => (dir.replace('/', "."), name),
        None => (String::new(), path),
    }
}

fn seconds(ms: u64) -> String {
    format!("{:.3}", ms as f64 / 1000.0)
}

fn testcase(s: &mut String, t: &TestRecord) {
    let (class, name) = class_and_name(&t.name);
    let _ = writeln!(s, "    <testcase classname=\"{}\" name=\"{}\" time=\"{}\">", escape(&class), escape(name), seconds(t.wall_ms));
    let mut props: Vec<(String, String)> = vec![("output".into(), t.output.clone())];
    for (k, v) in [("instructions", t.instructions), ("virtual_ns", t.virtual_ns), ("page_faults", t.page_faults)] {
        if let Some(v) = v {
            props.push((k.into(), v.to_string()));
        }
    }
    if let Some(d) = &t.sectors {
        for (role, rw) in [("os", d.os), ("fs", d.fs), ("scratch", d.scratch), ("swap", d.swap)] {
            props.push((format!("sectors.{role}"), format!("{} read, {} written", rw.read, rw.written)));
        }
    }
    for c in &t.checks {
        props.push((format!("check.{}", c.name), c.verdict.clone()));
    }
    s.push_str("      <properties>\n");
    for (k, v) in props {
        let _ = writeln!(s, "        <property name=\"{}\" value=\"{}\"/>", escape(&k), escape(&v));
    }
    s.push_str("      </properties>\n");
    if !t.passed() {
        let details = if t.messages.is_empty() { t.reason.clone() } else { t.messages.join("\n") };
        let _ = writeln!(s, "      <failure message=\"{}\" type=\"fail\">{}</failure>", escape(&t.reason), escape(&details));
    }
    s.push_str("    </testcase>\n");
}

/// The report as JUnit XML.
pub fn render(report: &Report) -> String {
    let n = report.tests.len();
    let failures = report.failures();
    let time = seconds(report.tests.iter().map(|t| t.wall_ms).sum());
    let mut suite = format!("pintos-test {}", report.project);
    if let Some(p) = &report.partition {
        let _ = write!(suite, " partition {p}");
    }
    let mut s = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(s, "<testsuites name=\"pintos-test\" tests=\"{n}\" failures=\"{failures}\" errors=\"0\" skipped=\"0\" time=\"{time}\">");
    let _ = writeln!(s, "  <testsuite name=\"{}\" tests=\"{n}\" failures=\"{failures}\" errors=\"0\" skipped=\"0\" time=\"{time}\">", escape(&suite));
    for t in &report.tests {
        testcase(&mut s, t);
    }
    s.push_str("  </testsuite>\n</testsuites>\n");
    s
}

pub fn write(path: &std::path::Path, report: &Report) -> anyhow::Result<()> {
    use anyhow::Context;
    std::fs::write(path, render(report)).with_context(|| format!("writing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::Project;
    use crate::report::sample;

    #[test]
    fn escapes_what_xml_cannot_hold_literally() {
        assert_eq!(escape("a<b>&\"c\" 'd'\n\u{1}"), "a&lt;b&gt;&amp;&quot;c&quot; &apos;d&apos;&#10;\u{fffd}");
        assert_eq!(class_and_name("tests/vm/cow/cow-simple"), ("tests.vm.cow".to_string(), "cow-simple"));
    }

    #[test]
    fn parses_with_suite_counts_cases_and_failures() {
        let r = Report::new(Project::Vm, None, &[sample::run("tests/vm/a", true), sample::run("tests/userprog/b", false)]);
        let xml = render(&r);
        let doc = roxmltree::Document::parse(&xml).unwrap();
        let suite = doc.descendants().find(|n| n.has_tag_name("testsuite")).unwrap();
        assert_eq!((suite.attribute("tests"), suite.attribute("failures")), (Some("2"), Some("1")));
        let cases: Vec<_> = suite.children().filter(|n| n.has_tag_name("testcase")).collect();
        assert_eq!(cases.len(), 2);
        assert_eq!((cases[1].attribute("classname"), cases[1].attribute("name"), cases[1].attribute("time")), (Some("tests.userprog"), Some("b"), Some("0.250")));
        let failure = cases[1].children().find(|n| n.has_tag_name("failure")).unwrap();
        assert_eq!(failure.attribute("message"), Some("Test output failed to match any acceptable form."));
        assert_eq!(failure.text(), Some("Test output failed to match any acceptable form.\n- (x) <end> & \"quotes\" \u{fffd}"));
        assert!(!cases[0].children().any(|n| n.has_tag_name("failure") || n.has_tag_name("skipped")));
    }
}
