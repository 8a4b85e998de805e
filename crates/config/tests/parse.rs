//! End-to-end tests of smb.conf parsing through the public API.
// The helpers below are test code too; they may fail loudly.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::fs;
use std::path::{Path, PathBuf};

use rsmbd_config::{Config, ConfigError, MapToGuest, ProtocolLevel, ServerSigning, SmbEncrypt};

fn parse(text: &str) -> Config {
    Config::parse_str(text, "smb.conf").unwrap_or_else(|e| panic!("unexpected errors:\n{e}"))
}

fn errors(text: &str) -> Vec<String> {
    let e: ConfigError = Config::parse_str(text, "smb.conf").unwrap_err();
    e.diagnostics.iter().map(ToString::to_string).collect()
}

fn warnings(config: &Config) -> Vec<String> {
    config.warnings.iter().map(ToString::to_string).collect()
}

#[test]
fn comments_and_continuation() {
    let c = parse(
        "# a comment\n; another comment\n[data]\n   path = /srv/\\\ndata\n  comment = one \\\n two\n  # path = /wrong\n",
    );
    let s = c.share("data").unwrap();
    assert_eq!(s.path, PathBuf::from("/srv/data"));
    assert_eq!(s.comment, "one  two");
    assert!(c.warnings.is_empty());
}

#[test]
fn names_ignore_case_and_spaces() {
    let c = parse(
        "[global]\nServer Min Protocol = SMB3_00\nSERVERMAX PROTOCOL = smb3_02\n[Data]\nPATH = /srv\nRead Only = no\n",
    );
    assert_eq!(c.global.server_min_protocol, ProtocolLevel::Smb3_00);
    assert_eq!(c.global.server_max_protocol, ProtocolLevel::Smb3_02);
    let s = c.share("DATA").unwrap();
    assert_eq!(s.name, "Data");
    assert!(!s.read_only);
    assert!(c.share("other").is_none());
}

#[test]
fn synonyms_including_inverse() {
    let c = parse(
        "[a]\ndirectory = /a\nwritable = yes\nbrowsable = no\npublic = yes\n\
         [b]\npath = /b\nwriteable = no\n[c]\npath = /c\nwrite ok = true\n[d]\npath = /d\nread only = no\n",
    );
    let a = c.share("a").unwrap();
    assert_eq!(a.path, PathBuf::from("/a"));
    assert!(!a.read_only && !a.browseable && a.guest_ok);
    assert!(c.share("b").unwrap().read_only);
    assert!(!c.share("c").unwrap().read_only);
    assert!(!c.share("d").unwrap().read_only);
}

#[test]
fn booleans_in_every_spelling() {
    for (text, expected) in [
        ("yes", true),
        ("True", true),
        ("1", true),
        ("ON", true),
        ("no", false),
        ("false", false),
        ("0", false),
        ("Off", false),
    ] {
        let c = parse(&format!("[s]\npath = /s\nguest ok = {text}\n"));
        assert_eq!(c.share("s").unwrap().guest_ok, expected, "{text}");
    }
}

#[test]
fn invalid_boolean_is_an_error_with_location() {
    assert_eq!(
        errors("[s]\npath = /s\n\nread only = maybe\n"),
        ["smb.conf:4: 'read only': invalid boolean 'maybe' (use yes or no)"]
    );
}

#[test]
fn all_errors_are_reported() {
    let e = errors("[global]\nsmb ports = 0\nsmb2 max credits = lots\n[a]\nguest ok = perhaps\n");
    assert_eq!(
        e,
        [
            "smb.conf:3: 'smb2 max credits': invalid number 'lots'",
            "smb.conf:5: 'guest ok': invalid boolean 'perhaps' (use yes or no)",
            "smb.conf:2: 'smb ports': invalid port '0' (must be 1..65535)",
            "smb.conf:4: share [a] has no path",
        ]
    );
}

