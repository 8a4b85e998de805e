//! rsmbd's resource limits (DESIGN.md decision 9) as `[global]` parameters, with safe defaults: what one
//! client, one address or one connection may hold before the server refuses more.

use crate::registry::Key;
use crate::value::Value;

/// Per-server, per-address and per-connection limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// `handshake timeout` (seconds): a connection that has not completed a SESSION_SETUP this long
    /// after it was accepted is closed. Default 30.
    pub handshake_timeout_secs: u64,
    /// `max tcp connections`: connections served at once; more are closed on accept. 0 = no limit.
    /// Default 1024.
    pub max_tcp_connections: u32,
    /// `max connections per address` (ksmbd: `max ip connections`): connections from one client address
    /// at once. 0 = no limit. Default 256.
    pub max_connections_per_address: u32,
    /// `max sessions per connection`: sessions (including ones still authenticating) one connection may
    /// hold; SESSION_SETUP beyond it fails with STATUS_REQUEST_NOT_ACCEPTED. Default 64.
    pub max_sessions_per_connection: u32,
    /// `max tree connects per session`: tree connects one session may hold; TREE_CONNECT beyond it
    /// fails with STATUS_INSUFFICIENT_RESOURCES. Default 1024.
    pub max_tree_connects_per_session: u32,
    /// `max outstanding requests`: requests of one connection being processed at once; the server stops
    /// reading from a connection at the limit (TCP backpressure). Default 1024.
    pub max_outstanding_requests: u32,
    /// `max open files` (Samba's name; per connection here): CREATE beyond it fails with
    /// STATUS_TOO_MANY_OPENED_FILES. Default 16384.
    pub max_open_files: u32,
    /// `max byte range locks`: byte-range locks the opens of one connection may hold together; a LOCK
    /// beyond it fails with STATUS_INSUFFICIENT_RESOURCES and takes none of its ranges. Default 65536.
    pub max_byte_range_locks: u32,
    /// `max pdu size`: the largest SMB2 message accepted; a larger one closes the connection. 0 (the
    /// default) means the largest of `smb2 max read`, `smb2 max write` and `smb2 max trans` plus 64 KiB.
    pub max_pdu_size: u32,
    /// `max pending operations`: requests of one connection waiting asynchronously at once (blocking
    /// locks, change notifications); one more fails with STATUS_INSUFFICIENT_RESOURCES. Default 1024.
    pub max_pending_operations: u32,
    /// The same four kinds of state counted over all connections together (rsmbd's own
    /// `server max ...` parameters), so that many connections cannot add up to more than the machine
    /// holds: sessions still authenticating (SESSION_SETUP fails with STATUS_REQUEST_NOT_ACCEPTED;
    /// default 4096), opens including disconnected durable ones (STATUS_TOO_MANY_OPENED_FILES; default
    /// 65536), byte-range locks (STATUS_INSUFFICIENT_RESOURCES; default 1048576) and pending operations
    /// (STATUS_INSUFFICIENT_RESOURCES; default 16384).
    pub server_max_authenticating_sessions: u32,
    pub server_max_open_files: u32,
    pub server_max_byte_range_locks: u32,
    pub server_max_pending_operations: u32,
    /// `server max memory in flight` (rsmbd's own): bytes of requests being processed and responses not
    /// yet sent, over all connections; at the limit the server stops reading from connections (TCP
    /// backpressure) until responses have gone out. 0 (the default) means a quarter of the machine's
    /// memory, at least 64 MiB and at most 1 GiB ([`Limits::memory_in_flight`]).
    pub server_max_memory_in_flight: u64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            handshake_timeout_secs: 30,
            max_tcp_connections: 1024,
            max_connections_per_address: 256,
            max_sessions_per_connection: 64,
            max_tree_connects_per_session: 1024,
            max_outstanding_requests: 1024,
            max_open_files: 16_384,
            max_byte_range_locks: 65_536,
            max_pdu_size: 0,
            max_pending_operations: 1024,
            server_max_authenticating_sessions: 4096,
            server_max_open_files: 65_536,
            server_max_byte_range_locks: 1 << 20,
            server_max_pending_operations: 16_384,
            server_max_memory_in_flight: 0,
        }
    }
}

/// The smallest `server max memory in flight`: two connections' worth of in-flight requests.
const MIN_MEMORY_IN_FLIGHT: u64 = 64 << 20;

/// Room for the headers, contexts and padding around the largest payload in one PDU.
pub const PDU_OVERHEAD: u32 = 64 << 10;

fn in_range(n: u64, min: u64, max: u64, what: &str) -> Result<u32, String> {
    if n < min || n > max {
        return Err(format!("{what} must be between {min} and {max}, not {n}"));
    }
    u32::try_from(n).map_err(|_| format!("{n} is too large"))
}

