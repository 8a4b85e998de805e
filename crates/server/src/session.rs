//! Sessions and tree connects (MS-SMB2 3.3.1.8 Session, 3.3.1.9 TreeConnect).

use crate::encryption::NonceCounter;
use crate::state::ShareEntry;
use crypto::{CipherKey, PreauthHash, SigningKey};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// Who a session authenticated as.
#[derive(Debug)]
pub struct AuthInfo {
    /// The account name; None for guest and anonymous sessions.
    pub user: Option<String>,
    pub domain: String,
    pub is_guest: bool,
    pub is_anonymous: bool,
    /// The Unix credentials file operations run with.
    pub unix: Arc<vfs::Identity>,
}

/// A tree connect: a session's use of one share.
#[derive(Debug)]
pub struct Tree {
    pub id: u32,
    pub share: Arc<ShareEntry>,
    pub maximal_access: u32,
    /// TreeConnect.EncryptData: requests on this tree must arrive encrypted.
    pub encrypt: bool,
    /// Writes allowed (`read only`, `read list`, `write list`, `admin users`).
    pub writable: bool,
    /// Who file operations on this tree run as (the session's user unless `force user`, `force group`,
    /// `guest only` or `admin users` say otherwise).
    pub unix: Arc<vfs::Identity>,
}

impl Drop for Tree {
    /// Gives the share's `max connections` place back (taken in TREE_CONNECT).
    fn drop(&mut self) {
        self.share
            .trees
            .fetch_update(
                std::sync::atomic::Ordering::AcqRel,
                std::sync::atomic::Ordering::Acquire,
                |n| n.checked_sub(1),
            )
            .ok();
    }
}

impl Tree {
    pub fn is_ipc(&self) -> bool {
        self.share.vfs.is_none()
    }

    /// The disk share behind this tree; IPC$ has none.
    pub fn vfs(&self) -> Result<&vfs::Share, proto::NtStatus> {
        self.share
            .vfs
            .as_ref()
            .ok_or(proto::NtStatus::INVALID_PARAMETER)
    }
}

impl std::fmt::Debug for ShareEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShareEntry")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

#[derive(Default)]
pub struct SessionInner {
    /// The authentication exchange in progress, if any (first setup or re-authentication).
    pub acceptor: Option<auth::Acceptor>,
    /// Session.PreauthIntegrityHashValue (3.1.1).
    pub preauth: Option<PreauthHash>,
    pub auth: Option<Arc<AuthInfo>>,
    pub signing: Option<SigningKey>,
    pub signing_required: bool,
    /// Session.EncryptionKey (server to client) and Session.DecryptionKey (client to server).
    pub encryption: Option<CipherKey>,
    pub decryption: Option<CipherKey>,
    /// Session.EncryptData with the server rejecting unencrypted access: every request after
    /// SESSION_SETUP must arrive encrypted.
    pub encrypt_required: bool,
    pub trees: HashMap<u32, Arc<Tree>>,
    next_tree_id: u32,
    /// Channel.SigningKey of each further connection bound to the session (multichannel); the
    /// connection that established it uses `signing`.
    pub channels: HashMap<crate::channel::ConnId, SigningKey>,
}

impl SessionInner {
    /// Adds a tree for `share`, whose `max connections` place the caller has claimed.
    pub fn add_tree(
        &mut self,
        share: Arc<ShareEntry>,
        maximal_access: u32,
        encrypt: bool,
        grant: crate::share_policy::Grant,
    ) -> Arc<Tree> {
        self.next_tree_id = self.next_tree_id.wrapping_add(1).max(1);
        let tree = Arc::new(Tree {
            id: self.next_tree_id,
            share,
            maximal_access,
            encrypt,
            writable: grant.writable,
            unix: grant.unix,
        });
        self.trees.insert(tree.id, Arc::clone(&tree));
        tree
    }
}

pub struct Session {
    pub id: u64,
    /// Nonces for the responses this session encrypts.
    pub nonces: NonceCounter,
    inner: Mutex<SessionInner>,
}

impl Session {
    pub fn new(id: u64) -> Session {
        Session {
            id,
            nonces: NonceCounter::default(),
            inner: Mutex::new(SessionInner::default()),
        }
    }

    pub fn lock(&self) -> MutexGuard<'_, SessionInner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The authenticated identity, once SESSION_SETUP has completed.
    pub fn auth(&self) -> Option<Arc<AuthInfo>> {
        self.lock().auth.clone()
    }

    pub fn tree(&self, id: u32) -> Option<Arc<Tree>> {
        self.lock().trees.get(&id).cloned()
    }
}
