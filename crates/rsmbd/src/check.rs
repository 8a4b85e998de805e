//! `rsmbd check`: Samba's testparm for rsmbd. Parses the configuration, reports every warning and error
//! with file:line, and prints the effective settings (only those that differ from the defaults unless
//! `--verbose`). Exits non-zero when the configuration has errors.

use config::{Config, Global, ShareConfig, SmbEncrypt};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Where `rsmbd check` and `rsmbd serve` look when no `--config` is given.
pub const DEFAULT_CONFIG: &str = "/etc/rsmbd/smb.conf";

pub fn run(config_path: Option<&Path>, section: Option<&str>, verbose: bool) -> Result<(), String> {
    let path = config_path
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from(DEFAULT_CONFIG));
    let config = match Config::load(&path) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return Err(format!(
                "{}: {} error(s) in the configuration",
                path.display(),
                e.diagnostics.len()
            ));
        }
    };
    eprintln!("Loaded configuration file {}", path.display());
    for w in &config.warnings {
        eprintln!("warning: {w}");
    }
    for line in share_notes(&config) {
        eprintln!("{line}");
    }
    eprintln!("{}", discovery_summary(&config));
    print!("{}", render(&config, section, verbose)?);
    Ok(())
}

/// Whether the server announces itself, and how.
fn discovery_summary(config: &Config) -> String {
    let d = &config.global.discovery;
    let on_off = |b: bool| if b { "on" } else { "off" };
    let tm: Vec<&str> = config
        .shares
        .iter()
        .filter(|s| s.time_machine)
        .map(|s| s.name.as_str())
        .collect();
    let mut line = format!(
        "Network discovery: mDNS-SD {} (multicast dns register), WS-Discovery {} (wsd support)",
        on_off(d.multicast_dns_register),
        on_off(d.wsd_support)
    );
    if d.multicast_dns_register || d.wsd_support {
        line.push_str("; announced on the interfaces served, never on loopback");
    }
    if d.multicast_dns_register && !tm.is_empty() {
        line.push_str(&format!("; Time Machine shares: {}", tm.join(", ")));
    }
    line
}

/// What `kernel oplocks = yes` does not do (also logged by `rsmbd serve`).
pub const KERNEL_OPLOCKS: &str =
    "kernel oplocks = yes is not supported: rsmbd takes no Linux file leases, so \
     programs on the server that open a file do not break the caching of SMB clients";

/// What a share without `streams_xattr` in its `vfs objects` does.
pub const NO_STREAMS: &str =
    "vfs objects without streams_xattr: alternate data streams are off, and names with a \
     stream (file:stream) are refused with STATUS_OBJECT_NAME_INVALID, as Samba does; add \
     streams_xattr to serve them (stored as user.DosStream.<name>:$DATA extended attributes)";

/// Warnings and notes about share settings that do less than their name suggests.
fn share_notes(config: &Config) -> Vec<String> {
    let mut out = Vec::new();
    for share in &config.shares {
        if share.kernel_oplocks {
            out.push(format!("warning: [{}] {KERNEL_OPLOCKS}", share.name));
        }
        if !share.streams() {
            out.push(format!("note: [{}] {NO_STREAMS}", share.name));
        }
    }
    out
}

/// The effective configuration in smb.conf syntax.
fn render(config: &Config, section: Option<&str>, verbose: bool) -> Result<String, String> {
    let mut out = String::new();
    let wanted = |name: &str| section.is_none_or(|s| s.eq_ignore_ascii_case(name));
    if wanted("global") {
        out.push_str("[global]\n");
        for (k, v, d) in global_lines(&config.global) {
            if verbose || v != d {
                let _ = writeln!(out, "\t{k} = {v}");
            }
        }
    }
    let mut found = section.is_none() || wanted("global");
    for share in config.shares.iter().filter(|s| wanted(&s.name)) {
        found = true;
        let _ = writeln!(out, "\n[{}]", share.name);
        for (k, v, d) in share_lines(share) {
            if verbose || v != d || k == "path" {
                let _ = writeln!(out, "\t{k} = {v}");
            }
        }
    }
    if !found {
        return Err(format!(
            "no section [{}] in the configuration",
            section.unwrap_or_default()
        ));
    }
    Ok(out)
}

fn yes_no(b: bool) -> String {
    if b { "Yes" } else { "No" }.to_owned()
}

fn encrypt_name(e: SmbEncrypt) -> String {
    match e {
        SmbEncrypt::Off => "off",
        SmbEncrypt::IfRequired => "if_required",
        SmbEncrypt::Desired => "desired",
        SmbEncrypt::Required => "required",
    }
    .to_owned()
}

