//! The checker: decides PASS or FAIL for one run's console output by the rules the
//! Pintos test scripts apply, and explains a failure the way they do.
//!
//! Order of the rules (the first that fires decides):
//! 1. Whole-output checks: no output at all; a line with `PANIC` (kernel panic); a line
//!    with `FAIL` (the test reported failure); more than one `Pintos booting` (the
//!    machine rebooted); a line with `TIMEOUT` (the launcher stopped the run); missing
//!    `Pintos booting with`, `Boot complete`, `Timer: N ticks` or `Powering off`.
//! 2. The core output: the lines between `Executing '...':` and
//!    `Execution of '...' complete.`; a run that never started or never finished fails.
//! 3. The test's own rule ([`Check`]): exact comparison with one of the acceptable forms
//!    of its spec (optionally ignoring exit-code lines and user page-fault reports), or a
//!    dedicated check (alarm ordering, priority-fifo, the mlfqs tolerances, ...).

use crate::catalogue::{Check, Test};
use crate::diff;
use crate::mlfqs;
use crate::spec::{self, Spec, SpecError};

/// PASS or FAIL, with the explanation lines (empty for a plain pass).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    pub pass: bool,
    pub messages: Vec<String>,
}

impl Verdict {
    fn pass() -> Self {
        Verdict { pass: true, messages: vec![] }
    }
    fn fail(msg: impl Into<String>) -> Self {
        let msg: String = msg.into();
        Verdict { pass: false, messages: msg.trim_end_matches('\n').split('\n').map(str::to_string).collect() }
    }

    /// The text of a Pintos `.result` file: `PASS` or `FAIL`, then the messages.
    pub fn result_file(&self) -> String {
        let mut s = String::from(if self.pass { "PASS\n" } else { "FAIL\n" });
        for m in &self.messages {
            s.push_str(m);
            s.push('\n');
        }
        s
    }
}

/// Facts about the run beyond its console text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RunFacts {
    /// The machine stopped on a triple fault. (QEMU under `pintos` runs with
    /// `-no-reboot`, so a triple fault ends the run there too; the text rules then see a
    /// run that never shut down. We say why.)
    pub triple_fault: bool,
}

/// Splits console output into lines as the Pintos scripts read them (newline-separated,
/// no final empty line).
pub fn lines(output: &str) -> Vec<&str> {
    let mut v: Vec<&str> = output.split('\n').collect();
    if v.last() == Some(&"") {
        v.pop();
    }
    v
}

/// Checks a test's output, using the embedded spec for tests compared against one.
pub fn check(test: &Test, output: &str, facts: RunFacts) -> Verdict {
    let spec = match test.check {
        Check::Expected => match spec::for_test(&test.path) {
            Ok(s) => Some(s),
            Err(e @ SpecError::Missing(..)) | Err(e @ SpecError::Syntax { .. }) => return Verdict::fail(format!("harness: {e}")),
        },
        _ => None,
    };
    check_with(test, output, facts, spec.as_ref())
}

/// Checks a test's output against an explicit spec (for [`Check::Expected`] tests).
pub fn check_with(test: &Test, output: &str, facts: RunFacts, spec: Option<&Spec>) -> Verdict {
    let all = lines(output);
    if let Err(v) = common_checks(&all, facts) {
        return v;
    }
    match &test.check {
        Check::Alarm { iterations } => return check_alarm(&all, *iterations),
        Check::PriorityFifo => return check_priority_fifo(&all),
        Check::Halt => return check_halt(&all),
        _ => {}
    }
    let core = match core_output(&all) {
        Ok(c) => c,
        Err(v) => return v,
    };
    let result = match &test.check {
        Check::Expected => match spec {
            Some(spec) => compare_output(&core, spec),
            None => Err(format!("harness: no expected-output spec given for {}", test.path)),
        },
        Check::MlfqsLoad1 => {
            let want = format!("({}) PASS", test.name());
            if core.iter().any(|l| *l == want) { Ok(()) } else { Err("missing PASS in output".into()) }
        }
        Check::MlfqsCurve(curve) => curve.check(&core),
        Check::MlfqsFair { nice, max_diff } => mlfqs::check_fair(&core, nice, *max_diff),
        Check::ProcessDeath => check_process_death(&core, test.name()),
        Check::Alarm { .. } | Check::PriorityFifo | Check::Halt => unreachable!(),
    };
    match result {
        Ok(()) => Verdict::pass(),
        Err(m) => Verdict::fail(m),
    }
}

