//! SOAP-over-UDP for WS-Discovery (WS-Discovery 1.1 sections 2.4, 4 to 6): one socket per address it
//! runs on, joined to 239.255.255.250 (IPv4) or ff02::c (IPv6) on that interface only. It multicasts
//! Hello at start and Bye at stop (each sent three times, as multicast over UDP may lose one), and
//! answers a Probe for our types (or for any type) with ProbeMatches and a Resolve for our endpoint
//! with ResolveMatches, unicast to the sender.
//!
//! Repeats of a message (same MessageID) are answered once, after a random delay of at most
//! APP_MAX_DELAY. Datagrams larger than [`MAX_MESSAGE`] are dropped unread; replies are limited to
//! [`REPLIES_PER_SECOND`] so that spoofed probes cannot turn the server into a flood source.

use super::envelope;
use super::message::{self, Message, MAX_MESSAGE};
use super::{Device, Link, MULTICAST_GROUP, MULTICAST_GROUP_V6, UDP_PORT};
use socket2::{Domain, Protocol, Socket, Type};
use std::collections::VecDeque;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::UdpSocket;
use tokio::sync::watch;

const REPLIES_PER_SECOND: u32 = 20;
const MULTICAST_REPEAT: u32 = 2;
const REPEAT_PAUSE: Duration = Duration::from_millis(100);
/// Replies to a multicast message wait a random time up to this (APP_MAX_DELAY, WS-Discovery 1.1
/// section 2.4), so that many devices do not answer at once.
const APP_MAX_DELAY_MS: u16 = 500;
const SEEN_MESSAGE_IDS: usize = 64;
const MAX_MESSAGE_ID: usize = 256;
/// The Probe types rsmbd matches (local parts of `wsdp:Device` and `pub:Computer`).
const OUR_TYPES: &[&str] = &["Device", "Computer"];

pub struct Responder {
    socket: Arc<UdpSocket>,
    link: Link,
    device: Arc<Device>,
    window: Instant,
    replies: u32,
    /// The MessageIDs of recent messages, oldest first.
    seen: VecDeque<String>,
}

impl Responder {
    /// A socket on port 3702 that receives its family's group only from the interface of `link`.
    pub fn bind(interface: &str, link: Link, device: Arc<Device>) -> std::io::Result<Responder> {
        let socket = match link.ip {
            IpAddr::V4(ip) => v4_socket(ip)?,
            IpAddr::V6(_) => v6_socket(link.index)?,
        };
        socket.set_nonblocking(true)?;
        tracing::debug!("WS-Discovery on {interface} ({})", link.ip);
        Ok(Responder {
            socket: Arc::new(UdpSocket::from_std(socket.into())?),
            link,
            device,
            window: Instant::now(),
            replies: 0,
            seen: VecDeque::new(),
        })
    }

    pub async fn run(mut self, stop: watch::Receiver<bool>) {
        let group = self.link.group();
        let hello = envelope::hello(&self.device, &self.device.xaddr(self.link.ip));
        self.multicast(&hello, group).await;
        // One byte more than accepted tells an oversized datagram from one that fits.
        let mut buf = vec![0u8; MAX_MESSAGE + 1];
        let stopped = crate::wait_for_stop(stop);
        tokio::pin!(stopped);
        loop {
            tokio::select! {
                _ = &mut stopped => break,
                r = self.socket.recv_from(&mut buf) => match r {
                    Ok((n, from)) => self.datagram(buf.get(..n).unwrap_or_default(), from),
                    Err(e) => tracing::debug!("WS-Discovery receive: {e}"),
                },
            }
        }
        self.multicast(&envelope::bye(&self.device), group).await;
    }

    /// Sends a multicast message, then [`MULTICAST_REPEAT`] repeats after short pauses, as
    /// SOAP-over-UDP's retransmission rules ask; receivers drop the repeats by their MessageID.
    async fn multicast(&self, xml: &str, group: SocketAddr) {
        self.send(xml, group).await;
        for _ in 0..MULTICAST_REPEAT {
            tokio::time::sleep(REPEAT_PAUSE).await;
            self.send(xml, group).await;
        }
    }

    /// Answers one datagram, if it calls for an answer, from a task of its own (after the delay).
    fn datagram(&mut self, data: &[u8], from: SocketAddr) {
        let msg = match message::parse(data) {
            Ok(m) => m,
            Err(e) => {
                tracing::debug!(
                    "WS-Discovery: refused {} bytes from {from}: {e:?}",
                    data.len()
                );
                return;
            }
        };
        if !self.first_time(&msg.message_id) {
            return;
        }
        if let Some(reply) = self.answer(&msg) {
            if self.may_reply() {
                let socket = Arc::clone(&self.socket);
                tokio::spawn(async move {
                    tokio::time::sleep(reply_delay()).await;
                    if let Err(e) = socket.send_to(reply.as_bytes(), from).await {
                        tracing::debug!("WS-Discovery send to {from}: {e}");
                    }
                });
            }
        }
    }

    /// Whether a message with this MessageID is new: multicast messages come several times
    /// (SOAP-over-UDP retransmission) and are answered once. Over-long ids count as seen.
    fn first_time(&mut self, message_id: &str) -> bool {
        if message_id.len() > MAX_MESSAGE_ID || self.seen.iter().any(|id| id == message_id) {
            return false;
        }
        if self.seen.len() >= SEEN_MESSAGE_IDS {
            self.seen.pop_front();
        }
        self.seen.push_back(message_id.to_owned());
        true
    }

