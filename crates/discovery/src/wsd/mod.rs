//! WS-Discovery for Windows' Network folder: OASIS WS-Discovery 1.1 over SOAP-over-UDP on port 3702
//! ([`udp`]), and the DPWS device metadata over HTTP on port 5357 ([`http`]), as Windows' Function
//! Discovery (MS-PBSD) and Debian's wsdd speak them. Each served IPv4 address joins 239.255.255.250 on
//! its interface and gets a metadata listener; when the listeners accept IPv6 link-local connections,
//! each served interface's IPv6 link-local address does the same with ff02::c (section 2.4).
//!
//! The endpoint is a stable `urn:uuid:` (a name-based UUID of the machine id and the netbios name), so
//! Windows keeps recognising the server across restarts.

pub mod envelope;
pub mod http;
pub mod message;
mod udp;

use crate::{Host, Served};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV6};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::sync::watch;
use uuid::Uuid;

/// WS-Discovery's multicast groups and port (WS-Discovery 1.1 section 2.4).
pub const MULTICAST_GROUP: Ipv4Addr = Ipv4Addr::new(239, 255, 255, 250);
pub const MULTICAST_GROUP_V6: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0xc);
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

    /// The metadata URL served on `ip` (an IPv6 address without its zone: the client adds its own).
    pub fn xaddr(&self, ip: IpAddr) -> String {
        format!(
            "http://{}/{}",
            SocketAddr::new(ip, HTTP_PORT),
            self.endpoint
        )
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

/// An address WS-Discovery runs on, with its interface (whose index scopes a link-local address).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Link {
    pub ip: IpAddr,
    pub index: u32,
}

impl Link {
    /// `ip:port`, scoped to the interface for IPv6.
    pub fn socket_addr(&self, port: u16) -> SocketAddr {
        match self.ip {
            IpAddr::V4(ip) => SocketAddr::from((ip, port)),
            IpAddr::V6(ip) => SocketAddr::V6(SocketAddrV6::new(ip, port, 0, self.index)),
        }
    }

    /// The multicast group of its family, on its interface.
    pub fn group(&self) -> SocketAddr {
        let group = match self.ip {
            IpAddr::V4(_) => IpAddr::V4(MULTICAST_GROUP),
            IpAddr::V6(_) => IpAddr::V6(MULTICAST_GROUP_V6),
        };
        Link {
            ip: group,
            index: self.index,
        }
        .socket_addr(UDP_PORT)
    }
}

/// The served IPv4 addresses, and the IPv6 link-local addresses of the served interfaces when
/// `link_local_v6`.
fn links(served: &[Served], link_local_v6: bool) -> Vec<(String, Link)> {
    let mut out: Vec<(String, Link)> = served
        .iter()
        .filter(|s| s.ip.is_ipv4())
        .map(|s| {
            (
                s.interface.clone(),
                Link {
                    ip: s.ip,
                    index: s.index,
                },
            )
        })
        .collect();
    if link_local_v6 {
        let mut names: Vec<&str> = served.iter().map(|s| s.interface.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        let host = if_addrs::get_if_addrs().unwrap_or_default();
        for i in host.iter().filter(|i| names.contains(&i.name.as_str())) {
            if let (IpAddr::V6(ip), Some(index)) = (i.ip(), i.index) {
                if ip.is_unicast_link_local() {
                    out.push((
                        i.name.clone(),
                        Link {
                            ip: IpAddr::V6(ip),
                            index,
                        },
                    ));
                }
            }
        }
    }
    out
}

/// Runs WS-Discovery on the served addresses until `stop`, then sends Bye.
pub async fn run(
    host: Host,
    served: Vec<Served>,
    link_local_v6: bool,
    stop: watch::Receiver<bool>,
) {
    let device = Arc::new(Device::new(&host.netbios_name, &host.workgroup));
    let mut tasks = Vec::new();
    for (interface, link) in links(&served, link_local_v6) {
        let at = link.socket_addr(HTTP_PORT);
        match http::bind(at).await {
            Ok(l) => tasks.push(tokio::spawn(http::serve(
                l,
                Arc::clone(&device),
                stop.clone(),
            ))),
            Err(e) => {
                tracing::warn!("WS-Discovery: cannot listen on {at}, not announced there: {e}");
                continue;
            }
        }
        match udp::Responder::bind(&interface, link, Arc::clone(&device)) {
            Ok(r) => tasks.push(tokio::spawn(r.run(stop.clone()))),
            Err(e) => tracing::warn!(
                "WS-Discovery: cannot join {} on {interface} ({}): {e}",
                link.group(),
                link.ip
            ),
        }
    }
    if tasks.is_empty() {
        tracing::info!("WS-Discovery is not running: no served address could be bound");
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
            a.xaddr("192.0.2.1".parse().unwrap()),
            format!("http://192.0.2.1:5357/{}", a.endpoint)
        );
        assert_eq!(
            a.xaddr("fe80::1".parse().unwrap()),
            format!("http://[fe80::1]:5357/{}", a.endpoint)
        );
    }

    #[test]
    fn links_scope_ipv6_to_their_interface() {
        let v6 = Link {
            ip: "fe80::1".parse().unwrap(),
            index: 7,
        };
        assert_eq!(v6.group().to_string(), "[ff02::c%7]:3702");
        assert_eq!(v6.socket_addr(HTTP_PORT).to_string(), "[fe80::1%7]:5357");
        let v4 = Link {
            ip: "192.0.2.1".parse().unwrap(),
            index: 7,
        };
        assert_eq!(v4.group().to_string(), "239.255.255.250:3702");
        let served = [
            Served {
                interface: "lo".into(),
                index: 1,
                ip: "127.0.0.1".parse().unwrap(),
            },
            Served {
                interface: "x".into(),
                index: 9,
                ip: "2001:db8::1".parse().unwrap(),
            },
        ];
        // Only IPv4 addresses, and link-local IPv6 addresses looked up on the served interfaces.
        let only_v4: Vec<IpAddr> = links(&served, false).iter().map(|(_, l)| l.ip).collect();
        assert_eq!(only_v4, ["127.0.0.1".parse::<IpAddr>().unwrap()]);
        assert!(links(&served, true)
            .iter()
            .all(|(_, l)| l.ip.is_ipv4() || l.index != 0));
    }
}
