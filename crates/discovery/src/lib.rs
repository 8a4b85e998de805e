//! rsmbd-discovery: makes the server appear in macOS Finder and the Windows Network folder without
//! avahi or wsdd beside it.
//!
//! - [`mdns`]: Bonjour, multicast DNS service discovery (RFC 6762, RFC 6763) through the `mdns-sd`
//!   crate: `_smb._tcp`, `_device-info._tcp` and, for Time Machine shares, `_adisk._tcp`.
//! - [`wsd`]: WS-Discovery 1.1 (OASIS, the 2005/04 draft namespace Windows uses) with the Devices
//!   Profile for Web Services metadata as MS-PBSD describes it: Hello, Bye, Probe, Resolve on UDP 3702
//!   and the device metadata (Get) over HTTP on TCP 5357.
//!
//! Discovery is announced only on the interfaces whose addresses the SMB listeners accept, never on
//! loopback; a server bound to loopback only announces nothing. Failures are logged and never stop
//! the SMB server.
#![forbid(unsafe_code)]

pub mod mdns;
pub mod wsd;

use std::net::IpAddr;
use tokio::sync::watch;

/// What the server announces about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Host {
    /// `netbios name`: the mDNS instance name and the computer name Windows shows.
    pub netbios_name: String,
    /// `workgroup`, shown by Windows beside the name.
    pub workgroup: String,
    /// `fruit:model`: Finder's icon for the server.
    pub model: String,
    /// The SMB port (the first of `smb ports`).
    pub smb_port: u16,
    /// Shares with `fruit:time machine = yes`, in configuration order.
    pub time_machine_shares: Vec<String>,
}

/// Which protocols are on (`multicast dns register`, `wsd support`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Switches {
    pub mdns: bool,
    pub wsd: bool,
}

/// One address other hosts reach the server at, with its interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Served {
    pub interface: String,
    pub index: u32,
    pub ip: IpAddr,
}

/// Starts the protocols that are on, on the `served` addresses (and, when `link_local_v6` says the
/// listeners accept IPv6 link-local connections, WS-Discovery on the served interfaces' IPv6 link-local
/// addresses too); they announce the server until `stop` turns true, then say goodbye. `None` (after an
/// info log saying why) when there is nothing to run.
pub fn spawn(
    host: Host,
    served: Vec<Served>,
    link_local_v6: bool,
    switches: Switches,
    stop: watch::Receiver<bool>,
) -> Option<tokio::task::JoinHandle<()>> {
    if !switches.mdns && !switches.wsd {
        tracing::info!("network discovery is off (multicast dns register = no, wsd support = no)");
        return None;
    }
    if served.is_empty() {
        tracing::info!(
            "network discovery is off: the server listens on no address other hosts can reach \
             (loopback only)"
        );
        return None;
    }
    Some(tokio::spawn(run(
        host,
        served,
        link_local_v6,
        switches,
        stop,
    )))
}

async fn run(
    host: Host,
    served: Vec<Served>,
    link_local_v6: bool,
    switches: Switches,
    stop: watch::Receiver<bool>,
) {
    let mdns = if switches.mdns {
        mdns::Announcer::start(&host, &served)
    } else {
        tracing::info!("mDNS announcement is off (multicast dns register = no)");
        None
    };
    let wsd = if switches.wsd {
        Some(tokio::spawn(wsd::run(
            host,
            served,
            link_local_v6,
            stop.clone(),
        )))
    } else {
        tracing::info!("WS-Discovery is off (wsd support = no)");
        None
    };
    wait_for_stop(stop).await;
    if let Some(mdns) = mdns {
        let _ = tokio::task::spawn_blocking(move || mdns.stop()).await;
    }
    if let Some(wsd) = wsd {
        let _ = wsd.await;
    }
}

/// Resolves once `stop` is true (or its sender is gone).
pub(crate) async fn wait_for_stop(mut stop: watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host() -> Host {
        Host {
            netbios_name: "NAS".into(),
            workgroup: "WORKGROUP".into(),
            model: "RackMac".into(),
            smb_port: 445,
            time_machine_shares: Vec::new(),
        }
    }

    #[test]
    fn nothing_runs_when_switched_off_or_serving_no_other_host() {
        let (_tx, rx) = watch::channel(false);
        let lan = vec![Served {
            interface: "eth0".into(),
            index: 2,
            ip: "192.0.2.7".parse().unwrap(),
        }];
        let off = Switches {
            mdns: false,
            wsd: false,
        };
        assert!(spawn(host(), lan, true, off, rx.clone()).is_none());
        let on = Switches {
            mdns: true,
            wsd: true,
        };
        assert!(spawn(host(), Vec::new(), true, on, rx).is_none());
    }
}
