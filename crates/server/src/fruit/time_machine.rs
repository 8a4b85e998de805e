//! `fruit:time machine max size` (vfs_fruit(8)): a Time Machine share reports at most that much space, of
//! which the backups' bands already use their part ([`vfs::Share::time_machine_used`]), so macOS
//! removes old backups before the share outgrows the limit. Sizes are shown in 1 KiB allocation units
//! of two 512-byte sectors, as Samba shows them.

use proto::NtStatus;

use super::FruitShare;

/// The allocation unit of a capped volume.
const UNIT: u64 = 1024;

/// The volume figures `st` as a Time Machine share with a size limit shows them; unchanged otherwise.
pub fn capped(
    fruit: Option<&FruitShare>,
    share: &vfs::Share,
    st: vfs::FsStat,
) -> Result<vfs::FsStat, NtStatus> {
    let max = match fruit {
        Some(f) if f.time_machine && f.config.time_machine_max_size > 0 => {
            f.config.time_machine_max_size
        }
        _ => return Ok(st),
    };
    let used = share.time_machine_used()?;
    let really_free = st.avail_blocks.saturating_mul(st.block_size);
    let free = max.saturating_sub(used).min(really_free);
    Ok(vfs::FsStat {
        block_size: UNIT,
        total_blocks: max / UNIT,
        free_blocks: free / UNIT,
        avail_blocks: free / UNIT,
        ..st
    })
}