/// Rule 1: the whole-output checks.
fn common_checks(all: &[&str], facts: RunFacts) -> Result<(), Verdict> {
    if all.is_empty() {
        return Err(Verdict::fail("Run produced no output at all"));
    }
    if let Some(line) = all.iter().find(|l| l.contains("PANIC")) {
        let mut msg = format!("Kernel panic in run: {}", &line[line.find("PANIC").unwrap()..]);
        if let Some(stack) = all.iter().find(|l| l.contains("Call stack:")) {
            let s = &stack[stack.find("Call stack:").unwrap()..];
            msg.push_str(&format!("\n{s}\n(Translate the addresses with `backtrace` against the kernel image.)"));
        }
        if line.contains("sec_no < d->capacity") {
            msg.push_str("\nThis assertion usually means a file was used through an inode that was already closed and freed.");
        }
        return Err(Verdict::fail(msg));
    }
    if let Some(v) = keyword(all, "FAIL") {
        return Err(v);
    }
    let boots = all.iter().filter(|l| l.contains("Pintos booting")).count();
    if boots > 1 {
        return Err(Verdict::fail(format!(
            "Run spontaneously rebooted {} times.\nA triple fault resets the machine; unhandled page faults are the usual cause.",
            boots - 1
        )));
    }
    if let Some(v) = keyword(all, "TIMEOUT") {
        return Err(v);
    }
    let has = |needle: &str| all.iter().any(|l| l.contains(needle));
    if !has("Pintos booting with") {
        return Err(Verdict::fail(start_or_fault(facts, "Run didn't start up properly: no \"Pintos booting\" message")));
    }
    if !has("Boot complete") {
        return Err(Verdict::fail(start_or_fault(facts, "Run didn't start up properly: no \"Boot complete\" message")));
    }
    if !all.iter().any(|l| has_timer_ticks(l)) {
        return Err(Verdict::fail(start_or_fault(facts, "Run didn't shut down properly: no \"Timer: # ticks\" message")));
    }
    if !has("Powering off") {
        return Err(Verdict::fail(start_or_fault(facts, "Run didn't shut down properly: no \"Powering off\" message")));
    }
    Ok(())
}

/// Adds the triple-fault explanation to a start-up/shut-down failure when the machine
/// stopped on one.
fn start_or_fault(facts: RunFacts, msg: &str) -> String {
    if facts.triple_fault {
        format!("{msg}\nTriple fault: the machine stopped on a triple fault (an exception while delivering a double fault; often an unhandled page fault in the kernel). The register dump is in the .errors file.")
    } else {
        msg.to_string()
    }
}

/// `Timer: <digits> ticks` anywhere in the line.
fn has_timer_ticks(line: &str) -> bool {
    line.match_indices("Timer: ").any(|(i, _)| {
        let rest = &line[i + 7..];
        let d = rest.bytes().take_while(u8::is_ascii_digit).count();
        d > 0 && rest[d..].starts_with(" ticks")
    })
}

/// The first line containing `word` fails the run; the test-name prefix is dropped.
fn keyword(all: &[&str], word: &str) -> Option<Verdict> {
    let line = all.iter().find(|l| l.contains(word))?;
    Some(Verdict::fail(format!("run: {}", strip_test_prefix(line))))
}

/// Drops a leading `(name) ` and the spaces after it.
fn strip_test_prefix(line: &str) -> &str {
    if let Some(rest) = line.strip_prefix('(') {
        if let Some(close) = rest.find(')') {
            if close > 0 {
                let after = &rest[close + 1..];
                let trimmed = after.trim_start();
                if trimmed.len() < after.len() {
                    return trimmed;
                }
            }
        }
    }
    line
}

