//! `rsmbd user add|del|list`: manages the smbpasswd password database that NTLM logons are checked
//! against (the file named by `passdb backend = smbpasswd:PATH`, or the default location).

use std::ffi::OsString;
use std::fs;
use std::io::{BufRead, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use auth::passdb::SmbPasswd;

/// Longest user name accepted.
const MAX_NAME_CHARS: usize = 64;
/// Longest password line read, in bytes (Windows passwords are at most 256 characters).
const MAX_PASSWORD_BYTES: u64 = 1024;

/// The `user` subcommands.
#[derive(Debug, Clone, PartialEq, Eq, clap::Subcommand)]
pub enum UserCmd {
    /// Add a user, or change the password of an existing one. The password is read from standard input
    /// (one line) when it is not a terminal, otherwise prompted for twice.
    Add {
        name: String,
        /// The Unix uid file access runs as (default: the Unix account of the same name, kept for an
        /// existing user; without one, the uid running this command).
        #[arg(long)]
        uid: Option<u32>,
    },
    /// Remove a user.
    Del { name: String },
    /// Change the password of an existing user (read like `add`).
    Passwd { name: String },
    /// Let a disabled user log on again.
    Enable { name: String },
    /// Keep a user from logging on without removing the account.
    Disable { name: String },
    /// List users: name, uid and enabled/disabled, tab-separated.
    List,
    /// Import users with their NT password hashes from Samba's smbpasswd file or ksmbd-tools'
    /// ksmbdpwd.db (`name:base64(NT hash)`); existing users of the same name are updated.
    #[command(group(clap::ArgGroup::new("source").required(true).args(["smbpasswd", "ksmbd"])))]
    Import {
        /// A Samba smbpasswd file (e.g. /var/lib/samba/private/smbpasswd).
        #[arg(long, value_name = "FILE")]
        smbpasswd: Option<PathBuf>,
        /// A ksmbd-tools password database (e.g. /etc/ksmbd/ksmbdpwd.db).
        #[arg(long, value_name = "FILE")]
        ksmbd: Option<PathBuf>,
    },
}

/// Runs one `user` subcommand; `Err` holds the message to print.
pub fn run(cmd: UserCmd, config_path: Option<&Path>) -> Result<(), String> {
    let path = passdb_path(config_path)?;
    match cmd {
        UserCmd::Add { name, uid } => add(&path, &name, uid),
        UserCmd::Del { name } => del(&path, &name),
        UserCmd::Passwd { name } => passwd(&path, &name),
        UserCmd::Enable { name } => set_disabled(&path, &name, false),
        UserCmd::Disable { name } => set_disabled(&path, &name, true),
        UserCmd::List => list(&path),
        UserCmd::Import { smbpasswd, ksmbd } => import(&path, smbpasswd, ksmbd),
    }
}

fn import(path: &Path, smbpasswd: Option<PathBuf>, ksmbd: Option<PathBuf>) -> Result<(), String> {
    use crate::user_import::{merge, read, Source};
    let source = match (&smbpasswd, &ksmbd) {
        (Some(p), _) => Source::Smbpasswd(p),
        (None, Some(p)) => Source::Ksmbd(p),
        (None, None) => return Err("give --smbpasswd FILE or --ksmbd FILE".into()),
    };
    let records = read(source, unix_uid)?;
    let mut db = load(path)?;
    let names = merge(&mut db, records)?;
    save(&db, path)?;
    println!("imported {} users: {}", names.len(), names.join(", "));
    Ok(())
}

/// Where the password database lives when the configuration does not say: `$RSMBD_STATE_DIR/smbpasswd`,
/// else `/var/lib/rsmbd/smbpasswd` for root, else under `$XDG_STATE_HOME` or `~/.local/state`.
pub fn default_passdb_path() -> PathBuf {
    choose_passdb_path(
        std::env::var_os("RSMBD_STATE_DIR"),
        rustix::process::geteuid().is_root(),
        std::env::var_os("XDG_STATE_HOME"),
        std::env::var_os("HOME"),
    )
}

fn choose_passdb_path(
    state_dir: Option<OsString>,
    is_root: bool,
    xdg_state_home: Option<OsString>,
    home: Option<OsString>,
) -> PathBuf {
    let set = |v: Option<OsString>| v.filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(dir) = set(state_dir) {
        return dir.join("smbpasswd");
    }
    if is_root {
        return PathBuf::from("/var/lib/rsmbd/smbpasswd");
    }
    let state_home = set(xdg_state_home)
        .filter(|p| p.is_absolute())
        .or_else(|| set(home).map(|h| h.join(".local/state")));
    match state_home {
        Some(dir) => dir.join("rsmbd/smbpasswd"),
        None => PathBuf::from("/var/lib/rsmbd/smbpasswd"),
    }
}

/// The database path: from the configuration file if one is given and names it, else the default.
fn passdb_path(config_path: Option<&Path>) -> Result<PathBuf, String> {
    let Some(config_path) = config_path else {
        return Ok(default_passdb_path());
    };
    let config = config::Config::load(config_path).map_err(|e| e.to_string())?;
    Ok(config
        .global
        .passdb_path
        .unwrap_or_else(default_passdb_path))
}

/// Checks a user name: 1 to 64 characters, no ':' (the smbpasswd field separator), no control characters.
pub(crate) fn validate_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("user name is empty".into());
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(format!(
            "user name is longer than {MAX_NAME_CHARS} characters"
        ));
    }
    if name.chars().any(|c| c == ':' || c.is_control()) {
        return Err(format!(
            "user name '{}' contains ':' or a control character",
            name.escape_debug()
        ));
    }
    Ok(())
}

