//! The advanced-scheduler checks: measured values from the test's output compared with
//! the values the 4.4BSD scheduler's formulas predict, within a tolerance.

use std::fmt::Write;

/// Every tolerance gets this much slack, so values printed with two decimals that sit
/// right on the boundary still pass.
const SLACK: f64 = 0.01;

/// Which measured curve a test prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Curve {
    /// 60 threads busy for the first minute, then none: load average over 3 minutes.
    Load60,
    /// Ready threads ramp up to 60 over a minute, back down over the next: load average.
    LoadAvg,
    /// One busy thread: its recent_cpu over 3 minutes.
    Recent1,
}

impl Curve {
    /// The text before the measured value: `After T seconds, <label><value><end>`.
    fn label(self) -> (&'static str, char) {
        match self {
            Curve::Load60 | Curve::LoadAvg => ("load average=", '.'),
            Curve::Recent1 => ("recent_cpu is ", ','),
        }
    }

    /// The largest allowed difference between measured and expected values.
    pub fn tolerance(self) -> f64 {
        match self {
            Curve::Load60 => 3.5,
            Curve::LoadAvg | Curve::Recent1 => 2.5,
        }
    }

    fn what(self) -> &'static str {
        match self {
            Curve::Load60 | Curve::LoadAvg => "load average",
            Curve::Recent1 => "recent_cpu",
        }
    }

    /// The expected value after each whole second, indices 0..180.
    pub fn expected(self) -> Vec<f64> {
        match self {
            Curve::Load60 => load_curve(|t| if t < 60 { 60.0 } else { 0.0 }),
            Curve::LoadAvg => load_curve(|t| if t < 60 { t as f64 } else if t < 120 { (120 - t) as f64 } else { 0.0 }),
            Curve::Recent1 => {
                // Once a second: load_avg decays towards one ready thread, and
                // recent_cpu gains the 100 ticks the busy thread ran and decays by
                // 2·load/(2·load + 1). Index t holds the value after t updates.
                let (mut load, mut recent) = (0.0f64, 0.0f64);
                let mut v = vec![0.0];
                for _ in 0..180 {
                    load = load * 59.0 / 60.0 + 1.0 / 60.0;
                    let twice = 2.0 * load;
                    recent = (recent + 100.0) * (twice / (twice + 1.0));
                    v.push(recent);
                }
                v
            }
        }
    }

    /// Measured values by second, from the core output.
    pub fn measured(self, lines: &[&str]) -> Vec<Option<f64>> {
        let (label, end) = self.label();
        let mut v: Vec<Option<f64>> = Vec::new();
        for line in lines {
            if let Some((t, x)) = parse_after(line, label, end) {
                if v.len() <= t {
                    v.resize(t + 1, None);
                }
                v[t] = Some(x);
            }
        }
        v
    }

    /// Compares the core output's values at seconds 2, 4, ..., 178. `Err` holds the
    /// failure report.
    pub fn check(self, lines: &[&str]) -> Result<(), String> {
        let measured = self.measured(lines);
        let expected = self.expected();
        let rows: Vec<(usize, Option<f64>, f64)> = (2..=178).step_by(2).map(|t| (t, measured.get(t).copied().flatten(), expected[t])).collect();
        compare("time", &rows, self.tolerance(), 2, &format!("Some {} values were missing or differed from those expected by more than {}.", self.what(), self.tolerance()))
    }
}

/// Load average after each second for a given number of ready threads per second.
fn load_curve(ready: impl Fn(usize) -> f64) -> Vec<f64> {
    let mut load = 0.0f64;
    (0..180)
        .map(|t| {
            load = load * 59.0 / 60.0 + ready(t) / 60.0;
            load
        })
        .collect()
}