#[test]
fn global_share_parameters_are_defaults() {
    let c = parse(
        "[global]\nread only = no\nguest ok = yes\nvalid users = alice, \"bob smith\"\n\
         [a]\npath = /a\n[b]\npath = /b\nread only = yes\nvalid users = carol\n",
    );
    let a = c.share("a").unwrap();
    assert!(!a.read_only && a.guest_ok);
    assert_eq!(a.valid_users, ["alice", "bob smith"]);
    let b = c.share("b").unwrap();
    assert!(b.read_only && b.guest_ok);
    assert_eq!(b.valid_users, ["carol"]);
}

#[test]
fn global_defaults_apply_to_shares_defined_earlier() {
    let c = parse("[a]\npath = /a\n[global]\nbrowseable = no\n");
    assert!(!c.share("a").unwrap().browseable);
}

#[test]
fn share_defaults() {
    let c = parse("[s]\npath = /s\n");
    let s = c.share("s").unwrap();
    assert!(s.read_only && s.browseable && s.available);
    assert!(!s.guest_ok && !s.follow_symlinks);
    assert_eq!(c.global.smb_ports, [445]);
    assert_eq!(c.global.workgroup, "WORKGROUP");
    assert_eq!(c.global.map_to_guest, MapToGuest::Never);
    assert_eq!(c.global.guest_account, "nobody");
    assert_eq!(c.global.smb2_max_credits, 8192);
    assert!(c.source.is_none());
}

#[test]
fn unknown_and_unsupported_parameters_warn() {
    let c = parse("[global]\nfrobnicate = 3\nlog level = 2\nfruit:aapl = yes\n[s]\npath = /s\nworkgroup = X\n");
    assert_eq!(
        warnings(&c),
        [
            "smb.conf:2: unknown parameter 'frobnicate'",
            "smb.conf:3: parameter 'log level' is not supported by rsmbd yet and is ignored",
            "smb.conf:4: parametric option 'fruit:aapl' is not supported by rsmbd yet and is ignored",
            "smb.conf:7: global parameter 'workgroup' in share [s] is ignored",
        ]
    );
    assert_eq!(c.global.workgroup, "WORKGROUP");
}

#[test]
fn special_sections() {
    let c = parse(
        "[homes]\nbrowseable = no\n[printers]\npath = /var/tmp\n[print$]\npath = /p\n[IPC$]\npath = /tmp\n[s]\npath = /s\n",
    );
    assert_eq!(c.shares.len(), 1);
    let w = warnings(&c);
    assert_eq!(w.len(), 4, "{w:?}");
    assert_eq!(
        w[0],
        "smb.conf:1: section [homes] is not supported yet and is skipped"
    );
    assert!(w[3].starts_with("smb.conf:7: [IPC$]"));
}

#[test]
fn duplicate_shares_merge() {
    let c = parse("[data]\npath = /one\ncomment = first\n[DATA]\npath = /two\n");
    assert_eq!(c.shares.len(), 1);
    let s = &c.shares[0];
    assert_eq!(s.path, PathBuf::from("/two"));
    assert_eq!(s.comment, "first");
}

#[test]
fn passdb_backend() {
    let c = parse("[global]\npassdb backend = smbpasswd:/etc/rsmbd/smbpasswd\n");
    assert_eq!(
        c.global.passdb_path,
        Some(PathBuf::from("/etc/rsmbd/smbpasswd"))
    );
    assert_eq!(
        parse("passdb backend = smbpasswd\n").global.passdb_path,
        None
    );
    assert_eq!(
        errors("[global]\npassdb backend = tdbsam\n"),
        ["smb.conf:2: 'passdb backend': passdb backend 'tdbsam' is not supported; only smbpasswd is"]
    );
}

#[test]
fn protocols() {
    let c = parse("[global]\nserver min protocol = SMB2\nserver max protocol = SMB3\n");
    assert_eq!(c.global.server_min_protocol, ProtocolLevel::Smb2_02);
    assert_eq!(c.global.server_max_protocol, ProtocolLevel::Smb3_11);
    let c = parse("[global]\nmin protocol = NT1\nmax protocol = SMB2\n");
    assert_eq!(c.global.server_min_protocol, ProtocolLevel::Smb2_02);
    assert_eq!(c.global.server_max_protocol, ProtocolLevel::Smb2_10);
    assert_eq!(c.global.server_max_protocol.dialect(), 0x0210);
    assert!(warnings(&c)[0].starts_with("smb.conf:2: SMB1 is not supported"));
    assert_eq!(
        errors("[global]\nserver min protocol = SMB3_11\nserver max protocol = SMB3_00\n"),
        ["smb.conf:3: server min protocol (SMB3_11) is newer than server max protocol (SMB3_00)"]
    );
    assert_eq!(
        errors("[global]\nserver max protocol = NT1\n"),
        ["smb.conf:2: 'server max protocol': SMB1 is not supported ('NT1')"]
    );
}