impl Limits {
    /// Applies one limit parameter; `Ok(false)` when `key` is not a limit.
    pub(crate) fn apply(&mut self, key: Key, value: &Value) -> Result<bool, String> {
        let Value::Integer(n) = *value else {
            return Ok(false);
        };
        const ANY: u64 = u32::MAX as u64;
        match key {
            Key::HandshakeTimeout => {
                self.handshake_timeout_secs = u64::from(in_range(n, 1, 3600, "handshake timeout")?)
            }
            Key::MaxTcpConnections => {
                self.max_tcp_connections = in_range(n, 0, ANY, "max tcp connections")?
            }
            Key::MaxConnectionsPerAddress => {
                self.max_connections_per_address =
                    in_range(n, 0, ANY, "max connections per address")?
            }
            Key::MaxSessionsPerConnection => {
                self.max_sessions_per_connection =
                    in_range(n, 1, 65_535, "max sessions per connection")?
            }
            Key::MaxTreeConnectsPerSession => {
                self.max_tree_connects_per_session =
                    in_range(n, 1, 65_535, "max tree connects per session")?
            }
            Key::MaxOutstandingRequests => {
                self.max_outstanding_requests = in_range(n, 1, 65_535, "max outstanding requests")?
            }
            Key::MaxOpenFiles => self.max_open_files = in_range(n, 1, 1 << 24, "max open files")?,
            Key::MaxByteRangeLocks => {
                self.max_byte_range_locks = in_range(n, 1, 1 << 24, "max byte range locks")?
            }
            Key::MaxPendingOperations => {
                self.max_pending_operations = in_range(n, 1, 65_535, "max pending operations")?
            }
            Key::ServerMaxAuthenticatingSessions => {
                self.server_max_authenticating_sessions =
                    in_range(n, 1, 1 << 20, "server max authenticating sessions")?
            }
            Key::ServerMaxOpenFiles => {
                self.server_max_open_files = in_range(n, 1, 1 << 24, "server max open files")?
            }
            Key::ServerMaxByteRangeLocks => {
                self.server_max_byte_range_locks =
                    in_range(n, 1, 1 << 28, "server max byte range locks")?
            }
            Key::ServerMaxPendingOperations => {
                self.server_max_pending_operations =
                    in_range(n, 1, 1 << 20, "server max pending operations")?
            }
            Key::ServerMaxMemoryInFlight => {
                if n != 0 && !(MIN_MEMORY_IN_FLIGHT..=1 << 40).contains(&n) {
                    return Err(format!(
                        "server max memory in flight must be 0 (automatic) or between 64M and 1T, not {n}"
                    ));
                }
                self.server_max_memory_in_flight = n
            }
            Key::MaxPduSize => {
                if n != 0 {
                    in_range(n, 128 << 10, 64 << 20, "max pdu size")?;
                }
                self.max_pdu_size = u32::try_from(n).map_err(|_| format!("{n} is too large"))?
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// `server max memory in flight` in bytes, for a machine with `physical` bytes of memory.
    pub fn memory_in_flight(&self, physical: u64) -> u64 {
        if self.server_max_memory_in_flight != 0 {
            return self.server_max_memory_in_flight;
        }
        (physical / 4).clamp(MIN_MEMORY_IN_FLIGHT, 1 << 30)
    }

    /// The largest PDU accepted when payloads go up to `largest_payload` bytes.
    pub fn pdu_limit(&self, largest_payload: u32) -> usize {
        let n = if self.max_pdu_size == 0 {
            largest_payload.saturating_add(PDU_OVERHEAD)
        } else {
            self.max_pdu_size
        };
        usize::try_from(n).unwrap_or(usize::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_checked() {
        let mut l = Limits::default();
        assert_eq!(l.apply(Key::MaxOpenFiles, &Value::Integer(10)), Ok(true));
        assert_eq!(l.max_open_files, 10);
        assert!(l.apply(Key::MaxOpenFiles, &Value::Integer(0)).is_err());
        assert!(l.apply(Key::HandshakeTimeout, &Value::Integer(0)).is_err());
        assert_eq!(
            l.apply(Key::MaxTcpConnections, &Value::Integer(0)),
            Ok(true)
        );
        assert!(l.apply(Key::MaxPduSize, &Value::Integer(1000)).is_err());
        assert!(l.apply(Key::MaxByteRangeLocks, &Value::Integer(0)).is_err());
        assert_eq!(
            l.apply(Key::MaxByteRangeLocks, &Value::Integer(2)),
            Ok(true)
        );
        assert_eq!(l.max_byte_range_locks, 2);
        assert!(l
            .apply(Key::MaxTreeConnectsPerSession, &Value::Integer(70_000))
            .is_err());
        assert_eq!(l.apply(Key::Path, &Value::Integer(1)), Ok(false));
    }

    #[test]
    fn memory_in_flight_follows_the_machine_unless_set() {
        let mut l = Limits::default();
        assert_eq!(l.memory_in_flight(24 << 30), 1 << 30);
        assert_eq!(l.memory_in_flight(1 << 30), 256 << 20);
        assert_eq!(l.memory_in_flight(128 << 20), 64 << 20);
        assert!(l
            .apply(Key::ServerMaxMemoryInFlight, &Value::Integer(1 << 20))
            .is_err());
        assert_eq!(
            l.apply(Key::ServerMaxMemoryInFlight, &Value::Integer(3 << 30)),
            Ok(true)
        );
        assert_eq!(l.memory_in_flight(1 << 30), 3 << 30);
    }

    #[test]
    fn pdu_limit_follows_io_sizes() {
        let mut l = Limits::default();
        assert_eq!(l.pdu_limit(8 << 20), (8 << 20) + (64 << 10));
        l.max_pdu_size = 1 << 20;
        assert_eq!(l.pdu_limit(8 << 20), 1 << 20);
    }
}
