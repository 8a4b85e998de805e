//! Accepting TCP connections on the configured addresses (MS-SMB2 2.1 Direct TCP transport).

use crate::state::ServerState;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// Bind every address; the first failure is returned with the address in the message.
pub async fn bind(addrs: &[SocketAddr]) -> std::io::Result<Vec<TcpListener>> {
    let mut listeners = Vec::new();
    for a in addrs {
        let l = TcpListener::bind(a)
            .await
            .map_err(|e| std::io::Error::new(e.kind(), format!("cannot listen on {a}: {e}")))?;
        listeners.push(l);
    }
    Ok(listeners)
}

/// How long a stopping server lets its connections finish the requests they are working on.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Serve connections on `listeners` until `shutdown` resolves. Then stop accepting, let every
/// connection finish the requests it has read (no new ones are read) within [`SHUTDOWN_GRACE`], and
/// return.
pub async fn serve(
    state: Arc<ServerState>,
    listeners: Vec<TcpListener>,
    shutdown: impl std::future::Future<Output = ()>,
) {
    let addrs = listeners.iter().filter_map(|l| l.local_addr().ok());
    let _ = state.listening.set(addrs.collect());
    let mut tasks = tokio::task::JoinSet::new();
    for l in listeners {
        tasks.spawn(accept_loop(Arc::clone(&state), l));
    }
    let pool_owner = Arc::clone(&state);
    tasks.spawn(async move { crate::buffers::trim_when_idle(&pool_owner.buffers).await });
    shutdown.await;
    tasks.abort_all();
    drain(&state).await;
}

/// Asks every connection to close once its in-flight requests are answered, and waits (bounded) until
/// all are gone.
async fn drain(state: &ServerState) {
    let live = state.conns.live();
    if live.is_empty() {
        return;
    }
    tracing::info!("stopping: {} connections finish their requests", live.len());
    for conn in &live {
        conn.close();
    }
    drop(live);
    let deadline = tokio::time::Instant::now() + SHUTDOWN_GRACE;
    while state.conns.count() > 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let left = state.conns.count();
    if left > 0 {
        tracing::warn!(
            "stopping: {left} connections still busy after {SHUTDOWN_GRACE:?}, ending them"
        );
    }
}

async fn accept_loop(state: Arc<ServerState>, l: TcpListener) {
    loop {
        match l.accept().await {
            Ok((stream, peer)) => {
                tracing::debug!(%peer, "connection accepted");
                tokio::spawn(crate::conn::run(Arc::clone(&state), stream, peer));
            }
            Err(e) => {
                tracing::warn!("accept failed: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        }
    }
}