#[test]
fn ksmbd_names() {
    let c = parse("[global]\ntcp port = 4445\nsmb2 max read = 4M\nsmb2 max write = 1MB\nsmb2 max trans = 65536\nsmb2 max credits = 512\n");
    assert_eq!(c.global.smb_ports, [4445]);
    assert_eq!(c.global.smb2_max_read, 4 << 20);
    assert_eq!(c.global.smb2_max_write, 1 << 20);
    assert_eq!(c.global.smb2_max_trans, 65536);
    assert_eq!(c.global.smb2_max_credits, 512);
    let c = parse("smb ports = 445, 139 4445\n");
    assert_eq!(c.global.smb_ports, [445, 139, 4445]);
    assert!(errors("tcp port = 70000\n")[0].contains("invalid port '70000'"));
}

#[test]
fn global_strings() {
    let c = parse("[global]\nnetbios name = files\nworkgroup = home\nserver string = %h server (rsmbd %v)\nmap to guest = Bad User\nguest account = guest\ninterfaces = eth0 192.168.1.1/24\nbind interfaces only = yes\n");
    assert_eq!(c.global.netbios_name, "FILES");
    assert_eq!(c.global.workgroup, "HOME");
    assert_eq!(
        c.global.server_string,
        format!("%h server (rsmbd {})", env!("CARGO_PKG_VERSION"))
    );
    assert_eq!(c.global.map_to_guest, MapToGuest::BadUser);
    assert_eq!(c.global.guest_account, "guest");
    assert_eq!(c.global.interfaces, ["eth0", "192.168.1.1/24"]);
    assert!(c.global.bind_interfaces_only);
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).unwrap();
    }
    fs::write(&path, text).unwrap();
    path
}

#[test]
fn include_relative_to_including_file() {
    let dir = tempfile::tempdir().unwrap();
    let main = write(
        dir.path(),
        "smb.conf",
        "[global]\nworkgroup = A\ninclude = conf.d/shares.conf\n[after]\npath = /after\n",
    );
    let inc = write(
        dir.path(),
        "conf.d/shares.conf",
        "workgroup = B\ninclude = more.conf\n[inc]\npath = /inc\n",
    );
    write(dir.path(), "conf.d/more.conf", "frobnicate = 1\n");
    let c = Config::load(&main).unwrap();
    assert_eq!(c.global.workgroup, "B");
    assert!(c.share("inc").is_some() && c.share("after").is_some());
    assert_eq!(c.source.as_deref(), Some(main.as_path()));
    let more = inc.parent().unwrap().join("more.conf");
    assert_eq!(
        warnings(&c),
        [format!(
            "{}:1: unknown parameter 'frobnicate'",
            more.display()
        )]
    );
}

#[test]
fn include_loop_and_missing_file_warn() {
    let dir = tempfile::tempdir().unwrap();
    let main = write(
        dir.path(),
        "smb.conf",
        "include = a.conf\ninclude = missing.conf\n[s]\npath = /s\n",
    );
    let a = write(dir.path(), "a.conf", "include = smb.conf\n");
    let c = Config::load(&main).unwrap();
    let w = warnings(&c);
    assert_eq!(w.len(), 2, "{w:?}");
    assert!(
        w[0].starts_with(&format!("{}:1: include loop", a.display())),
        "{}",
        w[0]
    );
    assert!(
        w[1].starts_with(&format!("{}:2: cannot read include file", main.display())),
        "{}",
        w[1]
    );
}

