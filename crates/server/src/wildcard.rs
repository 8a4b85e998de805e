//! Name matching for QUERY_DIRECTORY search patterns (MS-FSA 2.1.4.4 "Algorithm for Determining if a
//! FileName Is in an Expression"): `*`, `?` and the DOS wildcards `<` (DOS_STAR), `>` (DOS_QM) and `"`
//! (DOS_DOT), compared case-insensitively.
//!
//! A dynamic-programming table over (pattern position, name position) keeps the cost at
//! O(pattern × name), so hostile patterns cannot cause exponential backtracking.

/// A pattern prepared for matching (upper-cased characters).
pub fn compile(pattern: &str) -> Vec<char> {
    upper(pattern)
}

fn upper(s: &str) -> Vec<char> {
    s.chars().flat_map(char::to_uppercase).collect()
}

/// Whether `pattern` matches everything, so names need not be compared.
pub fn matches_all(pattern: &[char]) -> bool {
    pattern == ['*']
}

/// MS-FSA 2.1.4.4 IsInExpression.
pub fn matches(pattern: &[char], name: &str) -> bool {
    if matches_all(pattern) {
        return true;
    }
    let name = upper(name);
    let n = name.len();
    let last_dot = name.iter().rposition(|c| *c == '.');
    // row[j]: does pattern[i..] match name[j..]? Computed from the last pattern character backwards.
    let mut next: Vec<bool> = (0..=n).map(|j| j == n).collect();
    for p in pattern.iter().rev() {
        // Filled from the end, so `row` holds the values for positions after `j` when `j` is computed.
        let mut row = vec![false; n + 1];
        for j in (0..=n).rev() {
            let here = name.get(j).copied();
            let at = |v: &[bool], k: usize| v.get(k).copied().unwrap_or(false);
            let value = match *p {
                '*' => at(&next, j) || (here.is_some() && at(&row, j + 1)),
                '?' => here.is_some() && at(&next, j + 1),
                '<' => at(&next, j) || (here.is_some() && Some(j) != last_dot && at(&row, j + 1)),
                '>' => match here {
                    Some('.') | None => at(&next, j),
                    Some(_) => at(&next, j + 1),
                },
                '"' => match here {
                    Some('.') => at(&next, j + 1),
                    None => at(&next, j),
                    Some(_) => false,
                },
                c => here == Some(c) && at(&next, j + 1),
            };
            if let Some(slot) = row.get_mut(j) {
                *slot = value;
            }
        }
        next = row;
    }
    next.first().copied().unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, n: &str) -> bool {
        matches(&compile(p), n)
    }

    #[test]
    fn star_and_question() {
        assert!(m("*", "anything.txt"));
        assert!(m("*.TXT", "file.txt"));
        assert!(!m("*.txt", "file.doc"));
        assert!(m("f?le", "FILE"));
        assert!(!m("f?le", "fle"));
        assert!(m("a*b*c", "axxbyyc"));
        assert!(!m("a*b*c", "axxbyy"));
    }

    #[test]
    fn dos_wildcards() {
        assert!(m("<.txt", "a.b.txt"));
        assert!(m("<", "name"));
        assert!(!m("<", "name.ext"), "DOS_STAR stops at the final dot");
        assert!(m("<.*", "name.ext"));
        assert!(m("ab>>>>>", "ab"), "DOS_QM matches nothing at the end");
        assert!(
            m("ab>>.txt", "ab.txt"),
            "DOS_QM matches nothing before a dot"
        );
        assert!(m("abc\"*", "abc.d"));
        assert!(m("abc\"", "abc"), "DOS_DOT matches nothing at the end");
        assert!(!m("abc\"", "abcd"));
    }

    #[test]
    fn hostile_pattern_is_fast() {
        let p = "*a".repeat(200);
        let n = "a".repeat(250) + "b";
        assert!(!m(&p, &n));
    }
}
