//! Reads smb.conf text into a flat list of section headers and `name = value` lines: comments,
//! backslash-newline continuation and `include =` (followed recursively) are handled here.

use std::fs;
use std::path::{Path, PathBuf};

use crate::diag::{Diagnostics, Location};
use crate::registry::{self, Key, Support};

/// How deep `include` may nest.
pub(crate) const MAX_INCLUDE_DEPTH: usize = 10;

/// One meaningful line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Event {
    Section {
        name: String,
        at: Location,
    },
    Param {
        name: String,
        value: String,
        at: Location,
    },
}

/// Collects events from a file and the files it includes.
pub(crate) struct Reader<'d> {
    pub events: Vec<Event>,
    diags: &'d mut Diagnostics,
    /// Canonical paths of the files being read, outermost first, to stop include loops.
    stack: Vec<PathBuf>,
}

impl<'d> Reader<'d> {
    pub fn new(diags: &'d mut Diagnostics) -> Reader<'d> {
        Reader {
            events: Vec::new(),
            diags,
            stack: Vec::new(),
        }
    }

    /// Reads the text of `file`; relative includes are resolved against `file`'s directory.
    pub fn read_text(&mut self, text: &str, file: &str, depth: usize) {
        let base = Path::new(file)
            .parent()
            .unwrap_or(Path::new(""))
            .to_path_buf();
        for (line, content) in logical_lines(text) {
            let at = Location {
                file: file.to_owned(),
                line,
            };
            self.line(&content, at, &base, depth);
        }
    }

    /// Reads the file at `path`, which must exist.
    pub fn read_file(&mut self, path: &Path, depth: usize) -> std::io::Result<()> {
        let canonical = fs::canonicalize(path)?;
        let bytes = fs::read(path)?;
        self.stack.push(canonical);
        self.read_text(
            &String::from_utf8_lossy(&bytes),
            &path.display().to_string(),
            depth,
        );
        self.stack.pop();
        Ok(())
    }

    fn line(&mut self, content: &str, at: Location, base: &Path, depth: usize) {
        if let Some(rest) = content.strip_prefix('[') {
            match rest.split_once(']') {
                Some((name, _)) if !name.trim().is_empty() => self.events.push(Event::Section {
                    name: name.trim().to_owned(),
                    at,
                }),
                Some(_) => self.diags.error(&at, "empty section name"),
                None => self.diags.error(&at, "missing ']' in section header"),
            }
            return;
        }
        let Some((name, value)) = content.split_once('=') else {
            self.diags
                .error(&at, format!("expected 'name = value', found '{content}'"));
            return;
        };
        let (name, value) = (name.trim(), value.trim());
        if name.is_empty() {
            self.diags.error(&at, "missing parameter name before '='");
        } else if is_include(name) {
            self.include(value, base, &at, depth);
        } else {
            self.events.push(Event::Param {
                name: name.to_owned(),
                value: value.to_owned(),
                at,
            });
        }
    }

    fn include(&mut self, value: &str, base: &Path, at: &Location, depth: usize) {
        if value.contains('%') {
            self.diags.warn(
                at,
                format!("include with % substitutions is not supported yet; '{value}' ignored"),
            );
            return;
        }
        let path = base.join(value);
        if depth >= MAX_INCLUDE_DEPTH {
            self.diags.error(
                at,
                format!(
                    "include depth limit ({MAX_INCLUDE_DEPTH}) exceeded by '{}'",
                    path.display()
                ),
            );
            return;
        }
        let looping = fs::canonicalize(&path).is_ok_and(|c| self.stack.contains(&c));
        if looping {
            self.diags.warn(
                at,
                format!(
                    "include loop: '{}' is already being read; ignored",
                    path.display()
                ),
            );
        } else if let Err(e) = self.read_file(&path, depth + 1) {
            self.diags.warn(
                at,
                format!(
                    "cannot read include file '{}': {e}; ignored",
                    path.display()
                ),
            );
        }
    }
}

fn is_include(name: &str) -> bool {
    matches!(
        registry::lookup(name),
        Some((p, _)) if p.support == Support::Supported(Key::Include)
    )
}

/// Joins backslash-continued lines and drops blank and comment lines. Each result carries the number of its
/// first physical line and is trimmed.
fn logical_lines(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut pending: Option<(usize, String)> = None;
    for (index, raw) in text.lines().enumerate() {
        let number = index.saturating_add(1);
        let (start, mut acc) = match pending.take() {
            Some(p) => p,
            None => {
                let trimmed = raw.trim_start();
                if trimmed.is_empty() || trimmed.starts_with([';', '#']) {
                    continue;
                }
                (number, String::new())
            }
        };
        let line = raw.trim_end();
        match line.strip_suffix('\\') {
            Some(head) => {
                acc.push_str(head);
                pending = Some((start, acc));
            }
            None => {
                acc.push_str(line);
                out.push((start, acc.trim().to_owned()));
            }
        }
    }
    if let Some((start, acc)) = pending {
        out.push((start, acc.trim().to_owned()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_blank_lines_and_continuation() {
        let text = "# comment\n  ; another\n\n[a]\nx = 1 \\\n  2\\\n3\n y=4\nz = 5 \\";
        let lines = logical_lines(text);
        assert_eq!(
            lines,
            [
                (4, "[a]".to_owned()),
                (5, "x = 1   23".to_owned()),
                (8, "y=4".to_owned()),
                (9, "z = 5".to_owned()),
            ]
        );
    }

    #[test]
    fn events_and_syntax_errors() {
        let mut diags = Diagnostics::default();
        let mut r = Reader::new(&mut diags);
        r.read_text(
            "[ Data ]\n  Path = /srv/x  \nbogus line\n[unclosed\n[]\n = v\n",
            "t.conf",
            0,
        );
        let events = r.events;
        assert_eq!(
            events,
            [
                Event::Section {
                    name: "Data".into(),
                    at: Location {
                        file: "t.conf".into(),
                        line: 1
                    }
                },
                Event::Param {
                    name: "Path".into(),
                    value: "/srv/x".into(),
                    at: Location {
                        file: "t.conf".into(),
                        line: 2
                    }
                },
            ]
        );
        let errors: Vec<String> = diags.errors.iter().map(|d| d.to_string()).collect();
        assert_eq!(
            errors,
            [
                "t.conf:3: expected 'name = value', found 'bogus line'",
                "t.conf:4: missing ']' in section header",
                "t.conf:5: empty section name",
                "t.conf:6: missing parameter name before '='",
            ]
        );
    }

    #[test]
    fn include_with_substitution_is_warned() {
        let mut diags = Diagnostics::default();
        let mut r = Reader::new(&mut diags);
        r.read_text("include = /etc/samba/%m.conf\n", "t.conf", 0);
        assert!(r.events.is_empty());
        assert_eq!(diags.warnings.len(), 1);
        assert!(diags.warnings[0].message.contains("% substitutions"));
    }
}
