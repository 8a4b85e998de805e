//! `rsmbd serve`: turns the configuration (or the no-setup defaults) into server settings and shares,
//! binds the listeners, and runs until SIGTERM or SIGINT.

use config::{Config, MapToGuest, ShareConfig};
use server::{ServerSettings, ServerState, ShareEntry};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The user created for the no-configuration quick start.
const DEFAULT_USER: &str = "rsmbd";
const DEFAULT_SHARE: &str = "share";

pub fn run(
    config_path: Option<&Path>,
    port: Option<u16>,
    share_dir: Option<PathBuf>,
) -> Result<(), String> {
    init_logging();
    let (config, quick_start) = match config_path {
        Some(p) => (load_config(p)?, None),
        None => {
            let (c, qs) = default_config(port, share_dir)?;
            (c, Some(qs))
        }
    };
    let passdb = config
        .global
        .passdb_path
        .clone()
        .unwrap_or_else(crate::user_cmd::default_passdb_path);
    let socket = crate::control::socket_path(&config, &passdb);
    let settings = settings(&config, passdb)?;
    let shares = open_shares(&config.shares)?;
    let state = Arc::new(ServerState::new(settings, shares));
    let addrs = listen_addrs(&config);
    // Like Samba: the share's create and directory masks alone decide the permission bits of new files.
    rustix::process::umask(rustix::fs::Mode::empty());
    raise_open_file_limit();
    let reloader = Arc::new(crate::control::Reloader {
        state: Arc::clone(&state),
        config_path: config_path.map(Path::to_path_buf),
    });
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    rt.block_on(async move {
        let listeners = bind_any(&addrs).await?;
        if let Some(qs) = quick_start {
            let port = listeners
                .first()
                .and_then(|l| l.local_addr().ok())
                .map_or(445, |a| a.port());
            print_quick_start(&qs, port);
        }
        match crate::control::bind(&socket) {
            Ok(l) => {
                tracing::info!("control socket {}", socket.display());
                tokio::spawn(crate::control::serve(l, Arc::clone(&reloader)));
            }
            Err(e) => tracing::error!("no control socket (status and reload unavailable): {e}"),
        }
        tokio::spawn(crate::control::on_hangup(reloader));
        server::serve(state, listeners, shutdown_signal()).await;
        let _ = std::fs::remove_file(&socket);
        tracing::info!("stopped");
        Ok(())
    })
}

fn init_logging() {
    let filter =
        tracing_subscriber::EnvFilter::try_from_env("RSMBD_LOG").unwrap_or_else(|_| "info".into());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

fn load_config(path: &Path) -> Result<Config, String> {
    let config = Config::load(path).map_err(|e| format!("invalid configuration:\n{e}"))?;
    for w in &config.warnings {
        tracing::warn!("{w}");
    }
    Ok(config)
}

/// What the quick start prints.
struct QuickStart {
    share_dir: PathBuf,
    password: String,
}

/// The no-setup configuration: one writable share, user `rsmbd` with a freshly generated password.
fn default_config(
    port: Option<u16>,
    share_dir: Option<PathBuf>,
) -> Result<(Config, QuickStart), String> {
    let passdb = crate::user_cmd::default_passdb_path();
    let state_dir = passdb
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    let share_dir = share_dir.unwrap_or_else(|| state_dir.join("share"));
    std::fs::create_dir_all(&share_dir)
        .map_err(|e| format!("cannot create {}: {e}", share_dir.display()))?;
    let password = generate_password()?;
    crate::user_cmd::set_password(&passdb, DEFAULT_USER, &password)?;
    let mut config = Config::parse_str("", "(defaults)").map_err(|e| e.to_string())?;
    let is_root = rustix::process::geteuid().is_root();
    config.global.smb_ports = vec![port.unwrap_or(if is_root { 445 } else { 4445 })];
    config.global.passdb_path = Some(passdb);
    let mut share = ShareConfig::new(DEFAULT_SHARE, share_dir.clone());
    share.read_only = false;
    config.shares.push(share);
    Ok((
        config,
        QuickStart {
            share_dir,
            password,
        },
    ))
}

fn generate_password() -> Result<String, String> {
    const ALPHABET: &[u8] = b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| format!("no system randomness: {e}"))?;
    Ok(bytes
        .iter()
        .filter_map(|b| {
            ALPHABET
                .get(usize::from(*b) % ALPHABET.len())
                .map(|c| char::from(*c))
        })
        .collect())
}

fn print_quick_start(qs: &QuickStart, port: u16) {
    let port_opt = if port == 445 {
        String::new()
    } else {
        format!(" -p {port}")
    };
    println!(
        "rsmbd is serving {} as share '{DEFAULT_SHARE}' on port {port}",
        qs.share_dir.display()
    );
    println!("  user:     {DEFAULT_USER}");
    println!("  password: {}", qs.password);
    println!("Connect with:");
    println!(
        "  smbclient //127.0.0.1/{DEFAULT_SHARE}{port_opt} -U {DEFAULT_USER}%{}",
        qs.password
    );
    println!("Stop with Ctrl-C.");
}

