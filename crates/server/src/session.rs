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
    /// When the session's credentials expire (a Kerberos ticket's end); re-authentication renews it.
    pub expires: Option<std::time::SystemTime>,
    /// The session's place among those still authenticating (`server max authenticating sessions`),
    /// given back when it authenticates or ends.
    pub setup_budget: Option<tokio::sync::OwnedSemaphorePermit>,
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

/// The signing key of each connection of a session.
type ChannelKeys = Vec<(crate::channel::ConnId, SigningKey)>;

/// How many ended sessions [`EndedSessions`] remembers, server-wide.
const ENDED_REMEMBERED: usize = 64;

/// Sessions ended by a failed re-authentication, remembered with the signing key of each of their
/// channels: a later request on such a session is refused with STATUS_USER_SESSION_DELETED, and when
/// the request is signed with that key the refusal is signed too, as the client of a signed session
/// requires (smbtorture smb2.session.bind_invalid_auth). Bounded server-wide; the oldest goes first, and
/// a forgotten session only means an unsigned refusal.
#[derive(Default)]
pub struct EndedSessions {
    list: Mutex<std::collections::VecDeque<(u64, ChannelKeys)>>,
}

impl EndedSessions {
    /// Remembers `session`'s keys: `owner` (the connection that established it) uses the session's own
    /// key, further channels their channel keys.
    pub fn remember(&self, owner: crate::channel::ConnId, session: &Session) {
        let keys = {
            let inner = session.lock();
            let own = inner.signing.clone().map(|k| (owner, k));
            let channels = inner.channels.iter().map(|(c, k)| (*c, k.clone()));
            own.into_iter().chain(channels).collect()
        };
        let mut list = self.list.lock().unwrap_or_else(PoisonError::into_inner);
        if list.len() >= ENDED_REMEMBERED {
            list.pop_front();
        }
        list.push_back((session.id, keys));
    }

    /// The key an ended session used on connection `conn`.
    pub fn key(&self, id: u64, conn: crate::channel::ConnId) -> Option<SigningKey> {
        let list = self.list.lock().unwrap_or_else(PoisonError::into_inner);
        let (_, keys) = list.iter().rev().find(|(s, _)| *s == id)?;
        keys.iter()
            .find(|(c, _)| *c == conn)
            .map(|(_, k)| k.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channel::ConnId;
    use crypto::SigningAlgorithm;

    fn key(b: u8) -> SigningKey {
        SigningKey::new(SigningAlgorithm::AesCmac, [b; 16])
    }

    fn pdu_signature(k: &SigningKey) -> Option<[u8; 16]> {
        k.compute(&[0u8; 80])
    }

    #[test]
    fn ended_session_keeps_each_channel_key_and_forgets_the_oldest() {
        let ended = EndedSessions::default();
        let s = Session::new(7);
        s.lock().signing = Some(key(1));
        s.lock().channels.insert(ConnId(20), key(2));
        ended.remember(ConnId(10), &s);
        let own = ended.key(7, ConnId(10)).map(|k| pdu_signature(&k));
        assert_eq!(own, Some(pdu_signature(&key(1))));
        let channel = ended.key(7, ConnId(20)).map(|k| pdu_signature(&k));
        assert_eq!(channel, Some(pdu_signature(&key(2))));
        assert!(ended.key(7, ConnId(30)).is_none());
        assert!(ended.key(8, ConnId(10)).is_none());
        for id in 100..100 + ENDED_REMEMBERED as u64 {
            ended.remember(ConnId(10), &Session::new(id));
        }
        assert!(
            ended.key(7, ConnId(10)).is_none(),
            "bounded: the oldest is forgotten"
        );
    }
}
