//! Accepting TCP connections on the configured addresses (MS-SMB2 2.1 Direct TCP transport).

use crate::state::ServerState;
use std::net::SocketAddr;
use std::sync::Arc;
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

/// Serve connections on `listeners` until `shutdown` resolves.
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
    shutdown.await;
    tasks.abort_all();
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