fn settings(config: &Config, passdb_path: PathBuf) -> Result<ServerSettings, String> {
    let g = &config.global;
    let mut server_guid = [0u8; 16];
    getrandom::fill(&mut server_guid).map_err(|e| format!("no system randomness: {e}"))?;
    let guest_uid = vfs::Identity::lookup_name(&g.guest_account).map_or(65534, |i| i.uid);
    // A smaller `max pdu size` lowers the read, write and transact sizes offered to clients.
    let io_cap = u32::try_from(g.max_frame_len())
        .unwrap_or(u32::MAX)
        .saturating_sub(config::limits::PDU_OVERHEAD);
    Ok(ServerSettings {
        min_dialect: g.server_min_protocol.dialect(),
        max_dialect: g.server_max_protocol.dialect(),
        server_guid,
        start_time: 0,
        netbios_name: g.netbios_name.clone(),
        server_string: g.server_string.clone(),
        workgroup: g.workgroup.clone(),
        dns_name: g.netbios_name.to_lowercase(),
        max_credits: g.smb2_max_credits,
        max_read: g.smb2_max_read.min(io_cap),
        max_write: g.smb2_max_write.min(io_cap),
        max_trans: g.smb2_max_trans.min(io_cap),
        max_frame_len: g.max_frame_len(),
        require_signing: g.server_signing == config::ServerSigning::Mandatory,
        encrypt: g.smb_encrypt,
        ciphers: g
            .encryption_algorithms
            .iter()
            .filter_map(|n| cipher_by_name(n))
            .collect(),
        signing_algorithms: g
            .signing_algorithms
            .iter()
            .filter_map(|n| signing_by_name(n))
            .collect(),
        allow_anonymous: g.restrict_anonymous == 0,
        map_unknown_to_guest: g.map_to_guest == MapToGuest::BadUser,
        guest_uid,
        domain_sid: domain_sid(&passdb_path)?,
        passdb_path,
        max_logon_failures: g.max_logon_failures,
        logon_failure_window: std::time::Duration::from_secs(g.logon_failure_window_secs),
        limits: g.limits.clone(),
        kernel_change_notify: g.kernel_change_notify,
    })
}

/// The machine SID from `domain_sid` beside the password database, created with random sub-authorities
/// the first time (MS-DTYP 2.4.2: S-1-5-21 and three 32-bit values).
fn domain_sid(passdb: &Path) -> Result<rpc::Sid, String> {
    let file = passdb.with_file_name("domain_sid");
    if let Ok(text) = std::fs::read_to_string(&file) {
        return rpc::Sid::parse(text.trim())
            .ok_or_else(|| format!("{}: not a SID", file.display()));
    }
    let mut r = [0u8; 12];
    getrandom::fill(&mut r).map_err(|e| format!("no system randomness: {e}"))?;
    let sub = |i: usize| {
        r.get(i..i + 4)
            .and_then(|b| <[u8; 4]>::try_from(b).ok())
            .map_or(0, u32::from_le_bytes)
    };
    let sid = rpc::Sid {
        authority: 5,
        sub_authorities: vec![21, sub(0), sub(4), sub(8)],
    };
    if let Some(dir) = file.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    std::fs::write(&file, format!("{sid}\n")).map_err(|e| format!("{}: {e}", file.display()))?;
    Ok(sid)
}

/// Samba's names for the SMB 3.1.1 ciphers (validated by the config crate).
fn cipher_by_name(name: &str) -> Option<crypto::Cipher> {
    use crypto::Cipher::*;
    Some(match name {
        "aes-128-gcm" => Aes128Gcm,
        "aes-256-gcm" => Aes256Gcm,
        "aes-128-ccm" => Aes128Ccm,
        "aes-256-ccm" => Aes256Ccm,
        _ => return None,
    })
}

/// Samba's names for the SMB 3.1.1 signing algorithms.
fn signing_by_name(name: &str) -> Option<crypto::SigningAlgorithm> {
    use crypto::SigningAlgorithm::*;
    Some(match name {
        "aes-128-gmac" => AesGmac,
        "aes-128-cmac" => AesCmac,
        "hmac-sha-256" => HmacSha256,
        _ => return None,
    })
}

fn hosts_list(
    share: &str,
    param: &str,
    items: &[String],
) -> Result<server::access::HostList, String> {
    server::access::HostList::parse(items).map_err(|e| format!("share [{share}]: {param}: {e}"))
}

/// Opens every available share of the configuration (also used by `reload`).
pub(crate) fn open_shares(shares: &[ShareConfig]) -> Result<Vec<ShareEntry>, String> {
    shares
        .iter()
        .filter(|s| s.available)
        .map(open_share)
        .collect()
}

