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
    use config::fruit::MetadataStore;
    s.fruit_enabled().then_some(vfs::fruit::FruitOptions {
        metadata: match s.fruit.metadata {
            MetadataStore::Netatalk => vfs::fruit::MetadataStore::Netatalk,
            MetadataStore::Stream => vfs::fruit::MetadataStore::Stream,
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