fn load(path: &Path) -> Result<SmbPasswd, String> {
    SmbPasswd::load(path).map_err(|e| format!("{}: {e}", path.display()))
}

fn save(db: &SmbPasswd, path: &Path) -> Result<(), String> {
    db.save(path)
        .map_err(|e| format!("{}: {e}", path.display()))
}

fn add(path: &Path, name: &str, uid: Option<u32>) -> Result<(), String> {
    validate_name(name)?;
    let password = read_password()?;
    set_password(path, name, &password, uid)
}

/// Store `name` with `password` in the database at `path`, creating the file and its directory. The
/// uid is `uid` if given, else the one the user already has, else that of the Unix account `name`.
pub fn set_password(
    path: &Path,
    name: &str,
    password: &str,
    uid: Option<u32>,
) -> Result<(), String> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    let mut db = load(path)?;
    let uid = uid
        .or_else(|| uid_of(&db, name))
        .unwrap_or_else(|| unix_uid(name));
    if !db.set_password(name, uid, password) {
        return Err(format!(
            "user name '{}' cannot be stored",
            name.escape_debug()
        ));
    }
    save(&db, path)
}

fn passwd(path: &Path, name: &str) -> Result<(), String> {
    if uid_of(&load(path)?, name).is_none() {
        return Err(format!("no such user '{name}' in {}", path.display()));
    }
    let password = read_password()?;
    set_password(path, name, &password, None)
}

fn set_disabled(path: &Path, name: &str, disabled: bool) -> Result<(), String> {
    let mut db = load(path)?;
    if !db.set_disabled(name, disabled) {
        return Err(format!("no such user '{name}' in {}", path.display()));
    }
    save(&db, path)
}

fn del(path: &Path, name: &str) -> Result<(), String> {
    let mut db = load(path)?;
    if !db.remove(name) {
        return Err(format!("no such user '{name}' in {}", path.display()));
    }
    save(&db, path)
}

