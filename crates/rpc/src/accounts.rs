//! The accounts lsarpc and samr translate between names and SIDs (MS-LSAT 3.1.4, MS-SAMR 3.1.5), built from the
//! [`Provider`] on every call.
//!
//! Mapping:
//! - The account domain is the machine itself: its name is the NetBIOS name (a standalone server is its own
//!   domain) and its SID the provider's [`Provider::domain_sid`] (S-1-5-21-x-y-z).
//! - A user's RID is 1000 + 2 * uid and a group's RID 1001 + 2 * gid, Samba's algorithmic mapping, so one uid has
//!   the same SID on both servers. Users whose RID would not fit in 32 bits are left out.
//! - RID 500 "Administrator" (a user) and RID 513 "None" (the group every user has as its primary group) are
//!   answered when asked for by name or SID; they are not enumerated and cannot be opened.
//! - The BUILTIN domain (S-1-5-32) holds the aliases Administrators (544), Users (545) and Guests (546).
//! - An isolated name is looked up as a domain name, then in BUILTIN, then in the account domain (the order
//!   MS-LSAT gives for isolated names), then among the well-known names; "DOMAIN\name" only in the named
//!   domain. Names compare case-insensitively.
//! - LSA also translates the SIDs security descriptors hold (MS-DTYP 2.4.2.4): Everyone (S-1-1-0), CREATOR
//!   OWNER / CREATOR GROUP / OWNER RIGHTS (S-1-3-0, -1, -4), NT AUTHORITY\Authenticated Users and SYSTEM
//!   (S-1-5-11, -18), and Samba's "Unix User" (S-1-22-1-uid, a user of the provider) and "Unix Group"
//!   (S-1-22-2-gid, unnamed: no group database here) domains. SAMR serves only the account domain and BUILTIN.

use crate::sid::Sid;
use crate::{Provider, UserInfo};

/// The first RID of the algorithmic mapping.
const RID_BASE: u32 = 1000;
/// DOMAIN_USER_RID_ADMIN.
pub const RID_ADMINISTRATOR: u32 = 500;
/// DOMAIN_GROUP_RID_USERS, named "None" on a standalone server.
pub const RID_NONE: u32 = 513;
/// The BUILTIN domain: S-1-5-32.
const BUILTIN_AUTHORITY: u64 = 5;
const BUILTIN_RID: u32 = 32;
const BUILTIN_ALIASES: [(u32, &str); 3] =
    [(544, "Administrators"), (545, "Users"), (546, "Guests")];
const WELL_KNOWN: [(u32, &str, SidNameUse); 2] = [
    (RID_ADMINISTRATOR, "Administrator", SidNameUse::User),
    (RID_NONE, "None", SidNameUse::Group),
];

/// USER_ACCOUNT_DISABLED and USER_NORMAL_ACCOUNT (MS-SAMR 2.2.1.12).
pub const USER_ACCOUNT_DISABLED: u32 = 0x0000_0001;
pub const USER_NORMAL_ACCOUNT: u32 = 0x0000_0010;

/// The domains this server answers for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Domain {
    /// The machine's own account domain.
    Account,
    /// S-1-5-32.
    Builtin,
    /// NT AUTHORITY, S-1-5 (LSA only).
    NtAuthority,
    /// The unnamed domain of Everyone, S-1-1 (LSA only).
    World,
    /// The unnamed domain of CREATOR OWNER, S-1-3 (LSA only).
    Creator,
    /// Samba's "Unix User" domain, S-1-22-1 (LSA only).
    UnixUser,
    /// Samba's "Unix Group" domain, S-1-22-2 (LSA only).
    UnixGroup,
}

impl Domain {
    /// The domains SAMR serves.
    pub const SAM: [Domain; 2] = [Domain::Account, Domain::Builtin];
    /// Every domain LSA translates in, in the order isolated names are looked up.
    const LSA: [Domain; 7] = [
        Domain::Builtin,
        Domain::Account,
        Domain::NtAuthority,
        Domain::World,
        Domain::Creator,
        Domain::UnixUser,
        Domain::UnixGroup,
    ];
}

/// Well-known principals (MS-DTYP 2.4.2.4): domain, RID, name.
const WELL_KNOWN_GROUPS: [(Domain, u32, &str); 7] = [
    (Domain::World, 0, "Everyone"),
    (Domain::Creator, 0, "CREATOR OWNER"),
    (Domain::Creator, 1, "CREATOR GROUP"),
    (Domain::Creator, 4, "OWNER RIGHTS"),
    (Domain::NtAuthority, 7, "ANONYMOUS LOGON"),
    (Domain::NtAuthority, 11, "Authenticated Users"),
    (Domain::NtAuthority, 18, "SYSTEM"),
];

