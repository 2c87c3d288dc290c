//! Line diff (longest common subsequence) in the style the Pintos checker reports: every
//! line of both sides, prefixed `  ` (same), `- ` (expected only) or `+ ` (actual only),
//! with each changed stretch's removals before its additions.

/// One line of a diff.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DiffLine<'a> {
    Same(&'a str),
    Removed(&'a str),
    Added(&'a str),
}

impl DiffLine<'_> {
    pub fn render(&self) -> String {
        match self {
            DiffLine::Same(l) => format!("  {l}"),
            DiffLine::Removed(l) => format!("- {l}"),
            DiffLine::Added(l) => format!("+ {l}"),
        }
    }
}

/// Above this many cells the quadratic table would be too big; such outputs (a runaway
/// test printing thousands of lines) get a plain "all removed, all added" diff.
const MAX_CELLS: usize = 16 << 20;

/// Diffs `expected` against `actual`.
pub fn diff<'a>(expected: &[&'a str], actual: &[&'a str]) -> Vec<DiffLine<'a>> {
    // Common prefix and suffix need no table; most failing runs differ in a few lines.
    let prefix = expected.iter().zip(actual).take_while(|(a, b)| a == b).count();
    let (e, a) = (&expected[prefix..], &actual[prefix..]);
    let suffix = e.iter().rev().zip(a.iter().rev()).take_while(|(x, y)| x == y).count();
    let (e, a) = (&e[..e.len() - suffix], &a[..a.len() - suffix]);

    let mut out: Vec<DiffLine<'a>> = expected[..prefix].iter().map(|l| DiffLine::Same(l)).collect();
    let (n, m) = (e.len(), a.len());
    let mut middle = Vec::new();
    if (n + 1) * (m + 1) <= MAX_CELLS {
        // lcs[i][j] = length of the LCS of e[i..] and a[j..].
        let w = m + 1;
        let mut lcs = vec![0u32; (n + 1) * w];
        for i in (0..n).rev() {
            for j in (0..m).rev() {
                lcs[i * w + j] = if e[i] == a[j] { lcs[(i + 1) * w + j + 1] + 1 } else { lcs[(i + 1) * w + j].max(lcs[i * w + j + 1]) };
            }
        }
        let (mut i, mut j) = (0, 0);
        while i < n || j < m {
            if i < n && j < m && e[i] == a[j] {
                middle.push(DiffLine::Same(e[i]));
                i += 1;
                j += 1;
            } else if j == m || (i < n && lcs[(i + 1) * w + j] >= lcs[i * w + j + 1]) {
                middle.push(DiffLine::Removed(e[i]));
                i += 1;
            } else {
                middle.push(DiffLine::Added(a[j]));
                j += 1;
            }
        }
    } else {
        middle.extend(e.iter().map(|l| DiffLine::Removed(l)));
        middle.extend(a.iter().map(|l| DiffLine::Added(l)));
    }
    // Within each changed stretch, removals first.
    let mut k = 0;
    while k < middle.len() {
        if matches!(middle[k], DiffLine::Same(_)) {
            out.push(middle[k].clone());
            k += 1;
            continue;
        }
        let end = (k..middle.len()).find(|&x| matches!(middle[x], DiffLine::Same(_))).unwrap_or(middle.len());
        out.extend(middle[k..end].iter().filter(|d| matches!(d, DiffLine::Removed(_))).cloned());
        out.extend(middle[k..end].iter().filter(|d| matches!(d, DiffLine::Added(_))).cloned());
        k = end;
    }
    out.extend(expected[expected.len() - suffix..].iter().map(|l| DiffLine::Same(l)));
    out
}

/// How many lines differ (removed plus added).
pub fn distance(d: &[DiffLine]) -> usize {
    d.iter().filter(|l| !matches!(l, DiffLine::Same(_))).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_and_extra_lines() {
        let d = diff(&["a", "b", "c", "d"], &["a", "c", "x", "d"]);
        let r: Vec<String> = d.iter().map(|l| l.render()).collect();
        assert_eq!(r, ["  a", "- b", "  c", "+ x", "  d"]);
        assert_eq!(distance(&d), 2);
    }

    #[test]
    fn replacement_lists_removals_first() {
        let d = diff(&["a", "b", "c"], &["a", "x", "y", "c"]);
        let r: Vec<String> = d.iter().map(|l| l.render()).collect();
        assert_eq!(r, ["  a", "- b", "+ x", "+ y", "  c"]);
    }

    #[test]
    fn empty_sides() {
        assert_eq!(diff(&[], &["a"]), [DiffLine::Added("a")]);
        assert_eq!(diff(&["a"], &[]), [DiffLine::Removed("a")]);
        assert!(diff(&[], &[]).is_empty());
    }
}
