//! `rsmbd serve`: turns the configuration (or the no-setup defaults) into server settings and shares,
//! binds the listeners, and runs until SIGTERM or SIGINT.

use config::{Config, ShareConfig};
use server::ServerState;
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
    let settings = server::setup::settings(&config, passdb)?;
    let shares = server::setup::open_shares(&config.shares)?;
    for share in config.shares.iter().filter(|s| s.kernel_oplocks) {
        tracing::warn!("[{}] {}", share.name, crate::check::KERNEL_OPLOCKS);
    }
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
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let discovery = start_discovery(&config, &listeners, stopped);
        let signal = async move {
            shutdown_signal().await;
            let _ = stop.send(true);
        };
        server::serve(state, listeners, signal).await;
        if let Some(d) = discovery {
            // Bye and goodbye packets went out at the signal; this only waits for them to finish.
            let _ = tokio::time::timeout(std::time::Duration::from_secs(3), d).await;
        }
        let _ = std::fs::remove_file(&socket);
        tracing::info!("stopped");
        Ok(())
    })
}

/// Announces the server over mDNS-SD and WS-Discovery on the addresses the listeners serve.
fn start_discovery(
    config: &Config,
    listeners: &[tokio::net::TcpListener],
    stop: tokio::sync::watch::Receiver<bool>,
) -> Option<tokio::task::JoinHandle<()>> {
    let listening: Vec<SocketAddr> = listeners
        .iter()
        .filter_map(|l| l.local_addr().ok())
        .collect();
    let served = server::interfaces::served(&listening)
        .into_iter()
        .map(|a| discovery::Served {
            interface: a.name,
            index: a.index,
            ip: a.ip,
        })
        .collect();
    // The IPv6 wildcard listener also accepts connections to link-local addresses.
    let link_local_v6 = listening
        .iter()
        .any(|a| a.ip() == IpAddr::V6(Ipv6Addr::UNSPECIFIED));
    let g = &config.global;
    let host = discovery::Host {
        netbios_name: g.netbios_name.clone(),
        workgroup: g.workgroup.clone(),
        model: g.discovery.model.clone(),
        smb_port: listening.first().map_or(445, SocketAddr::port),
        time_machine_shares: config
            .shares
            .iter()
            .filter(|s| s.time_machine && s.available)
            .map(|s| s.name.clone())
            .collect(),
    };
    let switches = discovery::Switches {
        mdns: g.discovery.multicast_dns_register,
        wsd: g.discovery.wsd_support,
    };
    discovery::spawn(host, served, link_local_v6, switches, stop)
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
    crate::user_cmd::set_password(&passdb, DEFAULT_USER, &password, None)?;
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