/// Rule 2: the lines between the start and end markers.
pub fn core_output<'a>(all: &[&'a str]) -> Result<Vec<&'a str>, Verdict> {
    let mut process = None;
    let mut start = None;
    for (i, l) in all.iter().enumerate() {
        if let Some(p) = executing(l) {
            process = Some(p);
            start = Some(i + 1);
            break;
        }
    }
    let Some(start) = start else { return Err(Verdict::fail("Run didn't start a thread or process")) };
    let Some(end) = (start..all.len()).find(|&i| execution_complete(all[i])) else {
        return Err(Verdict::fail(format!("Run started '{}' but it never finished", process.unwrap_or_default())));
    };
    if end == start {
        return Err(Verdict::fail("Run didn't produce any output"));
    }
    Ok(all[start..end].to_vec())
}

/// `Executing 'NAME...':` → the name (the first word inside the quotes).
fn executing(line: &str) -> Option<&str> {
    let inner = line.strip_prefix("Executing '")?.strip_suffix("':")?;
    let first = inner.chars().next()?;
    if first.is_whitespace() {
        return None;
    }
    Some(inner.split(char::is_whitespace).next().unwrap_or(inner))
}

/// `Execution of '...' complete` followed by exactly one more character.
fn execution_complete(line: &str) -> bool {
    let Some(rest) = line.strip_prefix("Execution of '") else { return false };
    let mut chars = rest.chars();
    if chars.next_back().is_none() {
        return false;
    }
    chars.as_str().ends_with("' complete")
}

/// An `exit(N)` line of a process: `NAME: exit(N)`, NAME of letters, digits, `-`, `_`.
pub fn is_exit_line(line: &str) -> bool {
    let Some((name, rest)) = line.split_once(": exit(") else { return false };
    let Some(num) = rest.strip_suffix(')') else { return false };
    let num = num.strip_prefix('-').unwrap_or(num);
    !name.is_empty()
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        && !num.is_empty()
        && num.bytes().all(|b| b.is_ascii_digit())
}

/// `line` starts with `prefix` and then contains each of `parts` in order.
fn in_order(line: &str, prefix: &str, parts: &[&str]) -> bool {
    let Some(mut rest) = line.strip_prefix(prefix) else { return false };
    for p in parts {
        match rest.find(p) {
            Some(i) => rest = &rest[i + p.len()..],
            None => return false,
        }
    }
    true
}

/// A line of the kernel's report of a page fault in a user process.
pub fn is_user_fault_line(line: &str) -> bool {
    (line.starts_with("Page fault at") && line.ends_with("in user context."))
        || dying_line(line)
        || in_order(line, "Interrupt 0x0e (", &[") at eip="])
        || in_order(line, " cr2=", &[" error="])
        || in_order(line, " eax=", &[" ebx=", " ecx=", " edx="])
        || in_order(line, " esi=", &[" edi=", " esp=", " ebp="])
        || in_order(line, " cs=", &[" ds=", " es=", " ss="])
}

/// `...: dying due to interrupt 0x0e (...)X` where X is any one character.
fn dying_line(line: &str) -> bool {
    let Some(i) = line.find(": dying due to interrupt 0x0e (") else { return false };
    let rest = &line[i + 31..];
    let mut chars = rest.chars();
    chars.next_back().is_some() && chars.as_str().ends_with(')')
}

/// Rule 3 for spec tests: exact match with one acceptable form, else a diff against the
/// closest one.
pub fn compare_output(core: &[&str], spec: &Spec) -> Result<(), String> {
    let output: Vec<&str> = core
        .iter()
        .copied()
        .filter(|l| !(spec.ignore_exit_codes && is_exit_line(l)))
        .filter(|l| !(spec.ignore_user_faults && is_user_fault_line(l)))
        .collect();
    if output.is_empty() {
        return Err("Run didn't produce any output".into());
    }
    let mut best: Option<(usize, usize, Vec<diff::DiffLine>)> = None;
    for (k, form) in spec.forms.iter().enumerate() {
        let expected: Vec<&str> = form.iter().map(String::as_str).collect();
        if expected == output {
            return Ok(());
        }
        let d = diff::diff(&expected, &output);
        let dist = diff::distance(&d);
        if best.as_ref().is_none_or(|(_, b, _)| dist < *b) {
            best = Some((k, dist, d));
        }
    }
    let (k, _, d) = best.expect("a spec has at least one form");
    let mut msg = String::from("Test output failed to match any acceptable form.\n\n");
    if spec.forms.len() > 1 {
        msg.push_str(&format!("Closest acceptable output (form {} of {}):\n", k + 1, spec.forms.len()));
    } else {
        msg.push_str("Acceptable output:\n");
    }
    for l in &spec.forms[k] {
        msg.push_str(&format!("  {l}\n"));
    }
    msg.push_str("Differences in `diff -u' format:\n");
    for l in &d {
        msg.push_str(&l.render());
        msg.push('\n');
    }
    if spec.ignore_exit_codes {
        msg.push_str("\n(Process exit codes are excluded for matching purposes.)\n");
    }
    if spec.ignore_user_faults {
        msg.push_str("\n(User fault messages are excluded for matching purposes.)\n");
    }
    Err(msg)
}