fn open_share(s: &ShareConfig) -> Result<ShareEntry, String> {
    let opts = vfs::ShareOptions {
        follow_symlinks: s.follow_symlinks,
        // With a `write list` some users may write to a read-only share; the tree's grant then decides.
        read_only: s.read_only && s.write_list.is_empty() && s.admin_users.is_empty(),
        store_dos_attributes: s.store_dos_attributes,
        create_mask: s.create_mask,
        force_create_mode: s.force_create_mode,
        directory_mask: s.directory_mask,
        force_directory_mode: s.force_directory_mode,
    };
    let vfs = vfs::Share::open(&s.path, opts).map_err(|e| {
        format!(
            "share [{}]: cannot open path {}: {e}",
            s.name,
            s.path.display()
        )
    })?;
    Ok(ShareEntry {
        name: s.name.clone(),
        comment: s.comment.clone(),
        vfs: Some(vfs),
        read_only: s.read_only,
        browseable: s.browseable,
        guest_ok: s.guest_ok,
        valid_users: s.valid_users.clone(),
        invalid_users: s.invalid_users.clone(),
        hosts: server::access::HostAccess {
            allow: hosts_list(&s.name, "hosts allow", &s.hosts_allow)?,
            deny: hosts_list(&s.name, "hosts deny", &s.hosts_deny)?,
        },
        encrypt: s.smb_encrypt,
        policy: share_policy(s)?,
        names: server::names::NameFilter::new(
            s.hide_dot_files,
            &s.hide_files,
            &s.veto_files,
            s.delete_veto_files,
        ),
        trees: Default::default(),
        change_notify: s.change_notify,
    })
}

/// `force user` and `force group` must name existing accounts.
fn share_policy(s: &ShareConfig) -> Result<server::share_policy::SharePolicy, String> {
    let force_user = match &s.force_user {
        Some(name) => Some(Arc::new(vfs::Identity::lookup_name(name).ok_or_else(
            || format!("share [{}]: force user: no Unix user '{name}'", s.name),
        )?)),
        None => None,
    };
    let force_group = match &s.force_group {
        Some(name) => Some(
            vfs::group_id(name.trim_start_matches(['+', '@'])).ok_or_else(|| {
                format!("share [{}]: force group: no Unix group '{name}'", s.name)
            })?,
        ),
        None => None,
    };
    Ok(server::share_policy::SharePolicy {
        read_list: s.read_list.clone(),
        write_list: s.write_list.clone(),
        admin_users: s.admin_users.clone(),
        force_user,
        force_group,
        guest_only: s.guest_only,
        max_connections: s.max_connections,
    })
}

/// `interfaces` with `bind interfaces only = yes` lists addresses (or `lo`/`localhost`); otherwise the
/// server listens on every address.
fn listen_addrs(config: &Config) -> Vec<SocketAddr> {
    let g = &config.global;
    let mut ips: Vec<IpAddr> = Vec::new();
    if g.bind_interfaces_only {
        for i in &g.interfaces {
            let host = i.split('/').next().unwrap_or(i);
            match host {
                "lo" | "localhost" => ips.extend([IpAddr::V4(Ipv4Addr::LOCALHOST), IpAddr::V6(Ipv6Addr::LOCALHOST)]),
                h => match h.trim_matches(['[', ']']).parse::<IpAddr>() {
                    Ok(ip) => ips.push(ip),
                    Err(_) => tracing::warn!("interfaces: '{i}' is not an address; only addresses and 'lo' are supported"),
                },
            }
        }
    }
    if ips.is_empty() {
        ips.push(IpAddr::V6(Ipv6Addr::UNSPECIFIED));
    }
    ips.iter()
        .flat_map(|ip| g.smb_ports.iter().map(move |p| SocketAddr::new(*ip, *p)))
        .collect()
}

/// Bind all addresses; the IPv6 wildcard falls back to the IPv4 one where IPv6 is unavailable.
async fn bind_any(addrs: &[SocketAddr]) -> Result<Vec<tokio::net::TcpListener>, String> {
    let mut out = Vec::new();
    for a in addrs {
        let l = match server::bind(std::slice::from_ref(a)).await {
            Ok(l) => l,
            Err(e) if a.ip() == IpAddr::V6(Ipv6Addr::UNSPECIFIED) => {
                let v4 = SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), a.port());
                server::bind(&[v4]).await.map_err(|_| e.to_string())?
            }
            Err(e) => return Err(e.to_string()),
        };
        for l in &l {
            if let Ok(a) = l.local_addr() {
                tracing::info!("listening on {a}");
            }
        }
        out.extend(l);
    }
    Ok(out)
}

async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let Ok(mut term) = signal(SignalKind::terminate()) else {
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    tracing::info!("shutting down");
}

/// Every open file of every client is a descriptor of this process, and the usual soft limit (1024) would
/// cap the whole server at about a thousand opens: raise the soft limit to the hard one, as Samba does.
fn raise_open_file_limit() {
    use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};
    let limit = getrlimit(Resource::Nofile);
    let raised = Rlimit {
        current: limit.maximum,
        maximum: limit.maximum,
    };
    match setrlimit(Resource::Nofile, raised) {
        Ok(()) => tracing::info!(limit = ?limit.maximum, "open file descriptors limit"),
        Err(e) => tracing::warn!(
            soft = ?limit.current,
            "cannot raise the open file descriptors limit: {e}"
        ),
    }
}
