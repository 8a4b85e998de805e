//! Server settings and shares from the configuration (the `[global]` and share sections of smb.conf):
//! used by `rsmbd serve` at start and by `reload`, so the binary only parses arguments and runs.

use crate::{ServerSettings, ShareEntry};
use config::{Config, MapToGuest, ShareConfig};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The server's settings from `[global]`; `passdb_path` is where the password database (and the
/// machine SID beside it) lives.
pub fn settings(config: &Config, passdb_path: PathBuf) -> Result<ServerSettings, String> {
    let g = &config.global;
    let mut server_guid = [0u8; 16];
    getrandom::fill(&mut server_guid).map_err(|e| format!("no system randomness: {e}"))?;
    let guest_uid = vfs::Identity::lookup_name(&g.guest_account).map_or(65534, |i| i.uid);
    // A smaller `max pdu size` lowers the read, write and transact sizes offered to clients.
    let io_cap = u32::try_from(g.max_frame_len())
        .unwrap_or(u32::MAX)
        .saturating_sub(config::limits::PDU_OVERHEAD);
    Ok(ServerSettings {
        min_dialect: g.server_min_protocol.dialect(),
        max_dialect: g.server_max_protocol.dialect(),
        server_guid,
        start_time: 0,
        netbios_name: g.netbios_name.clone(),
        server_string: g.server_string.clone(),
        workgroup: g.workgroup.clone(),
        dns_name: g.netbios_name.to_lowercase(),
        max_credits: g.smb2_max_credits,
        max_read: g.smb2_max_read.min(io_cap),
        max_write: g.smb2_max_write.min(io_cap),
        max_trans: g.smb2_max_trans.min(io_cap),
        max_frame_len: g.max_frame_len(),
        require_signing: g.server_signing == config::ServerSigning::Mandatory,
        encrypt: g.smb_encrypt,
        ciphers: g
            .encryption_algorithms
            .iter()
            .filter_map(|n| cipher_by_name(n))
            .collect(),
        signing_algorithms: g
            .signing_algorithms
            .iter()
            .filter_map(|n| signing_by_name(n))
            .collect(),
        allow_anonymous: g.restrict_anonymous == 0,
        map_unknown_to_guest: g.map_to_guest == MapToGuest::BadUser,
        guest_uid,
        domain_sid: domain_sid(&passdb_path)?,
        passdb_path,
        kerberos: kerberos_service(g)?,
        ntlm_disabled: g.kerberos.ntlm_disabled,
        username_map: Arc::new(match &g.kerberos.username_map {
            Some(path) => crate::username_map::UsernameMap::load(path)?,
            None => Default::default(),
        }),
        logon_failure_delay: std::time::Duration::from_millis(g.logon_failure_delay_ms),
        max_logon_failures: g.max_logon_failures,
        logon_failure_window: std::time::Duration::from_secs(g.logon_failure_window_secs),
        limits: g.limits.clone(),
        kernel_change_notify: g.kernel_change_notify,
        oplock_break_timeout: std::time::Duration::from_secs(g.oplock_break_timeout_secs),
        durable_handle_timeout: std::time::Duration::from_secs(g.durable_handle_timeout_secs),
        multi_channel: g.multi_channel,
        leases: g.smb2_leases,
        directory_leases: g.smb2_leases && g.smb3_directory_leases,
        model: g.discovery.model.clone(),
    })
}

/// The Kerberos acceptor, when a keytab is configured (`kerberos method`, `dedicated keytab file`);
/// the keytab is read now, as root, and a keytab that cannot be read stops the server with a message.
fn kerberos_service(
    g: &config::Global,
) -> Result<Option<Arc<auth::kerberos::KerberosService>>, String> {
    let system = std::env::var("KRB5_KTNAME")
        .unwrap_or_else(|_| config::kerberos::SYSTEM_KEYTAB.to_string());
    let Some(path) = g.kerberos.keytab(&system) else {
        if g.kerberos.ntlm_disabled {
            return Err(
                "ntlm auth = disabled needs Kerberos: set kerberos method and a keytab".into(),
            );
        }
        return Ok(None);
    };
    let keys = auth::kerberos::keytab::load(&path)
        .map_err(|e| format!("kerberos: cannot use keytab {path}: {e}"))?;
    let usable = keys.iter().filter(|k| matches!(k.etype, 17 | 18)).count();
    if usable == 0 {
        return Err(format!(
            "kerberos: keytab {path} holds no AES key (aes128/aes256-cts-hmac-sha1-96)"
        ));
    }
    let mut principals: Vec<String> = keys.iter().map(|k| k.principal()).collect();
    principals.dedup();
    tracing::info!(
        "kerberos: {usable} AES keys from {path} for {}",
        principals.join(", ")
    );
    Ok(Some(Arc::new(auth::kerberos::KerberosService::new(
        keys,
        g.kerberos.realm.clone(),
    ))))
}

