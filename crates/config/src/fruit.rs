//! The share settings of Samba's `vfs_fruit` module that rsmbd acts on (its parametric `fruit:` options,
//! as documented in Samba's vfs_fruit(8) manual page): where Finder metadata and resource forks are kept
//! and which Apple SMB extensions the share offers. They apply when `vfs objects` names `fruit`.

use crate::registry::Key;
use crate::value::Value;

/// `fruit:metadata`: where the `AFP_AfpInfo` stream (FinderInfo) is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MetadataStore {
    /// In the `org.netatalk.Metadata` extended attribute, as netatalk keeps it (Samba's default).
    #[default]
    Netatalk,
    /// As an ordinary named stream (`streams_xattr`).
    Stream,
}

/// `fruit:resource`: where the `AFP_Resource` stream (the resource fork) is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ResourceStore {
    /// In an AppleDouble `._name` file beside the file (Samba's default).
    #[default]
    File,
    /// In the `org.netatalk.ResourceFork` extended attribute.
    Xattr,
    /// As an ordinary named stream (`streams_xattr`).
    Stream,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FruitConfig {
    pub metadata: MetadataStore,
    pub resource: ResourceStore,
    /// `fruit:time machine max size` in bytes; 0 means no limit.
    pub time_machine_max_size: u64,
    /// `fruit:zero_file_id` (default no): file ids are reported as 0 to clients that sent AAPL.
    pub zero_file_id: bool,
    /// `fruit:posix_rename` (default yes): a directory with open files in it may be renamed by macOS.
    pub posix_rename: bool,
    /// `fruit:nfs_aces` (default yes): the NFS ACE capability (Unix mode in security descriptors).
    pub nfs_aces: bool,
    /// `fruit:copyfile` (default no): COPYCHUNK without chunks copies the whole file with its streams.
    pub copyfile: bool,
    /// `fruit:wipe_intentionally_left_blank_rfork` (default no).
    pub wipe_intentionally_left_blank_rfork: bool,
    /// `fruit:delete_empty_adfiles` (default no).
    pub delete_empty_adfiles: bool,
    /// `fruit:veto_appledouble` (default yes): `._` AppleDouble files are hidden from clients.
    pub veto_appledouble: bool,
}

impl Default for FruitConfig {
    fn default() -> Self {
        FruitConfig {
            metadata: MetadataStore::default(),
            resource: ResourceStore::default(),
            time_machine_max_size: 0,
            zero_file_id: false,
            posix_rename: true,
            nfs_aces: true,
            copyfile: false,
            wipe_intentionally_left_blank_rfork: false,
            delete_empty_adfiles: false,
            veto_appledouble: true,
        }
    }
}

impl FruitConfig {
    /// Applies `key` if it is a fruit setting; `Ok(false)` when it is not one.
    pub(crate) fn apply(&mut self, key: Key, value: &Value) -> Result<bool, String> {
        match (key, value) {
            (Key::FruitMetadata, Value::Str(s)) => self.metadata = metadata(s)?,
            (Key::FruitResource, Value::Str(s)) => self.resource = resource(s)?,
            (Key::FruitTimeMachineMaxSize, Value::Integer(n)) => self.time_machine_max_size = *n,
            (Key::FruitZeroFileId, Value::Bool(b)) => self.zero_file_id = *b,
            (Key::FruitPosixRename, Value::Bool(b)) => self.posix_rename = *b,
            (Key::FruitNfsAces, Value::Bool(b)) => self.nfs_aces = *b,
            (Key::FruitCopyfile, Value::Bool(b)) => self.copyfile = *b,
            (Key::FruitWipeRfork, Value::Bool(b)) => self.wipe_intentionally_left_blank_rfork = *b,
            (Key::FruitDeleteEmptyAdfiles, Value::Bool(b)) => self.delete_empty_adfiles = *b,
            (Key::FruitVetoAppledouble, Value::Bool(b)) => self.veto_appledouble = *b,
            _ => return Ok(false),
        }
        Ok(true)
    }
}

impl FruitConfig {
    /// What to tell the administrator about the setting `key` just applied.
    pub(crate) fn warning(&self, key: Key) -> Option<String> {
        (key == Key::FruitResource && self.resource == ResourceStore::Xattr).then(|| {
            "fruit:resource = xattr: one extended attribute cannot hold a resource fork on Linux; \
             resource forks are kept as streams (fruit:resource = stream)"
                .to_owned()
        })
    }
}

fn metadata(s: &str) -> Result<MetadataStore, String> {
    match s.trim().to_ascii_lowercase().as_str() {
        "netatalk" => Ok(MetadataStore::Netatalk),
        "stream" => Ok(MetadataStore::Stream),
        other => Err(format!(
            "fruit:metadata must be netatalk or stream, not {other:?}"
        )),
    }
}

fn resource(s: &str) -> Result<ResourceStore, String> {
    match s.trim().to_ascii_lowercase().as_str() {
        "file" => Ok(ResourceStore::File),
        "xattr" => Ok(ResourceStore::Xattr),
        "stream" => Ok(ResourceStore::Stream),
        other => Err(format!(
            "fruit:resource must be file, xattr or stream, not {other:?}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parsed_from_smb_conf() {
        let c = crate::Config::parse_str(
            "[global]\nfruit:resource = xattr\n[mac]\npath = /m\nvfs objects = catia fruit streams_xattr\n\
             fruit:metadata = stream\nfruit:time machine max size = 2G\nfruit:zero_file_id = yes\n\
             fruit:posix_rename = no\nfruit:copyfile = yes\n[plain]\npath = /p\nfruit:resource = stream\n",
            "t.conf",
        )
        .unwrap();
        let mac = &c.share("mac").unwrap().fruit;
        assert_eq!(mac.metadata, MetadataStore::Stream);
        assert_eq!(mac.resource, ResourceStore::Xattr);
        assert_eq!(mac.time_machine_max_size, 2 << 30);
        assert!(mac.zero_file_id && !mac.posix_rename && mac.copyfile && mac.nfs_aces);
        let plain = &c.share("plain").unwrap().fruit;
        assert_eq!(plain.metadata, MetadataStore::Netatalk);
        assert_eq!(plain.resource, ResourceStore::Stream);
        let w: Vec<String> = c.warnings.iter().map(|w| w.to_string()).collect();
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(w[0].contains("fruit:resource = xattr"), "{w:?}");
    }

    #[test]
    fn bad_store_names_are_refused() {
        assert!(metadata("tdb").is_err());
        assert!(resource("ad").is_err());
        assert_eq!(resource(" File "), Ok(ResourceStore::File));
    }
}
