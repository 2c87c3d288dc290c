//! Expected-output specs: the acceptable outputs of a test, written by us as data files
//! under `tests/expected/` (see `tests/README.md` for the format).
//!
//! ```text
//! # A comment (only before the first form).
//! option ignore-exit-codes
//! --- form
//! (example) begin
//! (example) end
//! --- form
//! (example) begin
//! example: exit(-1)
//! ```
//!
//! Before the first `--- form` line: blank lines, `#` comments and `option NAME` lines.
//! After it, every line up to the next `--- form` (or the end) is one expected line,
//! taken literally; trailing empty lines of a form are dropped.

use thiserror::Error;

/// The line that starts an acceptable form.
pub const FORM_MARKER: &str = "--- form";

/// Errors reading a spec.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum SpecError {
    #[error("no expected-output spec for {0} (write tests/expected/{1}.exp)")]
    Missing(String, String),
    #[error("{file}:{line}: {message}")]
    Syntax { file: String, line: usize, message: String },
}

/// The acceptable outputs of one test, and how to compare.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Spec {
    /// Drop `NAME: exit(N)` lines from the output before comparing.
    pub ignore_exit_codes: bool,
    /// Drop the kernel's page-fault report lines for user faults before comparing.
    pub ignore_user_faults: bool,
    /// Each acceptable output, as lines.
    pub forms: Vec<Vec<String>>,
}

impl Spec {
    /// Parses a spec; `file` names it in errors.
    pub fn parse(text: &str, file: &str) -> Result<Spec, SpecError> {
        let err = |line: usize, message: String| SpecError::Syntax { file: file.to_string(), line, message };
        let mut spec = Spec::default();
        let mut lines = text.split('\n').collect::<Vec<_>>();
        if lines.last() == Some(&"") {
            lines.pop();
        }
        for (i, raw) in lines.iter().enumerate() {
            let line = raw.strip_suffix('\r').unwrap_or(raw);
            if line == FORM_MARKER {
                spec.forms.push(Vec::new());
                continue;
            }
            if let Some(form) = spec.forms.last_mut() {
                form.push(line.to_string());
                continue;
            }
            let t = line.trim();
            if t.is_empty() || t.starts_with('#') {
                continue;
            }
            match t.strip_prefix("option ").map(str::trim) {
                Some("ignore-exit-codes") => spec.ignore_exit_codes = true,
                Some("ignore-user-faults") => spec.ignore_user_faults = true,
                Some(other) => return Err(err(i + 1, format!("unknown option `{other}`"))),
                None => return Err(err(i + 1, format!("expected `option NAME`, a comment or `{FORM_MARKER}`, found `{t}`"))),
            }
        }
        for form in &mut spec.forms {
            while form.last().is_some_and(|l| l.is_empty()) {
                form.pop();
            }
        }
        if spec.forms.is_empty() {
            return Err(err(lines.len(), format!("no `{FORM_MARKER}` section")));
        }
        Ok(spec)
    }
}

// The specs, embedded at build time (build.rs lists tests/expected/).
include!(concat!(env!("OUT_DIR"), "/expected_table.rs"));

/// The embedded spec of the test at `path` (`tests/threads/alarm-zero`).
pub fn for_test(path: &str) -> Result<Spec, SpecError> {
    let rel = path.strip_prefix("tests/").unwrap_or(path);
    let text = EXPECTED.iter().find(|(p, _)| *p == rel).map(|(_, t)| *t).ok_or_else(|| SpecError::Missing(path.to_string(), rel.to_string()))?;
    Spec::parse(text, &format!("tests/expected/{rel}.exp"))
}

/// Paths (relative to `tests/`) of every embedded spec.
pub fn embedded() -> impl Iterator<Item = &'static str> {
    EXPECTED.iter().map(|(p, _)| *p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_options_and_forms() {
        let s = Spec::parse("# c\noption ignore-exit-codes\n\n--- form\na\n\nb\n\n--- form\nc\n", "x").unwrap();
        assert!(s.ignore_exit_codes && !s.ignore_user_faults);
        assert_eq!(s.forms, vec![vec!["a".to_string(), "".into(), "b".into()], vec!["c".to_string()]]);
    }

    #[test]
    fn rejects_junk() {
        assert!(matches!(Spec::parse("option bogus\n--- form\n", "x"), Err(SpecError::Syntax { line: 1, .. })));
        assert!(matches!(Spec::parse("hello\n", "x"), Err(SpecError::Syntax { .. })));
        assert!(matches!(Spec::parse("# only\n", "x"), Err(SpecError::Syntax { .. })));
    }

    #[test]
    fn every_embedded_spec_parses_and_names_a_catalogue_test() {
        let mut n = 0;
        for rel in embedded() {
            let path = format!("tests/{rel}");
            assert!(crate::catalogue::find(&path).is_some(), "{path} is not in the catalogue");
            for_test(&path).unwrap();
            n += 1;
        }
        assert!(n >= 16);
    }
}