/// Parses `After T seconds, LABEL D.DD<end>` anywhere in a line.
fn parse_after(line: &str, label: &str, end: char) -> Option<(usize, f64)> {
    let mut rest = line;
    while let Some(i) = rest.find("After ") {
        rest = &rest[i + 6..];
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            continue;
        }
        let t: usize = rest[..digits].parse().ok()?;
        let Some(after) = rest[digits..].strip_prefix(" seconds, ").and_then(|r| r.strip_prefix(label)) else { continue };
        let int = after.bytes().take_while(u8::is_ascii_digit).count();
        let frac_part = after[int..].strip_prefix('.');
        let Some(frac_part) = frac_part else { continue };
        let frac = frac_part.bytes().take_while(u8::is_ascii_digit).count();
        if int == 0 || frac == 0 || !frac_part[frac..].starts_with(end) {
            continue;
        }
        let x: f64 = after[..int + 1 + frac].parse().ok()?;
        return Some((t, x));
    }
    None
}

/// Simulates the advanced scheduler for the fairness tests: threads with the given nice
/// values, all always ready, over 750 scheduling decisions of 4 ticks each (3000 ticks);
/// returns the ticks each thread receives.
///
/// Every 25 ticks the load average and each thread's recent_cpu are updated; every tick
/// the thread with the best (numerically lowest here: recent_cpu/4 + 2·nice, clamped to
/// 0..=63) value runs for 4 ticks, ties going to whichever ran least recently.
pub fn expected_ticks(nice: &[i32]) -> Vec<u32> {
    let n = nice.len();
    let mut recent = vec![0.0f64; n];
    let mut ticks = vec![0u32; n];
    let mut last_run = vec![0u64; n];
    let mut clock = 1u64;
    let mut load = 0.0f64;
    for i in 1..=750 {
        if i % 25 == 0 {
            load = load * 59.0 / 60.0 + n as f64 / 60.0;
            let factor = 2.0 * load / (2.0 * load + 1.0);
            for (r, &ni) in recent.iter_mut().zip(nice) {
                *r = *r * factor + ni as f64;
            }
        }
        let rank = |j: usize| ((recent[j] / 4.0 + nice[j] as f64 * 2.0).trunc() as i64).clamp(0, 63);
        let mut best = 0;
        for j in 1..n {
            if rank(j) < rank(best) || (rank(j) == rank(best) && last_run[j] < last_run[best]) {
                best = j;
            }
        }
        last_run[best] = clock;
        clock += 1;
        recent[best] += 4.0;
        ticks[best] += 4;
    }
    ticks
}

/// Checks `Thread N received T ticks.` lines against [`expected_ticks`].
pub fn check_fair(lines: &[&str], nice: &[i32], max_diff: u32) -> Result<(), String> {
    let mut measured: Vec<Option<f64>> = vec![None; nice.len()];
    for line in lines {
        if let Some((id, count)) = parse_received(line) {
            if id < measured.len() {
                measured[id] = Some(count as f64);
            }
        }
    }
    let expected = expected_ticks(nice);
    let rows: Vec<(usize, Option<f64>, f64)> = (0..nice.len()).map(|t| (t, measured[t], expected[t] as f64)).collect();
    compare("thread", &rows, max_diff as f64, 0, &format!("Some tick counts were missing or differed from those expected by more than {max_diff}."))
}

fn parse_received(line: &str) -> Option<(usize, u64)> {
    let mut rest = line;
    while let Some(i) = rest.find("Thread ") {
        rest = &rest[i + 7..];
        let d = rest.bytes().take_while(u8::is_ascii_digit).count();
        let Some(after) = (d > 0).then(|| rest[d..].strip_prefix(" received ")).flatten() else { continue };
        let e = after.bytes().take_while(u8::is_ascii_digit).count();
        if e > 0 && after[e..].starts_with(" ticks.") {
            return Some((rest[..d].parse().ok()?, after[..e].parse().ok()?));
        }
    }
    None
}