/// The alarm tests: every `product=N` line (anywhere in the output) in order against the
/// sorted products of iteration × (thread's duration); any "out of order" line fails.
fn check_alarm(all: &[&str], iterations: u32) -> Verdict {
    let mut products: Vec<u32> = (0..iterations).flat_map(|i| (0..5).map(move |t| (i + 1) * (t + 1) * 10)).collect();
    products.sort_unstable();
    let mut want = products.into_iter();
    for line in all {
        if line.to_ascii_lowercase().contains("out of order") {
            return Verdict::fail(line.to_string());
        }
        let Some(p) = trailing_product(line) else { continue };
        match want.next() {
            None => return Verdict::fail("Too many wakeups."),
            Some(q) if p != q as u64 => return Verdict::fail(format!("Out of order wakeups ({p} vs. {q}).")),
            Some(_) => {}
        }
    }
    let left = want.count();
    if left > 0 {
        return Verdict::fail(format!("{left} fewer wakeups than expected."));
    }
    Verdict::pass()
}

/// `...product=N` with N the digits up to the end of the line.
fn trailing_product(line: &str) -> Option<u64> {
    line.match_indices("product=").find_map(|(i, _)| {
        let rest = &line[i + 8..];
        (!rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit())).then(|| rest.parse().ok()).flatten()
    })
}

/// priority-fifo: 16 `iteration:` lines, all equal, the first listing each of 0..16 once.
fn check_priority_fifo(all: &[&str]) -> Verdict {
    const THREADS: usize = 16;
    const ITERATIONS: usize = 16;
    let iterations: Vec<&str> = all.iter().copied().filter(|l| l.contains("iteration:")).collect();
    let Some(first) = iterations.first() else { return Verdict::fail("No iterations found in output.") };
    let mut numbers: Vec<u64> = first.split(|c: char| !c.is_ascii_digit()).filter(|s| !s.is_empty()).filter_map(|s| s.parse().ok()).collect();
    if numbers.len() != THREADS {
        return Verdict::fail(format!("First iteration does not list exactly {THREADS} threads."));
    }
    numbers.sort_unstable();
    if numbers.iter().enumerate().any(|(i, &n)| n != i as u64) {
        return Verdict::fail(format!("First iteration does not list all threads 0...{}", THREADS - 1));
    }
    if let Some(i) = iterations.iter().position(|l| l != first) {
        return Verdict::fail(format!("Iteration {i} differs from iteration 0"));
    }
    if iterations.len() != ITERATIONS {
        return Verdict::fail(format!("{ITERATIONS} iterations expected but {} found", iterations.len()));
    }
    Verdict::pass()
}

/// The process must begin, exit with -1, and never print its `end`.
/// halt: powered off from inside the process after `begin`, never printing `fail`.
fn check_halt(all: &[&str]) -> Verdict {
    if !all.contains(&"(halt) begin") {
        return Verdict::fail("missing 'begin' message");
    }
    if all.contains(&"(halt) fail") {
        return Verdict::fail("found 'fail' message--halt didn't really halt");
    }
    Verdict::pass()
}