/// (name, value, default value) of each global parameter rsmbd acts on.
fn global_lines(g: &Global) -> Vec<(&'static str, String, String)> {
    let d = Global::default();
    let pair = |f: &dyn Fn(&Global) -> String| (f(g), f(&d));
    let mut lines = Vec::new();
    let mut add = |name, f: &dyn Fn(&Global) -> String| {
        let (v, dv) = pair(f);
        lines.push((name, v, dv));
    };
    add("smb ports", &|g| {
        g.smb_ports
            .iter()
            .map(u16::to_string)
            .collect::<Vec<_>>()
            .join(" ")
    });
    add("interfaces", &|g| g.interfaces.join(" "));
    add("bind interfaces only", &|g| yes_no(g.bind_interfaces_only));
    add("server min protocol", &|g| {
        g.server_min_protocol.to_string()
    });
    add("server max protocol", &|g| {
        g.server_max_protocol.to_string()
    });
    add("netbios name", &|g| g.netbios_name.clone());
    add("workgroup", &|g| g.workgroup.clone());
    add("server string", &|g| g.server_string.clone());
    add("passdb backend", &|g| {
        g.passdb_path.as_ref().map_or_else(
            || "smbpasswd".to_owned(),
            |p| format!("smbpasswd:{}", p.display()),
        )
    });
    add("map to guest", &|g| format!("{:?}", g.map_to_guest));
    add("guest account", &|g| g.guest_account.clone());
    add("server signing", &|g| {
        format!("{:?}", g.server_signing).to_lowercase()
    });
    add("server smb encrypt", &|g| encrypt_name(g.smb_encrypt));
    add("server smb3 encryption algorithms", &|g| {
        g.encryption_algorithms.join(" ")
    });
    add("server smb3 signing algorithms", &|g| {
        g.signing_algorithms.join(" ")
    });
    add("restrict anonymous", &|g| g.restrict_anonymous.to_string());
    add("logon failure delay", &|g| {
        g.logon_failure_delay_ms.to_string()
    });
    add("max logon failures", &|g| g.max_logon_failures.to_string());
    add("logon failure window", &|g| {
        g.logon_failure_window_secs.to_string()
    });
    add("smb2 max credits", &|g| g.smb2_max_credits.to_string());
    add("smb2 max read", &|g| g.smb2_max_read.to_string());
    add("smb2 max write", &|g| g.smb2_max_write.to_string());
    add("smb2 max trans", &|g| g.smb2_max_trans.to_string());
    add("control socket", &|g| {
        g.control_socket
            .as_ref()
            .map_or_else(String::new, |p| p.display().to_string())
    });
    add("handshake timeout", &|g| {
        g.limits.handshake_timeout_secs.to_string()
    });
    add("max tcp connections", &|g| {
        g.limits.max_tcp_connections.to_string()
    });
    add("max connections per address", &|g| {
        g.limits.max_connections_per_address.to_string()
    });
    add("max sessions per connection", &|g| {
        g.limits.max_sessions_per_connection.to_string()
    });
    add("max tree connects per session", &|g| {
        g.limits.max_tree_connects_per_session.to_string()
    });
    add("max outstanding requests", &|g| {
        g.limits.max_outstanding_requests.to_string()
    });
    add("max open files", &|g| g.limits.max_open_files.to_string());
    add("max byte range locks", &|g| {
        g.limits.max_byte_range_locks.to_string()
    });
    add("max pdu size", &|g| g.limits.max_pdu_size.to_string());
    add("max pending operations", &|g| {
        g.limits.max_pending_operations.to_string()
    });
    add("kernel change notify", &|g| yes_no(g.kernel_change_notify));
    add("smb2 leases", &|g| yes_no(g.smb2_leases));
    add("smb3 directory leases", &|g| {
        yes_no(g.smb3_directory_leases)
    });
    add("oplock break timeout", &|g| {
        g.oplock_break_timeout_secs.to_string()
    });
    add("multicast dns register", &|g| {
        yes_no(g.discovery.multicast_dns_register)
    });
    add("wsd support", &|g| yes_no(g.discovery.wsd_support));
    add("fruit:model", &|g| g.discovery.model.clone());
    lines
}

fn octal(mode: u32) -> String {
    format!("{mode:04o}")
}

fn patterns(list: &[String]) -> String {
    if list.is_empty() {
        String::new()
    } else {
        format!("/{}/", list.join("/"))
    }
}