#[test]
fn include_depth_is_limited() {
    let dir = tempfile::tempdir().unwrap();
    for i in 0..12 {
        write(
            dir.path(),
            &format!("{i}.conf"),
            &format!("include = {}.conf\n", i + 1),
        );
    }
    write(dir.path(), "12.conf", "");
    let e = Config::load(&dir.path().join("0.conf")).unwrap_err();
    assert_eq!(e.diagnostics.len(), 1);
    assert!(
        e.diagnostics[0]
            .message
            .contains("include depth limit (10)"),
        "{e}"
    );
    assert!(e.diagnostics[0].file.ends_with("10.conf"), "{e}");
}

#[test]
fn missing_main_file_is_an_error() {
    let e = Config::load(Path::new("/nonexistent/rsmbd/smb.conf")).unwrap_err();
    assert_eq!(e.diagnostics.len(), 1);
    assert!(e
        .to_string()
        .starts_with("/nonexistent/rsmbd/smb.conf:0: cannot read configuration"));
}

#[test]
fn debian_stock_smb_conf() {
    let path = Path::new("/usr/share/samba/smb.conf");
    if !path.exists() {
        eprintln!("skipped: {} is not installed", path.display());
        return;
    }
    let c = Config::load(path).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(c.global.workgroup, "WORKGROUP");
    assert_eq!(c.global.map_to_guest, MapToGuest::BadUser);
    assert!(
        c.shares.is_empty(),
        "only [homes], [printers] and [print$], all skipped"
    );
    for w in &c.warnings {
        assert!(!w.message.starts_with("unknown parameter"), "{w}");
    }
}

#[test]
fn signing_and_encryption_spellings() {
    let c = parse(
        "[global]\nserver signing = mandatory\nsmb encrypt = desired\n[a]\npath = /a\n[b]\npath = /b\nserver smb encrypt = required\n[c]\npath = /c\nsmb3 encryption = disabled\n",
    );
    assert_eq!(c.global.server_signing, ServerSigning::Mandatory);
    assert_eq!(
        c.global.smb_encrypt,
        SmbEncrypt::Desired,
        "the [global] value is the server-wide policy"
    );
    assert_eq!(
        c.share("a").unwrap().smb_encrypt,
        SmbEncrypt::Desired,
        "global value is the share default"
    );
    assert_eq!(c.share("b").unwrap().smb_encrypt, SmbEncrypt::Required);
    assert_eq!(c.share("c").unwrap().smb_encrypt, SmbEncrypt::Off);
    assert_eq!(
        parse("[global]\nserver signing = disabled\n")
            .global
            .server_signing,
        ServerSigning::Disabled
    );
    assert_eq!(parse("").global.server_signing, ServerSigning::Auto);
    let e = errors("[global]\nserver signing = sometimes\n");
    assert!(e[0].starts_with("smb.conf:2:"), "{e:?}");
    let e = errors("[x]\npath = /x\nsmb encrypt = maybe\n");
    assert!(e[0].starts_with("smb.conf:3:"), "{e:?}");
}

#[test]
fn smb3_algorithm_lists() {
    let c = parse("[global]\nserver smb3 encryption algorithms = AES-256-CCM, aes-128-gcm\nserver smb3 signing algorithms = hmac-sha-256\n");
    assert_eq!(
        c.global.encryption_algorithms,
        vec!["aes-256-ccm", "aes-128-gcm"]
    );
    assert_eq!(c.global.signing_algorithms, vec!["hmac-sha-256"]);
    assert_eq!(parse("").global.encryption_algorithms[0], "aes-128-gcm");
    let e = errors("[global]\nserver smb3 encryption algorithms = rot13\n");
    assert!(
        e[0].starts_with("smb.conf:2:") && e[0].contains("rot13"),
        "{e:?}"
    );
}

#[test]
fn underscore_spellings() {
    assert_eq!(
        parse("[global]\nserver signing = if_required\n")
            .global
            .server_signing,
        ServerSigning::Auto
    );
    assert_eq!(
        parse("[global]\nsmb encrypt = if_required\n")
            .global
            .smb_encrypt,
        SmbEncrypt::IfRequired
    );
    assert_eq!(
        parse("[global]\nsmb encrypt = If-Required\n")
            .global
            .smb_encrypt,
        SmbEncrypt::IfRequired
    );
}