/// SID_NAME_USE (MS-LSAT 2.2.13, MS-SAMR 2.2.2.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SidNameUse {
    User = 1,
    Group = 2,
    Domain = 3,
    Alias = 4,
    WellKnownGroup = 5,
    Unknown = 8,
}

impl SidNameUse {
    pub fn value(self) -> u16 {
        self as u16
    }
}

/// One account of a domain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    pub rid: u32,
    pub name: String,
    pub kind: SidNameUse,
}

/// The result of translating one name or SID.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Translation {
    pub kind: SidNameUse,
    /// The domain the principal (or the unknown SID) belongs to.
    pub domain: Option<Domain>,
    /// `None` for a domain itself or an unknown principal.
    pub rid: Option<u32>,
    /// The isolated name; for an unknown SID its string form.
    pub name: String,
}

impl Translation {
    pub fn is_mapped(&self) -> bool {
        self.kind != SidNameUse::Unknown
    }
}

/// The server's accounts at the time of a call.
#[derive(Debug)]
pub struct Directory {
    pub netbios_name: String,
    pub domain_sid: Sid,
    /// (RID, user), ordered by RID.
    users: Vec<(u32, UserInfo)>,
}

/// The RID of a uid: 1000 + 2 * uid.
pub fn user_rid(uid: u32) -> Option<u32> {
    uid.checked_mul(2)?.checked_add(RID_BASE)
}

/// USER_NORMAL_ACCOUNT, plus USER_ACCOUNT_DISABLED for a disabled account.
pub fn account_control(user: &UserInfo) -> u32 {
    if user.disabled {
        USER_NORMAL_ACCOUNT | USER_ACCOUNT_DISABLED
    } else {
        USER_NORMAL_ACCOUNT
    }
}

impl Directory {
    pub fn new(provider: &dyn Provider) -> Self {
        let server = provider.server();
        let mut users: Vec<(u32, UserInfo)> = provider
            .users()
            .into_iter()
            .filter_map(|u| Some((user_rid(u.uid)?, u)))
            .collect();
        users.sort_by_key(|(rid, _)| *rid);
        users.dedup_by_key(|(rid, _)| *rid);
        Directory {
            netbios_name: server.netbios_name,
            domain_sid: provider.domain_sid(),
            users,
        }
    }

    /// The users of the account domain, ordered by RID.
    pub fn users(&self) -> &[(u32, UserInfo)] {
        &self.users
    }

    pub fn user(&self, rid: u32) -> Option<&UserInfo> {
        self.users.iter().find(|(r, _)| *r == rid).map(|(_, u)| u)
    }

    /// The LSA name of a domain: the NetBIOS name, "BUILTIN", "NT AUTHORITY", "Unix User", ...
    pub fn domain_name(&self, domain: Domain) -> &str {
        match domain {
            Domain::Account => &self.netbios_name,
            Domain::Builtin => "BUILTIN",
            Domain::NtAuthority => "NT AUTHORITY",
            Domain::World | Domain::Creator => "",
            Domain::UnixUser => "Unix User",
            Domain::UnixGroup => "Unix Group",
        }
    }

    pub fn domain_sid(&self, domain: Domain) -> Sid {
        match domain {
            Domain::Account => self.domain_sid.clone(),
            Domain::Builtin => Sid::new(BUILTIN_AUTHORITY, &[BUILTIN_RID]),
            Domain::NtAuthority => Sid::new(5, &[]),
            Domain::World => Sid::new(1, &[]),
            Domain::Creator => Sid::new(3, &[]),
            Domain::UnixUser => Sid::new(22, &[1]),
            Domain::UnixGroup => Sid::new(22, &[2]),
        }
    }

    /// The SAM domain with this SID.
    pub fn domain_with_sid(&self, sid: &Sid) -> Option<Domain> {
        self.find_domain(&Domain::SAM, |d| self.domain_sid(d) == *sid)
    }

    /// The SAM domain with this name (case-insensitive, so "Builtin" names BUILTIN).
    pub fn domain_named(&self, name: &str) -> Option<Domain> {
        self.find_domain(&Domain::SAM, |d| {
            self.domain_name(d).eq_ignore_ascii_case(name)
        })
    }

    fn find_domain(&self, among: &[Domain], matches: impl Fn(Domain) -> bool) -> Option<Domain> {
        among.iter().copied().find(|d| matches(*d))
    }

    /// The LSA domain with this name; the unnamed ones are not found by name.
    fn lsa_domain_named(&self, name: &str) -> Option<Domain> {
        self.find_domain(&Domain::LSA, |d| {
            let own = self.domain_name(d);
            !own.is_empty() && own.eq_ignore_ascii_case(name)
        })
    }