fn check_process_death(core: &[&str], name: &str) -> Result<(), String> {
    if core.first() != Some(&format!("({name}) begin").as_str()) {
        return Err(format!("First line of output is not `({name}) begin' message."));
    }
    if !core.iter().any(|l| *l == format!("{name}: exit(-1)")) {
        return Err(format!("Output missing '{name}: exit(-1)' message."));
    }
    if core.iter().any(|l| l.contains(&format!("({name}) end"))) {
        return Err(format!("Output contains '({name}) end' message."));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::find;

    /// A well-formed run around `core` lines.
    fn run(name: &str, core: &[&str]) -> String {
        let mut s = format!("Kernel command line: -q run {name}\nPintos booting with: \n\tbase_mem: 0x0 ~ 0x9fc00 (Usable: 639 kB)\nCalibrating timer...  100 loops/s.\nBoot complete.\nExecuting '{name}':\n");
        for l in core {
            s.push_str(l);
            s.push('\n');
        }
        s.push_str(&format!("Execution of '{name}' complete.\nTimer: 26 ticks\nThread: 0 idle ticks, 26 kernel ticks, 0 user ticks\nPowering off...\n"));
        s
    }

    fn spec(text: &str) -> Spec {
        Spec::parse(text, "inline").unwrap()
    }

    fn zero() -> &'static Test {
        find("tests/threads/alarm-zero").unwrap()
    }

    const ZERO_OK: &[&str] = &["(alarm-zero) begin", "(alarm-zero) PASS", "(alarm-zero) end"];

    #[test]
    fn exact_match_passes_and_kernel_lines_outside_the_core_are_ignored() {
        let v = check(zero(), &run("alarm-zero", ZERO_OK), RunFacts::default());
        assert_eq!(v, Verdict::pass());
        assert_eq!(v.result_file(), "PASS\n");
    }

    #[test]
    fn missing_line_fails_with_a_diff() {
        let v = check(zero(), &run("alarm-zero", &["(alarm-zero) begin", "(alarm-zero) end"]), RunFacts::default());
        assert!(!v.pass);
        assert_eq!(v.messages[0], "Test output failed to match any acceptable form.");
        let diff: Vec<&str> = v.messages.iter().skip_while(|m| !m.starts_with("Differences")).skip(1).map(String::as_str).collect();
        assert_eq!(diff, ["  (alarm-zero) begin", "- (alarm-zero) PASS", "  (alarm-zero) end"]);
    }

    #[test]
    fn kernel_lines_inside_the_core_count() {
        let v = check(zero(), &run("alarm-zero", &["(alarm-zero) begin", "(alarm-zero) PASS", "debug: hello", "(alarm-zero) end"]), RunFacts::default());
        assert!(!v.pass);
        assert!(v.messages.contains(&"+ debug: hello".to_string()), "{v:?}");
    }

    #[test]
    fn kernel_panic() {
        let out = run("alarm-zero", &["(alarm-zero) begin", "Kernel PANIC at ../../threads/thread.c:42 in f(): assertion `x' failed.", "Call stack: 0x8004001234 0x8004005678."]);
        let v = check(zero(), &out, RunFacts::default());
        assert!(!v.pass);
        assert_eq!(v.messages[0], "Kernel panic in run: PANIC at ../../threads/thread.c:42 in f(): assertion `x' failed.");
        assert!(v.messages[1].starts_with("Call stack: 0x8004001234"));
    }

    #[test]
    fn timeout_and_fail_keywords() {
        let out = "Pintos booting with: \nBoot complete.\nExecuting 'alarm-zero':\n(alarm-zero) begin\nTIMEOUT";
        let v = check(zero(), out, RunFacts::default());
        assert_eq!(v.messages, ["run: TIMEOUT"]);
        let v = check(zero(), &run("alarm-zero", &["(alarm-zero) begin", "(alarm-zero) FAIL: it broke"]), RunFacts::default());
        assert_eq!(v.messages, ["run: FAIL: it broke"]);
    }

    #[test]
    fn start_up_shut_down_and_triple_fault() {
        assert_eq!(check(zero(), "", RunFacts::default()).messages, ["Run produced no output at all"]);
        let v = check(zero(), "Booting from Hard Disk..\n", RunFacts::default());
        assert_eq!(v.messages, ["Run didn't start up properly: no \"Pintos booting\" message"]);
        let cut = "Pintos booting with: \nBoot complete.\nExecuting 'alarm-zero':\n(alarm-zero) begin\n";
        let v = check(zero(), cut, RunFacts::default());
        assert_eq!(v.messages, ["Run didn't shut down properly: no \"Timer: # ticks\" message"]);
        let v = check(zero(), cut, RunFacts { triple_fault: true });
        assert!(v.messages[1].starts_with("Triple fault:"), "{v:?}");
        let rebooted = format!("Pintos booting with: \n{}", run("alarm-zero", ZERO_OK));
        assert!(check(zero(), &rebooted, RunFacts::default()).messages[0].starts_with("Run spontaneously rebooted 1 times."));
    }

    #[test]
    fn run_that_never_starts_or_finishes() {
        let s = run("alarm-zero", ZERO_OK).replace("Executing 'alarm-zero':", "Running");
        assert_eq!(check(zero(), &s, RunFacts::default()).messages, ["Run didn't start a thread or process"]);
        let s = run("alarm-zero", ZERO_OK).replace("Execution of 'alarm-zero' complete.", "");
        assert_eq!(check(zero(), &s, RunFacts::default()).messages, ["Run started 'alarm-zero' but it never finished"]);
        assert_eq!(check(zero(), &run("alarm-zero", &[]), RunFacts::default()).messages, ["Run didn't produce any output"]);
    }

    #[test]
    fn alternative_forms_and_closest_diff() {
        let t = find("tests/userprog/wait-killed").unwrap();
        let sp = spec("--- form\n(t) begin\nload: failed\nchild: exit(-1)\n(t) end\n--- form\n(t) begin\nchild: exit(-1)\n(t) end\n");
        let ok1 = run("t", &["(t) begin", "load: failed", "child: exit(-1)", "(t) end"]);
        let ok2 = run("t", &["(t) begin", "child: exit(-1)", "(t) end"]);
        assert!(check_with(t, &ok1, RunFacts::default(), Some(&sp)).pass);
        assert!(check_with(t, &ok2, RunFacts::default(), Some(&sp)).pass);
        let bad = run("t", &["(t) begin", "child: exit(0)", "(t) end"]);
        let v = check_with(t, &bad, RunFacts::default(), Some(&sp));
        assert!(!v.pass);
        assert!(v.messages.contains(&"Closest acceptable output (form 2 of 2):".to_string()), "{v:?}");
    }

    #[test]
    fn halt_needs_begin_and_no_fail_but_no_core_output() {
        let halt = find("tests/userprog/halt").unwrap();
        let boot = "Pintos booting with: \nBoot complete.\nExecuting 'halt':\n";
        let end = "Timer: 5 ticks\nPowering off...\n";
        assert!(check(halt, &format!("{boot}(halt) begin\n{end}"), RunFacts::default()).pass);
        let v = check(halt, &format!("{boot}{end}"), RunFacts::default());
        assert_eq!(v.messages, ["missing 'begin' message"]);
        let v = check(halt, &format!("{boot}(halt) begin\n(halt) fail\n{end}"), RunFacts::default());
        assert_eq!(v.messages, ["found 'fail' message--halt didn't really halt"]);
    }

    #[test]
    fn ignored_exit_codes_and_user_faults() {
        let t = find("tests/userprog/bad-read").unwrap();
        let out = run("bad-read", &[
            "(bad-read) begin",
            "Page fault at 0: not present error reading page in user context.",
            "bad-read: dying due to interrupt 0x0e (#PF Page-Fault Exception).",
            "Interrupt 0x0e (#PF Page-Fault Exception) at eip=0x400100",
            " cr2=0000000000000000 error=               4",
            " eax=00000000 ebx=00000000 ecx=00000000 edx=00000000",
            "bad-read: exit(-1)",
        ]);
        let strict = spec("--- form\n(bad-read) begin\nbad-read: exit(-1)\n");
        assert!(!check_with(t, &out, RunFacts::default(), Some(&strict)).pass);
        let lenient = spec("option ignore-user-faults\n--- form\n(bad-read) begin\nbad-read: exit(-1)\n");
        assert!(check_with(t, &out, RunFacts::default(), Some(&lenient)).pass);
        let no_exit = spec("option ignore-exit-codes\noption ignore-user-faults\n--- form\n(bad-read) begin\n");
        let v = check_with(t, &out, RunFacts::default(), Some(&no_exit));
        assert!(v.pass, "{v:?}");
        assert!(is_exit_line("child_1-x: exit(-12)") && !is_exit_line("a b: exit(1)") && !is_exit_line("x: exit()"));
    }

    #[test]
    fn missing_spec_is_a_harness_failure() {
        // A test whose check needs a spec, renamed to one that has none.
        let mut t = find("tests/vm/swap-fork").unwrap().clone();
        t.path = "tests/vm/no-such-test".into();
        let v = check(&t, &run("no-such-test", &["x"]), RunFacts::default());
        assert!(!v.pass && v.messages[0].starts_with("harness: no expected-output spec"), "{v:?}");
    }

    #[test]
    fn alarm_ordering() {
        let t = find("tests/threads/alarm-single").unwrap();
        let lines: Vec<String> = (1..=5).map(|k| format!("(alarm-single) thread {}: duration={}, iteration=1, product={}", k - 1, k * 10, k * 10)).collect();
        let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
        assert!(check(t, &run("alarm-single", &refs), RunFacts::default()).pass);
        let swapped = [refs[1], refs[0], refs[2], refs[3], refs[4]];
        assert_eq!(check(t, &run("alarm-single", &swapped), RunFacts::default()).messages, ["Out of order wakeups (20 vs. 10)."]);
        assert_eq!(check(t, &run("alarm-single", &refs[..4]), RunFacts::default()).messages, ["1 fewer wakeups than expected."]);
        let mut more = refs.clone();
        more.push(refs[4]);
        assert_eq!(check(t, &run("alarm-single", &more), RunFacts::default()).messages, ["Too many wakeups."]);
    }

    #[test]
    fn priority_fifo() {
        let t = find("tests/threads/priority-fifo").unwrap();
        let line = "(priority-fifo) iteration: 3 1 2 0 4 5 6 7 8 9 10 11 12 13 14 15";
        let good = vec![line; 16];
        assert!(check(t, &run("priority-fifo", &good), RunFacts::default()).pass);
        let mut bad = good.clone();
        bad[5] = "(priority-fifo) iteration: 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15";
        assert_eq!(check(t, &run("priority-fifo", &bad), RunFacts::default()).messages, ["Iteration 5 differs from iteration 0"]);
        assert_eq!(check(t, &run("priority-fifo", &good[..15]), RunFacts::default()).messages, ["16 iterations expected but 15 found"]);
    }

    #[test]
    fn process_death_and_load_1() {
        let t = find("tests/vm/pt-bad-addr").unwrap();
        assert!(check(t, &run("pt-bad-addr", &["(pt-bad-addr) begin", "pt-bad-addr: exit(-1)"]), RunFacts::default()).pass);
        let v = check(t, &run("pt-bad-addr", &["(pt-bad-addr) begin", "pt-bad-addr: exit(-1)", "(pt-bad-addr) end"]), RunFacts::default());
        assert_eq!(v.messages, ["Output contains '(pt-bad-addr) end' message."]);
        let t = find("tests/threads/mlfqs/mlfqs-load-1").unwrap();
        assert!(check(t, &run("mlfqs-load-1", &["(mlfqs-load-1) begin", "(mlfqs-load-1) PASS", "(mlfqs-load-1) end"]), RunFacts::default()).pass);
        assert_eq!(check(t, &run("mlfqs-load-1", &["(mlfqs-load-1) begin"]), RunFacts::default()).messages, ["missing PASS in output"]);
    }

    // Real QEMU runs of the KAIST skeleton (program output kept as fixtures).

    #[test]
    fn qemu_alarm_runs_pass() {
        for name in ["alarm-single", "alarm-multiple"] {
            let text = match name {
                "alarm-single" => include_str!("../fixtures/alarm-single.qemu.output"),
                _ => include_str!("../fixtures/alarm-multiple.qemu.output"),
            };
            let v = check(find(&format!("tests/threads/{name}")).unwrap(), text, RunFacts::default());
            assert!(v.pass, "{name}: {v:?}");
        }
    }

    #[test]
    fn qemu_priority_change_fails_with_the_two_missing_lines() {
        let text = include_str!("../fixtures/priority-change.qemu.output");
        let v = check(find("tests/threads/priority-change").unwrap(), text, RunFacts::default());
        assert!(!v.pass);
        let removed: Vec<&str> = v.messages.iter().filter(|m| m.starts_with("- ")).map(String::as_str).collect();
        assert_eq!(removed, ["- (priority-change) Thread 2 now lowering priority.", "- (priority-change) Thread 2 exiting."]);
        assert!(!v.messages.iter().any(|m| m.starts_with("+ ")));
    }
}
