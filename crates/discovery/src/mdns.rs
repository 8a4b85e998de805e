//! Bonjour announcement (multicast DNS, RFC 6762; DNS-based service discovery, RFC 6763) through the
//! `mdns-sd` crate, which owns the sockets, probing, answering queries and goodbye packets.
//!
//! Records, as macOS expects from an SMB server:
//! - `_smb._tcp`: instance = netbios name, the SMB port, the served addresses (RFC 6763 section 4);
//! - `_device-info._tcp`: TXT `model=<fruit:model>`, which picks Finder's icon for the server;
//! - `_adisk._tcp` when shares have `fruit:time machine = yes`: TXT `sys=waMa=0,adVF=0x100` and one
//!   `dkN=adVN=<share>,adVF=0x82` per share, N counting from 0 (Apple's Time Machine disk advertisement).
//!
//! The crate's daemon is restricted to the interfaces served; loopback is disabled.

use crate::{Host, Served};
use mdns_sd::{IfKind, ServiceDaemon, ServiceInfo};
use std::net::IpAddr;
use std::time::Duration;

const SMB: &str = "_smb._tcp.local.";
const DEVICE_INFO: &str = "_device-info._tcp.local.";
const ADISK: &str = "_adisk._tcp.local.";
/// The port `_adisk._tcp` names: Time Machine finds the share through `_smb._tcp`, this one is unused
/// (the discard port, by convention).
const ADISK_PORT: u16 = 9;
/// How long stopping waits for the goodbye packets to be sent.
const GOODBYE_WAIT: Duration = Duration::from_secs(2);

/// The running mDNS responder.
pub struct Announcer {
    daemon: ServiceDaemon,
}

impl Announcer {
    /// Registers the records on the served interfaces; `None` after a warning if that fails.
    pub fn start(host: &Host, served: &[Served]) -> Option<Announcer> {
        match Self::try_start(host, served) {
            Ok(a) => Some(a),
            Err(e) => {
                tracing::warn!("mDNS announcement failed, the server is not announced: {e}");
                None
            }
        }
    }

    fn try_start(host: &Host, served: &[Served]) -> Result<Announcer, mdns_sd::Error> {
        let daemon = ServiceDaemon::new()?;
        daemon.disable_interface(IfKind::All)?;
        let mut names: Vec<&str> = served.iter().map(|s| s.interface.as_str()).collect();
        names.dedup();
        for name in &names {
            daemon.enable_interface(IfKind::Name((*name).to_owned()))?;
        }
        for info in services(host, served)? {
            daemon.register(info)?;
        }
        tracing::info!(interfaces = ?names, "announcing over mDNS as {}", host.netbios_name);
        Ok(Announcer { daemon })
    }

    /// Withdraws every record (goodbye packets, RFC 6762 section 10.1) and stops the responder.
    pub fn stop(self) {
        match self.daemon.shutdown() {
            Ok(done) => {
                let _ = done.recv_timeout(GOODBYE_WAIT);
            }
            Err(e) => tracing::debug!("mDNS shutdown: {e}"),
        }
    }
}

/// The service records announced for `host`.
pub fn services(host: &Host, served: &[Served]) -> Result<Vec<ServiceInfo>, mdns_sd::Error> {
    let name = host.netbios_name.as_str();
    let hostname = format!("{}.local.", dns_label(&host.netbios_name));
    let ips: Vec<IpAddr> = served.iter().map(|s| s.ip).collect();
    let ips = ips.as_slice();
    let no_txt: &[(&str, &str)] = &[];
    let model = [("model", host.model.as_str())];
    let mut out = vec![
        ServiceInfo::new(SMB, name, &hostname, ips, host.smb_port, no_txt)?,
        ServiceInfo::new(DEVICE_INFO, name, &hostname, ips, 0, &model[..])?,
    ];
    let disks = adisk_txt(&host.time_machine_shares);
    if !host.time_machine_shares.is_empty() {
        let txt: Vec<(&str, &str)> = disks
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        out.push(ServiceInfo::new(
            ADISK,
            name,
            &hostname,
            ips,
            ADISK_PORT,
            txt.as_slice(),
        )?);
    }
    Ok(out)
}

/// The netbios name as a host name label: lower case letters, digits and hyphens (RFC 1123 section 2.1).
fn dns_label(name: &str) -> String {
    let label: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let label = label.trim_matches('-');
    if label.is_empty() {
        "rsmbd".to_owned()
    } else {
        label.to_owned()
    }
}

/// The `_adisk._tcp` TXT entries for the Time Machine shares.
fn adisk_txt(shares: &[String]) -> Vec<(String, String)> {
    let mut txt = vec![("sys".to_owned(), "waMa=0,adVF=0x100".to_owned())];
    for (n, share) in shares.iter().enumerate() {
        txt.push((format!("dk{n}"), format!("adVN={share},adVF=0x82")));
    }
    txt
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(tm: &[&str]) -> Host {
        Host {
            netbios_name: "NAS".into(),
            workgroup: "WORKGROUP".into(),
            model: "RackMac".into(),
            smb_port: 445,
            time_machine_shares: tm.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn served() -> Vec<Served> {
        vec![Served {
            interface: "eth0".into(),
            index: 2,
            ip: "192.0.2.7".parse().unwrap(),
        }]
    }

    #[test]
    fn smb_and_device_info_always_adisk_only_with_time_machine_shares() {
        let plain = services(&host(&[]), &served()).unwrap();
        let types: Vec<&str> = plain.iter().map(|s| s.get_type()).collect();
        assert_eq!(types, [SMB, DEVICE_INFO]);
        let smb = &plain[0];
        assert_eq!(smb.get_fullname(), "NAS._smb._tcp.local.");
        assert_eq!(smb.get_port(), 445);
        assert_eq!(smb.get_hostname(), "nas.local.");
        assert!(smb
            .get_addresses()
            .contains(&"192.0.2.7".parse::<IpAddr>().unwrap()));
        assert_eq!(plain[1].get_property_val_str("model"), Some("RackMac"));

        let mut odd = host(&[]);
        odd.netbios_name = "MY NAS_1".into();
        assert_eq!(
            services(&odd, &served()).unwrap()[0].get_hostname(),
            "my-nas-1.local."
        );
        assert_eq!(dns_label("__"), "rsmbd");

        let tm = services(&host(&["Backups", "Other"]), &served()).unwrap();
        let adisk = &tm[2];
        assert_eq!(adisk.get_type(), ADISK);
        assert_eq!(adisk.get_property_val_str("sys"), Some("waMa=0,adVF=0x100"));
        assert_eq!(
            adisk.get_property_val_str("dk0"),
            Some("adVN=Backups,adVF=0x82")
        );
        assert_eq!(
            adisk.get_property_val_str("dk1"),
            Some("adVN=Other,adVF=0x82")
        );
    }
}