    /// The account with this RID in a domain.
    pub fn account_by_rid(&self, domain: Domain, rid: u32) -> Option<Account> {
        let (name, kind) = match domain {
            Domain::Account => match self.user(rid) {
                Some(user) => (user.name.as_str(), SidNameUse::User),
                None => WELL_KNOWN
                    .iter()
                    .find(|(r, _, _)| *r == rid)
                    .map(|(_, n, k)| (*n, *k))?,
            },
            Domain::Builtin => BUILTIN_ALIASES
                .iter()
                .find(|(r, _)| *r == rid)
                .map(|(_, n)| (*n, SidNameUse::Alias))?,
            Domain::UnixUser => self
                .users
                .iter()
                .find(|(_, u)| u.uid == rid)
                .map(|(_, u)| (u.name.as_str(), SidNameUse::User))?,
            Domain::UnixGroup => return None,
            Domain::NtAuthority | Domain::World | Domain::Creator => WELL_KNOWN_GROUPS
                .iter()
                .find(|(d, r, _)| *d == domain && *r == rid)
                .map(|(_, _, n)| (*n, SidNameUse::WellKnownGroup))?,
        };
        Some(Account {
            rid,
            name: name.to_owned(),
            kind,
        })
    }

    /// The account with this name in a domain (case-insensitive; real users before the well-known names).
    pub fn account_by_name(&self, domain: Domain, name: &str) -> Option<Account> {
        let wanted = name.to_lowercase();
        let matches = |candidate: &str| candidate.to_lowercase() == wanted;
        let rid = match domain {
            Domain::Account => self
                .users
                .iter()
                .find(|(_, u)| matches(&u.name))
                .map(|(rid, _)| *rid)
                .or_else(|| {
                    WELL_KNOWN
                        .iter()
                        .find(|(_, n, _)| matches(n))
                        .map(|(r, _, _)| *r)
                }),
            Domain::Builtin => BUILTIN_ALIASES
                .iter()
                .find(|(_, n)| matches(n))
                .map(|(r, _)| *r),
            Domain::UnixUser => self
                .users
                .iter()
                .find(|(_, u)| matches(&u.name))
                .map(|(_, u)| u.uid),
            Domain::UnixGroup => None,
            Domain::NtAuthority | Domain::World | Domain::Creator => WELL_KNOWN_GROUPS
                .iter()
                .find(|(d, _, n)| *d == domain && matches(n))
                .map(|(_, r, _)| *r),
        }?;
        self.account_by_rid(domain, rid)
    }

    /// Translates a SID (MS-LSAT 3.1.4.9 in outline): a domain SID, an account of a known domain, or unknown.
    pub fn lookup_sid(&self, sid: &Sid) -> Translation {
        if let Some(domain) = self.find_domain(&Domain::LSA, |d| self.domain_sid(d) == *sid) {
            return Translation {
                kind: SidNameUse::Domain,
                domain: Some(domain),
                rid: None,
                name: self.domain_name(domain).to_owned(),
            };
        }
        for domain in Domain::LSA {
            if let Some(rid) = sid.rid_in(&self.domain_sid(domain)) {
                return match self.account_by_rid(domain, rid) {
                    Some(account) => found(domain, account),
                    None => unknown(Some(domain), sid.to_string()),
                };
            }
        }
        unknown(None, sid.to_string())
    }

    /// Translates a name, isolated or "DOMAIN\name".
    pub fn lookup_name(&self, name: &str) -> Translation {
        if let Some((domain_name, account)) = name.split_once('\\') {
            let Some(domain) = self.lsa_domain_named(domain_name) else {
                return unknown(None, name.to_owned());
            };
            if account.is_empty() {
                return self.domain_translation(domain);
            }
            return match self.account_by_name(domain, account) {
                Some(a) => found(domain, a),
                None => unknown(None, name.to_owned()),
            };
        }
        if let Some(domain) = self.lsa_domain_named(name) {
            return self.domain_translation(domain);
        }
        Domain::LSA
            .into_iter()
            .find_map(|d| self.account_by_name(d, name).map(|a| found(d, a)))
            .unwrap_or_else(|| unknown(None, name.to_owned()))
    }

    fn domain_translation(&self, domain: Domain) -> Translation {
        Translation {
            kind: SidNameUse::Domain,
            domain: Some(domain),
            rid: None,
            name: self.domain_name(domain).to_owned(),
        }
    }
}

fn found(domain: Domain, account: Account) -> Translation {
    Translation {
        kind: account.kind,
        domain: Some(domain),
        rid: Some(account.rid),
        name: account.name,
    }
}

fn unknown(domain: Option<Domain>, name: String) -> Translation {
    Translation {
        kind: SidNameUse::Unknown,
        domain,
        rid: None,
        name,
    }
}
