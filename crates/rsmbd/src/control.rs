//! The control socket: `rsmbd status` and `rsmbd reload` talk to the running daemon over a Unix socket
//! that only root and the daemon's own user may use (file mode 0600, and the peer's uid checked with
//! SO_PEERCRED). One request per connection: a command word on one line; the answer is `ok` or `error`
//! on the first line, then text. SIGHUP triggers the same reload.

use config::Config;
use server::ServerState;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
use tokio::net::{UnixListener, UnixStream};

/// Longest command line read from a client.
const MAX_COMMAND: u64 = 64;
/// Longest answer a client reads.
const MAX_ANSWER: u64 = 64 << 20;

/// Where the control socket is: `control socket` from the configuration, else beside the passdb.
pub fn socket_path(config: &Config, passdb: &Path) -> PathBuf {
    config
        .global
        .control_socket
        .clone()
        .unwrap_or_else(|| passdb.with_file_name("rsmbd.sock"))
}

/// The socket a client command uses: from `--config` if given, else the default beside the passdb.
pub fn client_socket(config_path: Option<&Path>) -> Result<PathBuf, String> {
    let config = match config_path {
        Some(p) => Config::load(p).map_err(|e| e.to_string())?,
        None => Config::parse_str("", "(defaults)").map_err(|e| e.to_string())?,
    };
    let passdb = config
        .global
        .passdb_path
        .clone()
        .unwrap_or_else(crate::user_cmd::default_passdb_path);
    Ok(socket_path(&config, &passdb))
}

/// `rsmbd status` / `rsmbd reload`: prints the daemon's answer.
pub fn run(config_path: Option<&Path>, command: &str) -> Result<(), String> {
    let answer = request(&client_socket(config_path)?, command)?;
    print!("{answer}");
    Ok(())
}

/// What the daemon needs to reload.
pub struct Reloader {
    pub state: Arc<ServerState>,
    pub config_path: Option<PathBuf>,
}

impl Reloader {
    /// Reads the configuration again and applies its shares; the old ones stay if it has errors.
    pub async fn reload(&self) -> Result<String, String> {
        let Some(path) = &self.config_path else {
            return Err("no configuration file to reload (started without --config)".into());
        };
        let config = Config::load(path).map_err(|e| format!("configuration not reloaded:\n{e}"))?;
        for w in &config.warnings {
            tracing::warn!("{w}");
        }
        let shares = server::setup::open_shares(&config.shares)?;
        let count = shares.len();
        let revoked = server::reload::apply(&self.state, shares).await;
        let msg = format!(
            "reloaded {}: {count} shares, {revoked} tree connects revoked",
            path.display()
        );
        tracing::info!("{msg}");
        Ok(msg)
    }
}

/// Binds the control socket (replacing a stale one) with mode 0600.
pub fn bind(path: &Path) -> Result<UnixListener, String> {
    if let Ok(meta) = std::fs::symlink_metadata(path) {
        if !meta.file_type().is_socket() {
            return Err(format!("{}: exists and is not a socket", path.display()));
        }
        let _ = std::fs::remove_file(path);
    }
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    let listener = UnixListener::bind(path).map_err(|e| format!("{}: {e}", path.display()))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(listener)
}

/// Answers control requests until the task is dropped.
pub async fn serve(listener: UnixListener, reloader: Arc<Reloader>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let reloader = Arc::clone(&reloader);
        tokio::spawn(async move {
            let _ = answer(stream, &reloader).await;
        });
    }
}

/// Reloads on every SIGHUP.
pub async fn on_hangup(reloader: Arc<Reloader>) {
    use tokio::signal::unix::{signal, SignalKind};
    let Ok(mut hup) = signal(SignalKind::hangup()) else {
        return;
    };
    while hup.recv().await.is_some() {
        if let Err(e) = reloader.reload().await {
            tracing::error!("SIGHUP: {e}");
        }
    }
}

fn peer_allowed(stream: &UnixStream) -> bool {
    let me = rustix::process::geteuid().as_raw();
    stream
        .peer_cred()
        .is_ok_and(|c| c.uid() == 0 || c.uid() == me)
}

async fn answer(stream: UnixStream, reloader: &Reloader) -> std::io::Result<()> {
    if !peer_allowed(&stream) {
        tracing::warn!("control socket: connection from another user refused");
        return Ok(());
    }
    let (rd, mut wr) = stream.into_split();
    let mut line = String::new();
    tokio::io::BufReader::new(tokio::io::AsyncReadExt::take(rd, MAX_COMMAND))
        .read_line(&mut line)
        .await?;
    let result = match line.trim() {
        "status" => Ok(server::status::render(&reloader.state)),
        "reload" => reloader.reload().await,
        other => Err(format!("unknown command '{other}' (status or reload)")),
    };
    let text = match result {
        Ok(body) => format!("ok\n{body}\n"),
        Err(e) => format!("error\n{e}\n"),
    };
    wr.write_all(text.as_bytes()).await?;
    wr.shutdown().await
}

/// Client side: sends `command` to the daemon and returns its answer, or the error it reported.
pub fn request(socket: &Path, command: &str) -> Result<String, String> {
    let mut stream = std::os::unix::net::UnixStream::connect(socket).map_err(|e| {
        format!(
            "cannot reach the daemon at {}: {e} (is `rsmbd serve` running with the same configuration?)",
            socket.display()
        )
    })?;
    stream
        .write_all(format!("{command}\n").as_bytes())
        .map_err(|e| e.to_string())?;
    let mut reader = BufReader::new(stream.take(MAX_ANSWER));
    let mut head = String::new();
    reader.read_line(&mut head).map_err(|e| e.to_string())?;
    let mut body = String::new();
    reader
        .read_to_string(&mut body)
        .map_err(|e| e.to_string())?;
    match head.trim() {
        "ok" => Ok(body),
        "error" => Err(body.trim_end().to_owned()),
        _ => Err("the daemon closed the connection without answering (not allowed?)".into()),
    }
}
