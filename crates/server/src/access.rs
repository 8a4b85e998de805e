//! Share access by client address and user (Samba's `hosts allow`, `hosts deny`, `valid users`,
//! `invalid users`): the lists are parsed once at start-up and checked at TREE_CONNECT.

use std::net::IpAddr;

/// One entry of a hosts list.
#[derive(Clone, Debug, PartialEq, Eq)]
enum HostPattern {
    All,
    /// An address or network: `10.1.2.3`, `10.0.0.0/8`, `fe80::/10`.
    Net(IpAddr, u8),
    /// Samba's prefix form: `192.168.1.` matches every address starting with those octets.
    Prefix(String),
}

impl HostPattern {
    fn parse(text: &str) -> Result<HostPattern, String> {
        if text.eq_ignore_ascii_case("ALL") {
            return Ok(HostPattern::All);
        }
        if text.ends_with('.') && text.chars().all(|c| c.is_ascii_digit() || c == '.') {
            return Ok(HostPattern::Prefix(text.to_owned()));
        }
        let (addr, len) = match text.split_once('/') {
            Some((a, l)) => (a, Some(l)),
            None => (text, None),
        };
        let ip: IpAddr = addr.parse().map_err(|_| {
            format!("'{text}' is not an address or network (host names are not supported)")
        })?;
        let max = if ip.is_ipv4() { 32 } else { 128 };
        let len = match len {
            None => max,
            Some(l) => l
                .parse::<u8>()
                .ok()
                .filter(|l| *l <= max)
                .ok_or_else(|| format!("bad prefix length in '{text}'"))?,
        };
        Ok(HostPattern::Net(ip, len))
    }

    fn matches(&self, ip: IpAddr) -> bool {
        match self {
            HostPattern::All => true,
            HostPattern::Prefix(p) => ip.is_ipv4() && ip.to_string().starts_with(p.as_str()),
            HostPattern::Net(net, len) => same_prefix(*net, ip, *len),
        }
    }
}

fn same_prefix(a: IpAddr, b: IpAddr, len: u8) -> bool {
    let bits = |ip: IpAddr| match ip {
        IpAddr::V4(v) => (u128::from(u32::from(v)), 32u32),
        IpAddr::V6(v) => (u128::from(v), 128u32),
    };
    let ((a, wa), (b, wb)) = (bits(a), bits(b));
    if wa != wb {
        return false;
    }
    let shift = wa.saturating_sub(u32::from(len));
    a.checked_shr(shift).unwrap_or(0) == b.checked_shr(shift).unwrap_or(0)
}

/// A hosts list: entries, optionally followed by `EXCEPT` and exceptions.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HostList {
    include: Vec<HostPattern>,
    except: Vec<HostPattern>,
}

impl HostList {
    pub fn parse(items: &[String]) -> Result<HostList, String> {
        let mut list = HostList::default();
        let mut in_except = false;
        for item in items {
            if item.eq_ignore_ascii_case("EXCEPT") {
                in_except = true;
                continue;
            }
            let p = HostPattern::parse(item)?;
            if in_except {
                list.except.push(p)
            } else {
                list.include.push(p)
            }
        }
        Ok(list)
    }

    fn is_empty(&self) -> bool {
        self.include.is_empty()
    }

    fn matches(&self, ip: IpAddr) -> bool {
        self.include.iter().any(|p| p.matches(ip)) && !self.except.iter().any(|p| p.matches(ip))
    }
}

/// `hosts allow` and `hosts deny` of one share.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HostAccess {
    pub allow: HostList,
    pub deny: HostList,
}

impl HostAccess {
    /// Samba's rule: with only an allow list, only those hosts; with only a deny list, all but those;
    /// with both, a host in the allow list is admitted even if the deny list names it.
    pub fn permits(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        match (self.allow.is_empty(), self.deny.is_empty()) {
            (true, true) => true,
            (false, true) => self.allow.matches(ip),
            (true, false) => !self.deny.matches(ip),
            (false, false) => self.allow.matches(ip) || !self.deny.matches(ip),
        }
    }
}

/// Whether `user` (with Unix groups `gids`) is named in a user list: by name, or as `@group` / `+group`.
pub fn in_user_list(
    list: &[String],
    user: &str,
    gids: &[u32],
    group_id: impl Fn(&str) -> Option<u32>,
) -> bool {
    list.iter().any(
        |entry| match entry.strip_prefix('@').or_else(|| entry.strip_prefix('+')) {
            Some(group) => group_id(group).is_some_and(|g| gids.contains(&g)),
            None => entry.eq_ignore_ascii_case(user),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts(allow: &[&str], deny: &[&str]) -> HostAccess {
        let l = |v: &[&str]| {
            HostList::parse(&v.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap()
        };
        HostAccess {
            allow: l(allow),
            deny: l(deny),
        }
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn allow_deny_except() {
        assert!(hosts(&[], &[]).permits(ip("1.2.3.4")));
        let h = hosts(&["10.0.0.0/8", "192.168.1."], &[]);
        assert!(h.permits(ip("10.9.8.7")) && h.permits(ip("192.168.1.20")));
        assert!(!h.permits(ip("192.168.10.1")) && !h.permits(ip("11.0.0.1")));
        assert!(
            h.permits(ip("::ffff:10.1.1.1")),
            "IPv4-mapped peers match IPv4 lists"
        );
        let d = hosts(&[], &["ALL", "EXCEPT", "127.0.0.1"]);
        assert!(d.permits(ip("127.0.0.1")) && !d.permits(ip("127.0.0.2")));
        let both = hosts(&["127.0.0.1"], &["ALL"]);
        assert!(both.permits(ip("127.0.0.1")) && !both.permits(ip("::1")));
        let v6 = hosts(&["fe80::/10"], &[]);
        assert!(v6.permits(ip("fe80::1")) && !v6.permits(ip("2001:db8::1")));
    }

    #[test]
    fn bad_entries_are_errors() {
        assert!(HostList::parse(&["server.example".into()]).is_err());
        assert!(HostList::parse(&["10.0.0.0/33".into()]).is_err());
    }

    #[test]
    fn user_lists_with_groups() {
        let groups = |g: &str| (g == "staff").then_some(50);
        let list = vec!["Alice".to_string(), "@staff".to_string()];
        assert!(in_user_list(&list, "alice", &[1000], groups));
        assert!(in_user_list(&list, "bob", &[1001, 50], groups));
        assert!(!in_user_list(&list, "carol", &[1002], groups));
    }
}