fn list(path: &Path) -> Result<(), String> {
    let db = load(path)?;
    let mut out = std::io::stdout().lock();
    for user in db.entries() {
        let state = if user.disabled { "disabled" } else { "enabled" };
        writeln!(out, "{}\t{}\t{state}", user.name, user.uid).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// The uid of user `name` in the database, if there is one.
fn uid_of(db: &SmbPasswd, name: &str) -> Option<u32> {
    db.entries()
        .find(|u| u.name.eq_ignore_ascii_case(name))
        .map(|u| u.uid)
}

/// The uid of the Unix account `name`, or this process's uid (with a warning) when there is none.
fn unix_uid(name: &str) -> u32 {
    if let Some(id) = vfs::Identity::lookup_name(name) {
        return id.uid;
    }
    let uid = rustix::process::getuid().as_raw();
    eprintln!("rsmbd: warning: no Unix account '{name}'; files will be accessed as uid {uid}");
    uid
}

fn read_password() -> Result<String, String> {
    if !std::io::stdin().is_terminal() {
        return read_password_line(&mut std::io::stdin().lock());
    }
    let first = prompt("New SMB password: ")?;
    let second = prompt("Retype new SMB password: ")?;
    if first != second {
        return Err("passwords do not match".into());
    }
    Ok(first)
}

/// Prompts on stderr and reads a line from the terminal with echo turned off.
fn prompt(text: &str) -> Result<String, String> {
    eprint!("{text}");
    let echo_off = EchoOff::new();
    let line = read_password_line(&mut std::io::stdin().lock());
    drop(echo_off);
    eprintln!();
    line
}

/// Reads one line (bounded), without its line ending; an empty password is refused.
fn read_password_line(input: &mut impl BufRead) -> Result<String, String> {
    let mut line = String::new();
    input
        .take(MAX_PASSWORD_BYTES)
        .read_line(&mut line)
        .map_err(|e| format!("cannot read password: {e}"))?;
    let ended = line.ends_with('\n');
    let password = line.trim_end_matches(['\n', '\r']);
    if !ended && u64::try_from(line.len()).is_ok_and(|n| n >= MAX_PASSWORD_BYTES) {
        return Err("password is too long".into());
    }
    if password.is_empty() {
        return Err("empty password".into());
    }
    Ok(password.to_owned())
}

/// Turns terminal echo off (through `stty`, so no FFI is needed) until dropped.
struct EchoOff;

impl EchoOff {
    fn new() -> EchoOff {
        stty("-echo");
        EchoOff
    }
}

impl Drop for EchoOff {
    fn drop(&mut self) {
        stty("echo");
    }
}

fn stty(setting: &str) {
    let status = Command::new("stty")
        .arg(setting)
        .stdin(Stdio::inherit())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    if !status.is_ok_and(|s| s.success()) {
        eprintln!("rsmbd: warning: could not change terminal echo (stty {setting})");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(validate_name("alice").is_ok());
        assert!(validate_name("Jürgen Müller").is_ok());
        assert!(validate_name(&"a".repeat(64)).is_ok());
        assert!(validate_name("").is_err());
        assert!(validate_name(&"a".repeat(65)).is_err());
        assert!(validate_name("a:b").is_err());
        assert!(validate_name("a\nb").is_err());
        assert!(validate_name("a\u{7f}").is_err());
    }

    #[test]
    fn passdb_path_choice() {
        let s = |v: &str| Some(OsString::from(v));
        assert_eq!(
            choose_passdb_path(s("/state"), true, s("/xdg"), s("/home/a")),
            PathBuf::from("/state/smbpasswd")
        );
        assert_eq!(
            choose_passdb_path(None, true, s("/xdg"), s("/home/a")),
            PathBuf::from("/var/lib/rsmbd/smbpasswd")
        );
        assert_eq!(
            choose_passdb_path(s(""), false, s("/xdg"), s("/home/a")),
            PathBuf::from("/xdg/rsmbd/smbpasswd")
        );
        assert_eq!(
            choose_passdb_path(None, false, s("relative"), s("/home/a")),
            PathBuf::from("/home/a/.local/state/rsmbd/smbpasswd")
        );
        assert_eq!(
            choose_passdb_path(None, false, None, None),
            PathBuf::from("/var/lib/rsmbd/smbpasswd")
        );
    }

    #[test]
    fn password_lines() {
        let read = |text: &str| read_password_line(&mut text.as_bytes());
        assert_eq!(read("secret\n"), Ok("secret".into()));
        assert_eq!(read("with space\r\nnext\n"), Ok("with space".into()));
        assert_eq!(read("no newline"), Ok("no newline".into()));
        assert!(read("\n").is_err());
        assert!(read("").is_err());
        assert!(read(&"x".repeat(2000)).is_err());
    }
}
