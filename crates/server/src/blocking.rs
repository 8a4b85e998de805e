//! Runs file-system work on tokio's bounded blocking pool with the session user's credentials
//! (DESIGN.md decisions 1 and 5).

use proto::NtStatus;
use std::sync::Arc;

/// Run `f` on the blocking pool as `id`. A panic in `f` (a bug, never input-driven) becomes INTERNAL_ERROR.
pub async fn run_as<R, F>(id: &Arc<vfs::Identity>, f: F) -> Result<R, NtStatus>
where
    R: Send + 'static,
    F: FnOnce() -> Result<R, NtStatus> + Send + 'static,
{
    let id = Arc::clone(id);
    match tokio::task::spawn_blocking(move || vfs::as_identity(&id, f)).await {
        Ok(r) => r,
        Err(e) => {
            tracing::error!("blocking task failed: {e}");
            Err(NtStatus::INTERNAL_ERROR)
        }
    }
}
