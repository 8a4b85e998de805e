//! `rsmbd share add|del|list`: edit the shares of the configuration file in place. The file is changed
//! as text, line by line, so the administrator's comments, ordering and layout survive (ksmbd's share
//! tool rewrites the whole file); the result is parsed again before it replaces the original.

use config::Config;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq, clap::Subcommand)]
pub enum ShareCmd {
    /// Add a share at the end of the configuration file.
    Add {
        name: String,
        /// Directory to share.
        #[arg(long)]
        path: PathBuf,
        #[arg(long, default_value = "")]
        comment: String,
        /// Allow writing (shares are read-only by default, as in Samba).
        #[arg(long)]
        writable: bool,
    },
    /// Remove a share's section (and only it) from the configuration file.
    Del { name: String },
    /// List the configured shares: name, path, read-only, comment.
    List,
}

pub fn run(cmd: ShareCmd, config_path: Option<&Path>) -> Result<(), String> {
    let path = config_path.ok_or("share commands need --config FILE")?;
    match cmd {
        ShareCmd::List => list(path),
        ShareCmd::Add {
            name,
            path: dir,
            comment,
            writable,
        } => edit(path, |text| add(text, &name, &dir, &comment, writable)),
        ShareCmd::Del { name } => edit(path, |text| del(text, &name)),
    }
}

fn load(path: &Path) -> Result<Config, String> {
    Config::load(path).map_err(|e| format!("invalid configuration:\n{e}"))
}

fn list(path: &Path) -> Result<(), String> {
    for s in load(path)?.shares {
        let ro = if s.read_only { "read-only" } else { "writable" };
        println!("{}\t{}\t{ro}\t{}", s.name, s.path.display(), s.comment);
    }
    Ok(())
}

/// Apply a text change, check that the result still parses, then replace the file atomically.
fn edit(path: &Path, change: impl FnOnce(&str) -> Result<String, String>) -> Result<(), String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let new = change(&text)?;
    Config::parse_str(&new, &path.display().to_string())
        .map_err(|e| format!("the change would make the configuration invalid:\n{e}"))?;
    let tmp = path.with_extension("rsmbd-tmp");
    std::fs::write(&tmp, new).map_err(|e| format!("{}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, path).map_err(|e| format!("{}: {e}", path.display()))
}

/// The share name of a section header line, if the line is one.
fn section_name(line: &str) -> Option<&str> {
    let t = line.trim();
    t.strip_prefix('[')?.strip_suffix(']').map(str::trim)
}

fn add(
    text: &str,
    name: &str,
    dir: &Path,
    comment: &str,
    writable: bool,
) -> Result<String, String> {
    if name.is_empty()
        || name
            .chars()
            .any(|c| c == ']' || c == '[' || c == '\\' || c == '/' || c.is_control())
    {
        return Err(format!("invalid share name '{name}'"));
    }
    if text
        .lines()
        .filter_map(section_name)
        .any(|s| s.eq_ignore_ascii_case(name))
    {
        return Err(format!("share [{name}] already exists"));
    }
    let mut out = text.to_owned();
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    out.push_str(&format!("\n[{name}]\n    path = {}\n", dir.display()));
    if !comment.is_empty() {
        out.push_str(&format!("    comment = {comment}\n"));
    }
    out.push_str(&format!(
        "    read only = {}\n",
        if writable { "no" } else { "yes" }
    ));
    Ok(out)
}

/// Remove the lines from `[name]` up to the next section header, except the comment and blank lines
/// right before that header (they introduce what follows, not the removed share).
fn del(text: &str, name: &str) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut removed: Vec<&str> = Vec::new();
    let (mut inside, mut found) = (false, false);
    for line in text.split_inclusive('\n') {
        if let Some(section) = section_name(line) {
            if inside {
                keep_trailing_comments(&removed, &mut out);
                removed.clear();
            }
            inside = section.eq_ignore_ascii_case(name);
            found |= inside;
        }
        if inside {
            removed.push(line);
        } else {
            out.push_str(line);
        }
    }
    keep_trailing_comments(&removed, &mut out);
    if found {
        Ok(out)
    } else {
        Err(format!("no share [{name}] in the configuration"))
    }
}

fn keep_trailing_comments(removed: &[&str], out: &mut String) {
    let is_comment = |l: &&&str| {
        let t = l.trim();
        t.is_empty() || t.starts_with('#') || t.starts_with(';')
    };
    let keep = removed.iter().rev().take_while(is_comment).count();
    for line in removed.get(removed.len() - keep..).unwrap_or(&[]) {
        out.push_str(line);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONF: &str = "# my server\n[global]\n  workgroup = HOME # keep\n\n; the data share\n[data]\n  path = /srv/data\n  read only = no\n  # about other\n[other]\n  path = /o\n";

    #[test]
    fn add_appends_and_keeps_everything_else() {
        let out = add(CONF, "new", Path::new("/srv/new"), "New one", true).unwrap();
        assert!(out.starts_with(CONF));
        assert!(out.ends_with(
            "\n[new]\n    path = /srv/new\n    comment = New one\n    read only = no\n"
        ));
        assert!(add(CONF, "DATA", Path::new("/x"), "", false).is_err());
        assert!(add(CONF, "a/b", Path::new("/x"), "", false).is_err());
    }

    #[test]
    fn del_removes_only_that_section() {
        let out = del(CONF, "Data").unwrap();
        assert_eq!(out, "# my server\n[global]\n  workgroup = HOME # keep\n\n; the data share\n  # about other\n[other]\n  path = /o\n");
        assert_eq!(
            del(CONF, "other").unwrap(),
            CONF.replace("[other]\n  path = /o\n", "")
        );
        assert!(del(CONF, "missing").is_err());
    }
}
