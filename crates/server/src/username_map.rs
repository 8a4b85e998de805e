//! `username map` (Samba's parameter): a file that maps the names clients log on with to the accounts
//! they use here; rsmbd applies it to Kerberos principals (`user@REALM` → `user` → the mapped name).
//!
//! The format, as Samba reads it: one mapping per line, `account = name name ...` (names separated by
//! spaces or commas). A name is a client name, `*` (anyone) or a double-quoted name with spaces; `#` and `;` start comment lines. Lines are
//! read top to bottom and the last one that matches wins, except that a matching line whose account is
//! prefixed with `!` ends the search at once. `@group` names (Unix group members) are not supported and
//! never match.

/// One line: the account, the client names it takes, and whether a match ends the search.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Mapping {
    account: String,
    names: Vec<String>,
    last: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UsernameMap {
    mappings: Vec<Mapping>,
}

/// Largest map file read.
const MAX_MAP_BYTES: u64 = 1 << 20;

impl UsernameMap {
    /// Reads the map file at `path`.
    pub fn load(path: &str) -> Result<UsernameMap, String> {
        let len = std::fs::metadata(path)
            .map_err(|e| format!("username map {path}: {e}"))?
            .len();
        if len > MAX_MAP_BYTES {
            return Err(format!("username map {path}: larger than 1 MiB"));
        }
        let text =
            std::fs::read_to_string(path).map_err(|e| format!("username map {path}: {e}"))?;
        Ok(UsernameMap::parse(&text))
    }

    pub fn parse(text: &str) -> UsernameMap {
        let mappings = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with(['#', ';']))
            .filter_map(|l| {
                let (account, names) = l.split_once('=')?;
                let account = account.trim();
                let (last, account) = match account.strip_prefix('!') {
                    Some(a) => (true, a.trim()),
                    None => (false, account),
                };
                (!account.is_empty()).then(|| Mapping {
                    account: account.to_string(),
                    names: config::parse_list(names),
                    last,
                })
            })
            .collect();
        UsernameMap { mappings }
    }

    /// The account `name` maps to (`name` itself when no line matches).
    pub fn map(&self, name: &str) -> String {
        let mut mapped = None;
        for m in &self.mappings {
            let matches = m
                .names
                .iter()
                .any(|n| n == "*" || n.eq_ignore_ascii_case(name));
            if matches {
                mapped = Some(&m.account);
                if m.last {
                    break;
                }
            }
        }
        mapped.map_or_else(|| name.to_string(), Clone::clone)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_match_wins_unless_a_bang_line_stops_the_search() {
        let map = UsernameMap::parse(
            "# comment\n; another\nroot = admin administrator\n\
             !sys = mr\n\"wrong line\" \nguest = *\nalice = \"Alice Smith\" asmith\n",
        );
        assert_eq!(map.map("admin"), "guest", "the * line after it matches too");
        assert_eq!(map.map("mr"), "sys", "! stops at its line");
        assert_eq!(map.map("Alice Smith"), "alice");
        assert_eq!(map.map("ASMITH"), "alice");
        assert_eq!(map.map("nobody"), "guest");
        assert_eq!(UsernameMap::parse("").map("bob"), "bob");
    }
}