/// Compares (x, measured, expected) rows; on failure returns `message` and a table of
/// every row.
fn compare(x_name: &str, rows: &[(usize, Option<f64>, f64)], tolerance: f64, decimals: usize, message: &str) -> Result<(), String> {
    let ok = |m: Option<f64>, e: f64| m.is_some_and(|m| (m - e).abs() <= tolerance + SLACK);
    if rows.iter().all(|&(_, m, e)| ok(m, e)) {
        return Ok(());
    }
    let mut s = format!("{message}\n");
    let _ = writeln!(s, "{:>6} {:>9} {:^5} {:<9} {}", x_name, "measured", "", "expected", "note");
    for &(x, m, e) in rows {
        let (shown, mark, note) = match m {
            None => ("(none)".to_string(), "", "missing".to_string()),
            Some(m) if ok(Some(m), e) => (format!("{m:.decimals$}"), "ok", String::new()),
            Some(m) => {
                let excess = (m - e).abs() - tolerance;
                let dir = if m > e { "too high" } else { "too low" };
                (format!("{m:.decimals$}"), "!!", format!("{dir} by {excess:.decimals$}"))
            }
        };
        let _ = writeln!(s, "{x:>6} {shown:>9} {mark:^5} {e:<9.decimals$} {note}");
    }
    Err(s.trim_end().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines_for(curve: Curve, values: &[f64]) -> Vec<String> {
        let (label, end) = curve.label();
        (2..=178).step_by(2).map(|t| format!("(test) After {t} seconds, {label}{:.2}{end} more", values[t])).collect()
    }

    #[test]
    fn ideal_curves_pass_and_shifted_ones_fail() {
        for curve in [Curve::Load60, Curve::LoadAvg, Curve::Recent1] {
            let exp = curve.expected();
            let good = lines_for(curve, &exp);
            let refs: Vec<&str> = good.iter().map(String::as_str).collect();
            assert_eq!(curve.check(&refs), Ok(()), "{curve:?}");
            let within: Vec<f64> = exp.iter().map(|v| v + curve.tolerance() - 0.005).collect();
            let w = lines_for(curve, &within);
            assert!(curve.check(&w.iter().map(String::as_str).collect::<Vec<_>>()).is_ok());
            let off: Vec<f64> = exp.iter().map(|v| v + curve.tolerance() + 0.1).collect();
            let bad = lines_for(curve, &off);
            let e = curve.check(&bad.iter().map(String::as_str).collect::<Vec<_>>()).unwrap_err();
            assert!(e.contains("too high"), "{e}");
            // A missing value fails.
            let missing = &refs[1..];
            assert!(curve.check(missing).unwrap_err().contains("missing"));
        }
    }

    #[test]
    fn load60_peaks_near_sixty_times_one_minus_e_inverse() {
        let e = Curve::Load60.expected();
        assert!((e[59] - 60.0 * (1.0 - (59.0f64 / 60.0).powi(60))).abs() < 1e-9);
        assert!(e[179] < e[60]);
    }

    #[test]
    fn fair_simulation_splits_evenly_and_favours_lower_nice() {
        assert_eq!(expected_ticks(&[0, 0]), [1500, 1500]);
        let t = expected_ticks(&[0; 20]);
        assert_eq!(t.iter().sum::<u32>(), 3000);
        assert!(t.iter().all(|&x| x == 148 || x == 152 || x == 150), "{t:?}");
        let t = expected_ticks(&[0, 5]);
        assert!(t[0] > t[1] && t[0] + t[1] == 3000);
        let t = expected_ticks(&(0..10).collect::<Vec<_>>());
        assert!(t.windows(2).all(|w| w[0] >= w[1]), "{t:?}");
    }

    #[test]
    fn fair_check_reads_received_lines() {
        let exp = expected_ticks(&[0, 5]);
        let lines = [format!("(mlfqs-nice-2) Thread 0 received {} ticks.", exp[0]), format!("(mlfqs-nice-2) Thread 1 received {} ticks.", exp[1] + 50)];
        let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
        assert!(check_fair(&refs, &[0, 5], 50).is_ok());
        let lines = [format!("(mlfqs-nice-2) Thread 0 received {} ticks.", exp[0] + 51)];
        let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
        let e = check_fair(&refs, &[0, 5], 50).unwrap_err();
        assert!(e.contains("missing") && e.contains("too high"), "{e}");
    }
}