    /// The reply a message calls for, if any.
    fn answer(&self, msg: &Message) -> Option<String> {
        let xaddr = self.device.xaddr(self.link.ip);
        match msg.action.as_str() {
            envelope::ACTION_PROBE if probes_for_us(msg) => Some(envelope::probe_matches(
                &self.device,
                &xaddr,
                &msg.message_id,
            )),
            envelope::ACTION_RESOLVE if msg.address == self.device.urn() => Some(
                envelope::resolve_matches(&self.device, &xaddr, &msg.message_id),
            ),
            _ => None,
        }
    }

    /// Counts a reply against the per-second budget.
    fn may_reply(&mut self) -> bool {
        if self.window.elapsed() >= Duration::from_secs(1) {
            self.window = Instant::now();
            self.replies = 0;
        }
        self.replies = self.replies.saturating_add(1);
        self.replies <= REPLIES_PER_SECOND
    }

    async fn send(&self, xml: &str, to: SocketAddr) {
        if let Err(e) = self.socket.send_to(xml.as_bytes(), to).await {
            tracing::debug!("WS-Discovery send to {to}: {e}");
        }
    }
}

/// A random pause of at most [`APP_MAX_DELAY_MS`].
fn reply_delay() -> Duration {
    let mut b = [0u8; 2];
    let _ = getrandom::fill(&mut b);
    Duration::from_millis(u64::from(u16::from_le_bytes(b) % APP_MAX_DELAY_MS))
}

fn v4_socket(ip: Ipv4Addr) -> std::io::Result<Socket> {
    let socket = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))?;
    socket.set_reuse_address(true)?;
    socket.bind(&SocketAddr::from((Ipv4Addr::UNSPECIFIED, UDP_PORT)).into())?;
    socket.join_multicast_v4(&MULTICAST_GROUP, &ip)?;
    socket.set_multicast_all_v4(false)?;
    socket.set_multicast_if_v4(&ip)?;
    socket.set_multicast_loop_v4(false)?;
    socket.set_multicast_ttl_v4(1)?;
    Ok(socket)
}

fn v6_socket(index: u32) -> std::io::Result<Socket> {
    let socket = Socket::new(Domain::IPV6, Type::DGRAM, Some(Protocol::UDP))?;
    socket.set_only_v6(true)?;
    socket.set_reuse_address(true)?;
    socket.bind(&SocketAddr::from((Ipv6Addr::UNSPECIFIED, UDP_PORT)).into())?;
    socket.join_multicast_v6(&MULTICAST_GROUP_V6, index)?;
    socket.set_multicast_all_v6(false)?;
    socket.set_multicast_if_v6(index)?;
    socket.set_multicast_loop_v6(false)?;
    socket.set_multicast_hops_v6(1)?;
    Ok(socket)
}

/// A Probe without types matches every device (WS-Discovery 1.1 section 5.1).
fn probes_for_us(msg: &Message) -> bool {
    let mut names = msg.type_names().peekable();
    names.peek().is_none() || names.any(|t| OUR_TYPES.contains(&t))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe(types: &str) -> Message {
        Message {
            action: envelope::ACTION_PROBE.into(),
            message_id: "urn:uuid:1".into(),
            types: types.into(),
            address: String::new(),
        }
    }

    #[test]
    fn probe_matching() {
        assert!(probes_for_us(&probe("")));
        assert!(probes_for_us(&probe("wsdp:Device")));
        assert!(probes_for_us(&probe("x:Printer pub:Computer")));
        assert!(!probes_for_us(&probe("x:Printer")));
    }

    #[tokio::test]
    async fn answers_probe_and_own_resolve_only_within_budget() {
        let device = Arc::new(Device::new("NAS", "WORKGROUP"));
        let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let mut r = Responder {
            socket: Arc::new(socket),
            link: Link {
                ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
                index: 1,
            },
            device: Arc::clone(&device),
            window: Instant::now(),
            replies: 0,
            seen: VecDeque::new(),
        };
        let reply = r.answer(&probe("wsdp:Device")).unwrap();
        assert!(reply.contains("ProbeMatches") && reply.contains("<wsa:RelatesTo>urn:uuid:1<"));
        let mut resolve = probe("");
        resolve.action = envelope::ACTION_RESOLVE.into();
        resolve.address = "urn:uuid:other".into();
        assert!(r.answer(&resolve).is_none());
        resolve.address = device.urn();
        assert!(r.answer(&resolve).unwrap().contains("ResolveMatches"));
        assert!(r.first_time("urn:uuid:1") && !r.first_time("urn:uuid:1"));
        assert!(!r.first_time(&"x".repeat(MAX_MESSAGE_ID + 1)));
        for n in 0..SEEN_MESSAGE_IDS {
            assert!(r.first_time(&n.to_string()));
        }
        assert_eq!(r.seen.len(), SEEN_MESSAGE_IDS);
        assert!(r.first_time("urn:uuid:1"), "the oldest id was forgotten");
        assert!(reply_delay() < Duration::from_millis(u64::from(APP_MAX_DELAY_MS)));
        let allowed = (0..100).filter(|_| r.may_reply()).count();
        assert_eq!(allowed, REPLIES_PER_SECOND as usize);
    }
}
