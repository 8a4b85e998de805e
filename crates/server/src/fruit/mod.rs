//! Apple's SMB extensions on shares whose `vfs objects` name `fruit` (issue 18), with the behaviour of
//! Samba's vfs_fruit module as its manual page vfs_fruit(8) describes it: the AAPL create context
//! ([`aapl`]), and the per-connection state it negotiates. Finder metadata and resource forks are kept
//! by `vfs` (its `fruit` module) in Samba's on-disk layouts.

pub mod aapl;
pub mod time_machine;

use std::sync::OnceLock;

/// A share's vfs_fruit settings.
#[derive(Debug, Clone, Default)]
pub struct FruitShare {
    pub config: config::fruit::FruitConfig,
    /// `fruit:time machine`.
    pub time_machine: bool,
    /// `case sensitive = yes`: the volume capability macOS is told about.
    pub case_sensitive: bool,
}

impl FruitShare {
    /// The share's fruit settings when `vfs objects` names `fruit`.
    pub fn from_config(s: &config::ShareConfig) -> Option<FruitShare> {
        s.fruit_enabled().then(|| FruitShare {
            config: s.fruit.clone(),
            time_machine: s.time_machine,
            case_sensitive: s.case_sensitive,
        })
    }
}

/// How the vfs keeps Finder metadata on the share `s`; None without `fruit`.
pub fn vfs_options(s: &config::ShareConfig) -> Option<vfs::fruit::FruitOptions> {
    use config::fruit::{MetadataStore, ResourceStore};
    s.fruit_enabled().then_some(vfs::fruit::FruitOptions {
        metadata: match s.fruit.metadata {
            MetadataStore::Netatalk => vfs::fruit::MetadataStore::Netatalk,
            MetadataStore::Stream => vfs::fruit::MetadataStore::Stream,
        },
        // `xattr` (the `org.netatalk.ResourceFork` attribute) cannot hold more than 64 KiB on Linux,
        // where Samba refuses it too; rsmbd keeps such forks as streams.
        resource: match s.fruit.resource {
            ResourceStore::File => vfs::fruit::ResourceStore::File,
            ResourceStore::Xattr | ResourceStore::Stream => vfs::fruit::ResourceStore::Stream,
        },
    })
}

/// `stat` as file ids are shown to this connection: `fruit:zero_file_id` hides them (0) from clients
/// that negotiated AAPL, so macOS does not rely on ids the server cannot resolve.
pub fn file_id_view(
    apple: &AppleConn,
    share: Option<&FruitShare>,
    stat: &vfs::FileStat,
) -> vfs::FileStat {
    let mut shown = stat.clone();
    if share.is_some_and(|s| s.config.zero_file_id) && apple.negotiated() {
        shown.ino = 0;
    }
    shown
}

/// The resource fork of the object `o` when it lives in an AppleDouble file and is not empty, as
/// FileStreamInformation lists it (the other streams come from the object itself).
pub fn resource_file_stream(
    o: &crate::open::Open,
) -> Result<Option<vfs::StreamInfo>, proto::NtStatus> {
    let size = o.tree.vfs()?.resource_fork_len(&o.path());
    Ok((size > 0).then(|| vfs::StreamInfo {
        name: vfs::fruit::AFP_RESOURCE.to_owned(),
        size,
        alloc_size: size.div_ceil(4096).saturating_mul(4096),
    }))
}

/// What a connection's directory listings carry for macOS.
#[derive(Debug, Clone, Copy, Default)]
pub struct Listing {
    /// READ_DIR_ATTR: Finder information in each entry.
    finder: bool,
    /// `fruit:zero_file_id` after AAPL: file ids shown as 0.
    zero_ids: bool,
}

/// The listing behaviour for a connection on a share.
pub fn listing(apple: &AppleConn, share: Option<&FruitShare>) -> Listing {
    let Some(share) = share else {
        return Listing::default();
    };
    Listing {
        finder: apple.read_dir_attr(),
        zero_ids: share.config.zero_file_id && apple.negotiated(),
    }
}

/// Adds what `listing` asks for to the entry `info` of `entry` in the directory `open`.
pub fn enrich(
    open: &crate::open::Open,
    listing: &Listing,
    entry: &vfs::DirEntry,
    info: &mut proto::fscc::DirEntryInfo<'_>,
) {
    if listing.zero_ids {
        info.file_id = 0;
    }
    if !listing.finder || entry.name == "." || entry.name == ".." {
        return;
    }
    let (Some(share), Ok(path)) = (open.tree.share.vfs.as_ref(), open.path().join(&entry.name))
    else {
        return;
    };
    let (rfork_len, finder_info) = share.finder_summary(&path);
    info.apple = Some(proto::fscc::AppleDirInfo {
        max_access: open.tree.maximal_access,
        rfork_len,
        finder_info,
        unix_mode: u16::try_from(entry.stat.mode & 0o7777).unwrap_or(0),
    });
}

