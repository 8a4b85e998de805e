//! The server's network interfaces as FSCTL_QUERY_NETWORK_INTERFACE_INFO reports them (MS-SMB2
//! 3.3.5.15.11, 2.2.32.5 NETWORK_INTERFACE_INFO): one entry per address the server can be reached on,
//! for multichannel clients to open further connections to.
//!
//! Only addresses a listener accepts are listed (an unspecified listener accepts every address of its
//! family; the IPv6 one also IPv4), loopback addresses only to a client that itself came over
//! loopback, and no IPv6 link-local addresses (a client would need their zone). The addresses come
//! from getifaddrs (through the if-addrs crate); the link speed and RSS capability from sysfs
//! (`/sys/class/net/NAME/speed` in Mb/s; more than one receive queue means receive-side scaling).

use proto::messages::ioctl::{NetworkInterfaceInfo, RSS_CAPABLE};
use std::net::{IpAddr, SocketAddr};

/// Reported when the kernel does not know an interface's speed (loopback, many virtual devices).
const DEFAULT_LINK_SPEED: u64 = 1_000_000_000;

/// One address of one interface.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Address {
    pub name: String,
    pub index: u32,
    pub ip: IpAddr,
}

/// The interface entries for a client whose connection arrived at `local`, given the addresses the
/// server listens on.
pub fn list(listening: &[SocketAddr], local: IpAddr) -> Vec<NetworkInterfaceInfo> {
    let addrs = host_addresses();
    let listening: Vec<IpAddr> = listening.iter().map(SocketAddr::ip).collect();
    let mut chosen = select(&addrs, &listening, local);
    if chosen.is_empty() {
        // Nothing matched (an address the kernel did not report): the one the client used works.
        return vec![entry(0, "", local)];
    }
    chosen.sort_by_key(|a| a.index);
    chosen
        .into_iter()
        .map(|a| entry(a.index, &a.name, a.ip))
        .collect()
}

/// The addresses of the interfaces that are up, as the kernel lists them.
fn host_addresses() -> Vec<Address> {
    if_addrs::get_if_addrs()
        .unwrap_or_default()
        .into_iter()
        .filter(|i| i.oper_status != if_addrs::IfOperStatus::Down)
        .filter_map(|i| {
            let index = i.index?;
            Some(Address {
                ip: i.ip(),
                name: i.name,
                index,
            })
        })
        .collect()
}

/// The addresses other hosts reach the server at through its listeners `listening`: no loopback and
/// no IPv6 link-local address (network discovery announces these).
pub fn served(listening: &[SocketAddr]) -> Vec<Address> {
    let listening: Vec<IpAddr> = listening.iter().map(SocketAddr::ip).collect();
    let remote = IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED);
    select(&host_addresses(), &listening, remote)
        .into_iter()
        .cloned()
        .collect()
}

/// The addresses to report, in the order given.
pub fn select<'a>(addrs: &'a [Address], listening: &[IpAddr], local: IpAddr) -> Vec<&'a Address> {
    let via_loopback = local.is_loopback();
    addrs
        .iter()
        .filter(|a| listened(listening, a.ip))
        .filter(|a| via_loopback || !a.ip.is_loopback())
        .filter(|a| !is_ipv6_link_local(a.ip))
        .collect()
}

/// A listener on one of `listening` accepts connections to `ip`.
fn listened(listening: &[IpAddr], ip: IpAddr) -> bool {
    listening.iter().any(|l| match (l, ip) {
        (IpAddr::V6(l), _) if l.is_unspecified() => true,
        (IpAddr::V4(l), IpAddr::V4(_)) if l.is_unspecified() => true,
        (l, ip) => *l == ip,
    })
}

fn is_ipv6_link_local(ip: IpAddr) -> bool {
    matches!(ip, IpAddr::V6(v6) if v6.segments().first().is_some_and(|s| s & 0xffc0 == 0xfe80))
}

