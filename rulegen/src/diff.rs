//! A small unified line diff for dry runs.

/// Unified diff (3 lines of context) between `old` and `new`; empty when equal.
///
/// ```
/// let d = ipocket_rulegen::diff::unified_diff("a\nb\nc\n", "a\nB\nc\n", "old", "new");
/// assert!(d.contains("-b\n+B\n"));
/// ```
pub fn unified_diff(old: &str, new: &str, old_name: &str, new_name: &str) -> String {
    if old == new {
        return String::new();
    }
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    let ops = line_ops(&a, &b);
    let mut out = format!("--- {old_name}\n+++ {new_name}\n");
    const CONTEXT: usize = 3;
    // Indices of ops that are changes.
    let changes: Vec<usize> = ops
        .iter()
        .enumerate()
        .filter(|(_, op)| !matches!(op, Op::Same(..)))
        .map(|(i, _)| i)
        .collect();
    let mut i = 0;
    while i < changes.len() {
        let start = changes[i].saturating_sub(CONTEXT);
        let mut end = changes[i] + CONTEXT + 1;
        let mut j = i + 1;
        while j < changes.len() && changes[j] <= end + CONTEXT {
            end = changes[j] + CONTEXT + 1;
            j += 1;
        }
        let end = end.min(ops.len());
        let (mut a_start, mut b_start) = (None, None);
        let (mut a_len, mut b_len) = (0, 0);
        let mut body = String::new();
        for op in &ops[start..end] {
            match op {
                Op::Same(ai, bi) => {
                    a_start.get_or_insert(*ai);
                    b_start.get_or_insert(*bi);
                    a_len += 1;
                    b_len += 1;
                    body.push_str(&format!(" {}\n", a[*ai]));
                }
                Op::Del(ai, bi) => {
                    a_start.get_or_insert(*ai);
                    b_start.get_or_insert(*bi);
                    a_len += 1;
                    body.push_str(&format!("-{}\n", a[*ai]));
                }
                Op::Ins(ai, bi) => {
                    a_start.get_or_insert(*ai);
                    b_start.get_or_insert(*bi);
                    b_len += 1;
                    body.push_str(&format!("+{}\n", b[*bi]));
                }
            }
        }
        let a_from = if a_len == 0 {
            a_start.unwrap_or(0)
        } else {
            a_start.unwrap_or(0) + 1
        };
        let b_from = if b_len == 0 {
            b_start.unwrap_or(0)
        } else {
            b_start.unwrap_or(0) + 1
        };
        out.push_str(&format!("@@ -{a_from},{a_len} +{b_from},{b_len} @@\n"));
        out.push_str(&body);
        i = j;
    }
    out
}

/// One diff step; the indices are the positions in the old and new line lists.
enum Op {
    Same(usize, usize),
    Del(usize, usize),
    Ins(usize, usize),
}

fn line_ops(a: &[&str], b: &[&str]) -> Vec<Op> {
    // Trim the common prefix and suffix, then LCS on the middle.
    let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let suffix = a[prefix..]
        .iter()
        .rev()
        .zip(b[prefix..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let am = &a[prefix..a.len() - suffix];
    let bm = &b[prefix..b.len() - suffix];
    let mut ops: Vec<Op> = (0..prefix).map(|i| Op::Same(i, i)).collect();
    if am.len().saturating_mul(bm.len()) > 4_000_000 {
        // Too big for the table: show the middle as replaced.
        ops.extend((0..am.len()).map(|i| Op::Del(prefix + i, prefix)));
        ops.extend((0..bm.len()).map(|j| Op::Ins(prefix + am.len(), prefix + j)));
    } else {
        let (n, m) = (am.len(), bm.len());
        let mut lcs = vec![0u32; (n + 1) * (m + 1)];
        let at = |i: usize, j: usize| i * (m + 1) + j;
        for i in (0..n).rev() {
            for j in (0..m).rev() {
                lcs[at(i, j)] = if am[i] == bm[j] {
                    lcs[at(i + 1, j + 1)] + 1
                } else {
                    lcs[at(i + 1, j)].max(lcs[at(i, j + 1)])
                };
            }
        }
        let (mut i, mut j) = (0, 0);
        while i < n || j < m {
            if i < n && j < m && am[i] == bm[j] {
                ops.push(Op::Same(prefix + i, prefix + j));
                i += 1;
                j += 1;
            } else if i < n && (j == m || lcs[at(i + 1, j)] >= lcs[at(i, j + 1)]) {
                ops.push(Op::Del(prefix + i, prefix + j));
                i += 1;
            } else {
                ops.push(Op::Ins(prefix + i, prefix + j));
                j += 1;
            }
        }
    }
    let (sa, sb) = (a.len() - suffix, b.len() - suffix);
    ops.extend((0..suffix).map(|k| Op::Same(sa + k, sb + k)));
    ops
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Applies a unified diff produced above to `old` (test oracle).
    fn apply(old: &str, diff: &str) -> String {
        let a: Vec<&str> = old.lines().collect();
        let mut out: Vec<String> = Vec::new();
        let mut pos = 0usize;
        for line in diff.lines().skip(2) {
            if let Some(h) = line.strip_prefix("@@ -") {
                let from: usize = h.split([',', ' ']).next().unwrap().parse().unwrap();
                let len: usize = h.split([',', ' ']).nth(1).unwrap().parse().unwrap();
                let start = if len == 0 { from } else { from - 1 };
                while pos < start {
                    out.push(a[pos].to_string());
                    pos += 1;
                }
            } else if let Some(l) = line.strip_prefix(' ') {
                assert_eq!(a[pos], l);
                out.push(l.to_string());
                pos += 1;
            } else if let Some(l) = line.strip_prefix('-') {
                assert_eq!(a[pos], l);
                pos += 1;
            } else if let Some(l) = line.strip_prefix('+') {
                out.push(l.to_string());
            }
        }
        out.extend(a[pos..].iter().map(|s| s.to_string()));
        out.join("\n")
    }

    #[test]
    fn equal_is_empty() {
        assert_eq!(unified_diff("a\n", "a\n", "x", "y"), "");
    }

    #[test]
    fn diffs_apply_back() {
        let cases = [
            ("a\nb\nc", "a\nB\nc"),
            ("", "x\ny"),
            ("x\ny", ""),
            (
                "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12",
                "1\n2\nX\n4\n5\n6\n7\n8\n9\n10\nY\n12",
            ),
            ("a\nb\nc\nd", "b\nc\nd\ne"),
            ("same\nsame\nsame", "same\nother\nsame\nsame"),
        ];
        for (old, new) in cases {
            let d = unified_diff(old, new, "old", "new");
            assert!(d.starts_with("--- old\n+++ new\n@@ -"), "{d}");
            assert_eq!(apply(old, &d), new, "{old:?} -> {new:?}\n{d}");
        }
    }

    #[test]
    fn hunks_are_separate_when_far_apart() {
        let old: Vec<String> = (0..40).map(|i| i.to_string()).collect();
        let mut new = old.clone();
        new[2] = "two".into();
        new[35] = "thirty-five".into();
        let d = unified_diff(&old.join("\n"), &new.join("\n"), "o", "n");
        assert_eq!(d.matches("@@ -").count(), 2, "{d}");
        assert!(d.contains("@@ -1,6 +1,6 @@"), "{d}");
    }
}