/// The machine SID from `domain_sid` beside the password database, created with random sub-authorities
/// the first time (MS-DTYP 2.4.2: S-1-5-21 and three 32-bit values).
fn domain_sid(passdb: &Path) -> Result<rpc::Sid, String> {
    let file = passdb.with_file_name("domain_sid");
    if let Ok(text) = std::fs::read_to_string(&file) {
        return rpc::Sid::parse(text.trim())
            .ok_or_else(|| format!("{}: not a SID", file.display()));
    }
    let mut r = [0u8; 12];
    getrandom::fill(&mut r).map_err(|e| format!("no system randomness: {e}"))?;
    let sub = |i: usize| {
        r.get(i..i + 4)
            .and_then(|b| <[u8; 4]>::try_from(b).ok())
            .map_or(0, u32::from_le_bytes)
    };
    let sid = rpc::Sid {
        authority: 5,
        sub_authorities: vec![21, sub(0), sub(4), sub(8)],
    };
    if let Some(dir) = file.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    std::fs::write(&file, format!("{sid}\n")).map_err(|e| format!("{}: {e}", file.display()))?;
    Ok(sid)
}

/// Samba's names for the SMB 3.1.1 ciphers (validated by the config crate).
fn cipher_by_name(name: &str) -> Option<crypto::Cipher> {
    use crypto::Cipher::*;
    Some(match name {
        "aes-128-gcm" => Aes128Gcm,
        "aes-256-gcm" => Aes256Gcm,
        "aes-128-ccm" => Aes128Ccm,
        "aes-256-ccm" => Aes256Ccm,
        _ => return None,
    })
}

/// Samba's names for the SMB 3.1.1 signing algorithms.
fn signing_by_name(name: &str) -> Option<crypto::SigningAlgorithm> {
    use crypto::SigningAlgorithm::*;
    Some(match name {
        "aes-128-gmac" => AesGmac,
        "aes-128-cmac" => AesCmac,
        "hmac-sha-256" => HmacSha256,
        _ => return None,
    })
}

fn hosts_list(
    share: &str,
    param: &str,
    items: &[String],
) -> Result<crate::access::HostList, String> {
    crate::access::HostList::parse(items).map_err(|e| format!("share [{share}]: {param}: {e}"))
}

/// Opens every available share of the configuration (also used by `reload`).
pub fn open_shares(shares: &[ShareConfig]) -> Result<Vec<ShareEntry>, String> {
    shares
        .iter()
        .filter(|s| s.available)
        .map(open_share)
        .collect()
}

fn open_share(s: &ShareConfig) -> Result<ShareEntry, String> {
    let opts = vfs::ShareOptions {
        follow_symlinks: s.follow_symlinks,
        // With a `write list` some users may write to a read-only share; the tree's grant then decides.
        read_only: s.read_only && s.write_list.is_empty() && s.admin_users.is_empty(),
        store_dos_attributes: s.store_dos_attributes,
        ea_support: s.ea_support,
        streams: s.streams(),
        case_sensitive: s.case_sensitive,
        create_mask: s.create_mask,
        force_create_mode: s.force_create_mode,
        directory_mask: s.directory_mask,
        force_directory_mode: s.force_directory_mode,
        fruit: crate::fruit::vfs_options(s),
    };
    let vfs = vfs::Share::open(&s.path, opts).map_err(|e| {
        format!(
            "share [{}]: cannot open path {}: {e}",
            s.name,
            s.path.display()
        )
    })?;
    Ok(ShareEntry {
        name: s.name.clone(),
        comment: s.comment.clone(),
        vfs: Some(vfs),
        read_only: s.read_only,
        browseable: s.browseable,
        guest_ok: s.guest_ok,
        valid_users: s.valid_users.clone(),
        invalid_users: s.invalid_users.clone(),
        hosts: crate::access::HostAccess {
            allow: hosts_list(&s.name, "hosts allow", &s.hosts_allow)?,
            deny: hosts_list(&s.name, "hosts deny", &s.hosts_deny)?,
        },
        encrypt: s.smb_encrypt,
        policy: share_policy(s)?,
        names: crate::names::NameFilter::new(
            s.hide_dot_files,
            &s.hide_files,
            &crate::fruit::veto_files(s),
            s.delete_veto_files,
        )
        .with_veto_oplock(&s.veto_oplock_files),
        trees: Default::default(),
        change_notify: s.change_notify,
        oplocks: s.oplocks,
        level2_oplocks: s.level2_oplocks,
        durable_handles: crate::fruit::durable_handles(s),
        acls: crate::nt_acl::AclPolicy {
            support: s.nt_acl_support,
            store: s.stores_nt_acls(),
            inherit_owner: s.inherit_owner,
            canonicalize_inherited: s.acl_flag_inherited_canonicalization,
            hide_unreadable: s.hide_unreadable,
        },
        fruit: crate::fruit::FruitShare::from_config(s),
    })
}

/// `force user` and `force group` must name existing accounts.
fn share_policy(s: &ShareConfig) -> Result<crate::share_policy::SharePolicy, String> {
    let force_user = match &s.force_user {
        Some(name) => Some(Arc::new(vfs::Identity::lookup_name(name).ok_or_else(
            || format!("share [{}]: force user: no Unix user '{name}'", s.name),
        )?)),
        None => None,
    };
    let force_group = match &s.force_group {
        Some(name) => Some(
            vfs::group_id(name.trim_start_matches(['+', '@'])).ok_or_else(|| {
                format!("share [{}]: force group: no Unix group '{name}'", s.name)
            })?,
        ),
        None => None,
    };
    Ok(crate::share_policy::SharePolicy {
        read_list: s.read_list.clone(),
        write_list: s.write_list.clone(),
        admin_users: s.admin_users.clone(),
        force_user,
        force_group,
        guest_only: s.guest_only,
        max_connections: s.max_connections,
    })
}