fn entry(index: u32, name: &str, ip: IpAddr) -> NetworkInterfaceInfo {
    let mut info = NetworkInterfaceInfo {
        if_index: index,
        capability: if receive_queues(name) > 1 {
            RSS_CAPABLE
        } else {
            0
        },
        link_speed: link_speed(name).unwrap_or(DEFAULT_LINK_SPEED),
        ipv4: None,
        ipv6: None,
    };
    match ip {
        IpAddr::V4(a) => info.ipv4 = Some(a.octets()),
        IpAddr::V6(a) => info.ipv6 = Some(a.octets()),
    }
    info
}

/// The sysfs directory of interface `name` (kernel interface names never hold '/').
fn sysfs(name: &str) -> Option<std::path::PathBuf> {
    let valid = !name.is_empty() && !name.contains('/') && name != "." && name != "..";
    valid.then(|| std::path::Path::new("/sys/class/net").join(name))
}

/// The link speed in bits per second, if the kernel knows it.
fn link_speed(name: &str) -> Option<u64> {
    let text = std::fs::read_to_string(sysfs(name)?.join("speed")).ok()?;
    let mbps: u64 = text.trim().parse().ok()?;
    mbps.checked_mul(1_000_000).filter(|s| *s > 0)
}

/// How many receive queues the interface has.
fn receive_queues(name: &str) -> usize {
    let Some(dir) = sysfs(name).and_then(|d| std::fs::read_dir(d.join("queues")).ok()) else {
        return 0;
    };
    dir.filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with("rx-"))
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(name: &str, index: u32, ip: &str) -> Address {
        Address {
            name: name.into(),
            index,
            ip: ip.parse().unwrap(),
        }
    }

    fn ips(chosen: Vec<&Address>) -> Vec<String> {
        chosen.iter().map(|a| a.ip.to_string()).collect()
    }

    fn host() -> Vec<Address> {
        vec![
            addr("lo", 1, "127.0.0.1"),
            addr("lo", 1, "::1"),
            addr("eth0", 2, "192.168.1.10"),
            addr("eth0", 2, "fe80::1"),
            addr("eth0", 2, "2001:db8::10"),
            addr("eth1", 3, "10.0.0.5"),
        ]
    }

    #[test]
    fn wildcard_listener_lists_every_routable_address_but_loopback() {
        let h = host();
        let chosen = select(
            &h,
            &["::".parse().unwrap()],
            "192.168.1.10".parse().unwrap(),
        );
        assert_eq!(ips(chosen), ["192.168.1.10", "2001:db8::10", "10.0.0.5"]);
    }

    #[test]
    fn ipv4_wildcard_lists_only_ipv4() {
        let h = host();
        let chosen = select(
            &h,
            &["0.0.0.0".parse().unwrap()],
            "10.0.0.5".parse().unwrap(),
        );
        assert_eq!(ips(chosen), ["192.168.1.10", "10.0.0.5"]);
    }

    #[test]
    fn bound_addresses_list_only_themselves_and_loopback_only_over_loopback() {
        let h = host();
        let listening = ["127.0.0.1".parse().unwrap(), "10.0.0.5".parse().unwrap()];
        let remote = select(&h, &listening, "10.0.0.5".parse().unwrap());
        assert_eq!(ips(remote), ["10.0.0.5"]);
        let local = select(&h, &listening, "127.0.0.1".parse().unwrap());
        assert_eq!(ips(local), ["127.0.0.1", "10.0.0.5"]);
    }

    #[test]
    fn loopback_only_server_reports_the_loopback_interface() {
        let listening = [SocketAddr::from(([127, 0, 0, 1], 445))];
        let list = list(&listening, "127.0.0.1".parse().unwrap());
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].ipv4, Some([127, 0, 0, 1]));
        assert!(list[0].link_speed > 0);
    }

    #[test]
    fn a_loopback_only_server_serves_no_other_host() {
        assert!(served(&[SocketAddr::from(([127, 0, 0, 1], 445))]).is_empty());
        let all = served(&[SocketAddr::from(([0, 0, 0, 0], 445))]);
        assert!(all.iter().all(|a| !a.ip.is_loopback()));
    }

    #[test]
    fn interface_names_cannot_leave_sysfs() {
        assert!(sysfs("../../etc").is_none());
        assert!(sysfs("..").is_none());
        assert!(sysfs("").is_none());
        assert_eq!(link_speed("no-such-interface-x"), None);
    }
}
