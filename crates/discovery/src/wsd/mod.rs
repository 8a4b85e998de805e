//! WS-Discovery for Windows' Network folder: OASIS WS-Discovery 1.1 over SOAP-over-UDP on port 3702
//! ([`udp`]), and the DPWS device metadata over HTTP on port 5357 ([`http`]), as Windows' Function
//! Discovery (MS-PBSD) and Debian's wsdd speak them. IPv4 only: each served IPv4 address joins
//! 239.255.255.250 on its interface and gets a metadata listener.
//!
//! The endpoint is a stable `urn:uuid:` (a name-based UUID of the machine id and the netbios name), so
//! Windows keeps recognising the server across restarts.

pub mod envelope;
pub mod http;
pub mod message;
mod udp;

use crate::{Host, Served};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::sync::watch;
use uuid::Uuid;

/// WS-Discovery's IPv4 multicast group and port (WS-Discovery 1.1 section 2.4).
pub const MULTICAST_GROUP: Ipv4Addr = Ipv4Addr::new(239, 255, 255, 250);
pub const UDP_PORT: u16 = 3702;
/// The port of the metadata service (Windows' WSD port).
pub const HTTP_PORT: u16 = 5357;
/// Changes only when the metadata does: it is fixed for one configuration.
pub const METADATA_VERSION: u32 = 1;

/// Our own namespace for the endpoint UUID (a random constant).
const ENDPOINT_NAMESPACE: Uuid = Uuid::from_u128(0x6a1f_0c2e_93d4_4b7a_8e55_2c1d_f0b3_9a47);

/// The device Windows discovers.
pub struct Device {
    pub netbios_name: String,
    pub workgroup: String,
    pub endpoint: Uuid,
    /// AppSequence: InstanceId grows with each start (seconds since the epoch), SequenceId names
    /// this run, MessageNumber counts its messages (WS-Discovery 1.1 section 7).
    pub instance_id: u64,
    pub sequence_id: Uuid,
    message_number: AtomicU64,
}

impl Device {
    pub fn new(netbios_name: &str, workgroup: &str) -> Device {
        let machine = std::fs::read_to_string("/etc/machine-id").unwrap_or_default();
        let seed = format!("{}/{}", machine.trim(), netbios_name.to_uppercase());
        let instance_id = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_secs());
        Device {
            netbios_name: netbios_name.to_owned(),
            workgroup: workgroup.to_owned(),
            endpoint: Uuid::new_v5(&ENDPOINT_NAMESPACE, seed.as_bytes()),
            instance_id,
            sequence_id: random_uuid(),
            message_number: AtomicU64::new(0),
        }
    }

    /// The endpoint address, `urn:uuid:...`.
    pub fn urn(&self) -> String {
        self.endpoint.urn().to_string()
    }

    /// The metadata URL served on `ip`.
    pub fn xaddr(&self, ip: Ipv4Addr) -> String {
        format!("http://{ip}:{HTTP_PORT}/{}", self.endpoint)
    }

    fn next_message_number(&self) -> u64 {
        self.message_number
            .fetch_add(1, Ordering::Relaxed)
            .saturating_add(1)
    }
}

/// A random (version 4) UUID for message ids; all zeros if the system has no randomness.
pub fn random_uuid() -> Uuid {
    let mut bytes = [0u8; 16];
    let _ = getrandom::fill(&mut bytes);
    uuid::Builder::from_random_bytes(bytes).into_uuid()
}

/// Runs WS-Discovery on the served IPv4 addresses until `stop`, then sends Bye.
pub async fn run(host: Host, served: Vec<Served>, stop: watch::Receiver<bool>) {
    let device = Arc::new(Device::new(&host.netbios_name, &host.workgroup));
    let mut tasks = Vec::new();
    for s in &served {
        let IpAddr::V4(ip) = s.ip else { continue };
        match http::bind(SocketAddr::from((ip, HTTP_PORT))).await {
            Ok(l) => tasks.push(tokio::spawn(http::serve(
                l,
                Arc::clone(&device),
                stop.clone(),
            ))),
            Err(e) => {
                tracing::warn!(
                    "WS-Discovery: cannot listen on {ip}:{HTTP_PORT}, not announced there: {e}"
                );
                continue;
            }
        }
        match udp::Responder::bind(&s.interface, ip, Arc::clone(&device)) {
            Ok(r) => tasks.push(tokio::spawn(r.run(stop.clone()))),
            Err(e) => tracing::warn!(
                "WS-Discovery: cannot join {MULTICAST_GROUP}:{UDP_PORT} on {} ({ip}): {e}",
                s.interface
            ),
        }
    }
    if tasks.is_empty() {
        tracing::info!("WS-Discovery is not running: no served IPv4 address (it runs over IPv4 only) could be bound");
        return;
    }
    tracing::info!(
        "WS-Discovery: announcing {} as {}",
        device.netbios_name,
        device.urn()
    );
    for t in tasks {
        let _ = t.await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_is_stable_and_follows_the_name() {
        let a = Device::new("NAS", "WORKGROUP");
        let b = Device::new("nas", "OTHER");
        let c = Device::new("OTHER", "WORKGROUP");
        assert_eq!(a.endpoint, b.endpoint);
        assert_ne!(a.endpoint, c.endpoint);
        assert_ne!(a.sequence_id, b.sequence_id);
        assert!(a.urn().starts_with("urn:uuid:"));
        assert_eq!(
            a.xaddr(Ipv4Addr::new(192, 0, 2, 1)),
            format!("http://192.0.2.1:5357/{}", a.endpoint)
        );
    }
}