/// (name, value, default value) of each share parameter rsmbd acts on.
fn share_lines(s: &ShareConfig) -> Vec<(&'static str, String, String)> {
    let d = ShareConfig::new(&s.name, s.path.clone());
    let mut lines = Vec::new();
    let mut add = |name, f: &dyn Fn(&ShareConfig) -> String| lines.push((name, f(s), f(&d)));
    add("path", &|s| s.path.display().to_string());
    add("comment", &|s| s.comment.clone());
    add("read only", &|s| yes_no(s.read_only));
    add("browseable", &|s| yes_no(s.browseable));
    add("valid users", &|s| s.valid_users.join(" "));
    add("guest ok", &|s| yes_no(s.guest_ok));
    add("follow symlinks", &|s| yes_no(s.follow_symlinks));
    add("store dos attributes", &|s| yes_no(s.store_dos_attributes));
    add("ea support", &|s| yes_no(s.ea_support));
    add("smb encrypt", &|s| encrypt_name(s.smb_encrypt));
    add("available", &|s| yes_no(s.available));
    add("invalid users", &|s| s.invalid_users.join(" "));
    add("hosts allow", &|s| s.hosts_allow.join(" "));
    add("hosts deny", &|s| s.hosts_deny.join(" "));
    add("read list", &|s| s.read_list.join(" "));
    add("write list", &|s| s.write_list.join(" "));
    add("admin users", &|s| s.admin_users.join(" "));
    add("force user", &|s| s.force_user.clone().unwrap_or_default());
    add("force group", &|s| {
        s.force_group.clone().unwrap_or_default()
    });
    add("guest only", &|s| yes_no(s.guest_only));
    add("create mask", &|s| octal(s.create_mask));
    add("force create mode", &|s| octal(s.force_create_mode));
    add("directory mask", &|s| octal(s.directory_mask));
    add("force directory mode", &|s| octal(s.force_directory_mode));
    add("hide dot files", &|s| yes_no(s.hide_dot_files));
    add("hide files", &|s| patterns(&s.hide_files));
    add("veto files", &|s| patterns(&s.veto_files));
    add("delete veto files", &|s| yes_no(s.delete_veto_files));
    add("max connections", &|s| s.max_connections.to_string());
    add("vfs objects", &|s| s.vfs_objects.join(" "));
    add("change notify", &|s| yes_no(s.change_notify));
    add("oplocks", &|s| yes_no(s.oplocks));
    add("level2 oplocks", &|s| yes_no(s.level2_oplocks));
    add("durable handles", &|s| yes_no(s.durable_handles));
    add("veto oplock files", &|s| patterns(&s.veto_oplock_files));
    add("kernel oplocks", &|s| yes_no(s.kernel_oplocks));
    add("fruit:time machine", &|s| yes_no(s.time_machine));
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_shares_without_streams() {
        let c = Config::parse_str(
            "[a]\npath = /a\n[b]\npath = /b\nvfs objects = acl_xattr\n\
             [c]\npath = /c\nvfs objects = acl_xattr streams_xattr\n",
            "t.conf",
        )
        .unwrap();
        assert_eq!(share_notes(&c), vec![format!("note: [b] {NO_STREAMS}")]);
    }

    #[test]
    fn prints_only_non_defaults_unless_verbose() {
        let c = Config::parse_str(
            "[global]\nworkgroup = HOME\n[data]\npath = /srv/data\nread only = no\n[other]\npath = /o\n",
            "t.conf",
        )
        .unwrap();
        let out = render(&c, None, false).unwrap();
        assert!(out.contains("\tworkgroup = HOME\n"), "{out}");
        assert!(!out.contains("smb2 max credits"), "{out}");
        assert!(
            out.contains("[data]\n\tpath = /srv/data\n\tread only = No\n"),
            "{out}"
        );
        let verbose = render(&c, None, true).unwrap();
        assert!(verbose.contains("\tsmb2 max credits = 8192\n"), "{verbose}");
        let one = render(&c, Some("OTHER"), false).unwrap();
        assert!(
            one.contains("[other]") && !one.contains("[data]") && !one.contains("[global]"),
            "{one}"
        );
        assert!(render(&c, Some("nope"), false).is_err());
    }

    #[test]
    fn says_whether_discovery_is_on() {
        let c = Config::parse_str("[tm]\npath = /t\nfruit:time machine = yes\n", "t.conf").unwrap();
        let on = discovery_summary(&c);
        assert!(
            on.contains("mDNS-SD on") && on.contains("WS-Discovery on"),
            "{on}"
        );
        assert!(on.contains("Time Machine shares: tm"), "{on}");
        assert!(render(&c, None, false)
            .unwrap()
            .contains("\tfruit:time machine = Yes\n"));
        let c = Config::parse_str(
            "[global]\nmulticast dns register = no\nwsd support = no\n",
            "t.conf",
        )
        .unwrap();
        let off = discovery_summary(&c);
        assert!(
            off.contains("mDNS-SD off") && off.contains("WS-Discovery off"),
            "{off}"
        );
        assert!(!off.contains("loopback"), "{off}");
    }
}