/// `durable handles` of the share `s`: always on for a Time Machine share (vfs_fruit(8): Time Machine
/// keeps its backup open across network drops and reclaims it).
pub fn durable_handles(s: &config::ShareConfig) -> bool {
    s.durable_handles || (s.fruit_enabled() && s.time_machine)
}

/// `veto files` of the share `s`, with AppleDouble `._` files when they hold resource forks and
/// `fruit:veto_appledouble` (default yes) keeps them from clients.
pub fn veto_files(s: &config::ShareConfig) -> Vec<String> {
    let mut veto = s.veto_files.clone();
    let adouble = s.fruit_enabled()
        && s.fruit.resource == config::fruit::ResourceStore::File
        && s.fruit.veto_appledouble;
    if adouble {
        veto.push(format!("{}*", vfs::fruit::ADOUBLE_PREFIX));
    }
    veto
}

/// `fruit:posix_rename` for this connection: a client that negotiated AAPL may rename a directory
/// with open files below it, as macOS expects.
pub fn posix_rename(apple: &AppleConn, share: Option<&FruitShare>) -> bool {
    apple.negotiated() && share.is_some_and(|s| s.config.posix_rename)
}

/// What a connection negotiated with its first AAPL context: the server capabilities it was granted
/// (once set, never changed, as on macOS and Samba, where the first query decides for the connection).
#[derive(Debug, Default)]
pub struct AppleConn {
    server_caps: OnceLock<u64>,
}

impl AppleConn {
    /// Whether the client has sent an AAPL server query on this connection.
    pub fn negotiated(&self) -> bool {
        self.server_caps.get().is_some()
    }

    /// Whether COPYCHUNK without chunks copies whole files for this connection.
    pub fn copyfile(&self) -> bool {
        self.has(proto::aapl::server_caps::OSX_COPYFILE)
    }

    /// Whether directory listings carry Finder information for this connection.
    pub fn read_dir_attr(&self) -> bool {
        self.has(proto::aapl::server_caps::READ_DIR_ATTR)
    }

    fn has(&self, cap: u64) -> bool {
        self.server_caps.get().is_some_and(|c| c & cap != 0)
    }

    /// Records the capabilities granted by the first query; false when the connection had already
    /// negotiated.
    fn negotiate(&self, server_caps: u64) -> bool {
        self.server_caps.set(server_caps).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn share(conf: &str) -> config::ShareConfig {
        let text = format!("[s]\npath = /tmp\n{conf}");
        let c = config::Config::parse_str(&text, "t.conf").unwrap();
        c.share("s").unwrap().clone()
    }

    #[test]
    fn time_machine_forces_durable_handles() {
        let tm = share("vfs objects = fruit\nfruit:time machine = yes\ndurable handles = no\n");
        assert!(durable_handles(&tm));
        let plain = share("fruit:time machine = yes\ndurable handles = no\n");
        assert!(!durable_handles(&plain));
    }

    #[test]
    fn apple_double_files_are_vetoed_only_where_they_hold_forks() {
        let file = share("vfs objects = catia fruit streams_xattr\nveto files = /x/\n");
        assert_eq!(veto_files(&file), ["x", "._*"]);
        let stream = share("vfs objects = fruit streams_xattr\nfruit:resource = stream\n");
        assert!(veto_files(&stream).is_empty());
        let shown = share("vfs objects = fruit\nfruit:veto_appledouble = no\n");
        assert!(veto_files(&shown).is_empty());
        assert!(veto_files(&share("")).is_empty());
    }

    #[test]
    fn vfs_options_follow_the_share() {
        use vfs::fruit::{MetadataStore, ResourceStore};
        assert_eq!(vfs_options(&share("")), None);
        let o = vfs_options(&share("vfs objects = fruit\nfruit:resource = xattr\n")).unwrap();
        assert_eq!(
            (o.metadata, o.resource),
            (MetadataStore::Netatalk, ResourceStore::Stream)
        );
        let o = vfs_options(&share("vfs objects = fruit\nfruit:metadata = stream\n")).unwrap();
        assert_eq!(
            (o.metadata, o.resource),
            (MetadataStore::Stream, ResourceStore::File)
        );
    }
}
