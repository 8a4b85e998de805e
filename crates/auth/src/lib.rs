//! rsmbd-auth: SMB session authentication. An SPNEGO (RFC 4178, MS-SPNG) acceptor carrying Kerberos 5
//! (RFC 4120/4121, MS-KILE) and NTLMv2 (MS-NLMP), the password database in Samba's smbpasswd file
//! format, and the types the server uses to drive SESSION_SETUP.
#![forbid(unsafe_code)]

mod acceptor;
mod der;
pub mod kerberos;
mod ntlm;
pub mod passdb;
mod spnego;

pub use acceptor::Acceptor;
pub use ntlm::nt_hash;
pub use spnego::negotiate_token;

/// The names the server reports in the NTLM CHALLENGE TargetInfo (MS-NLMP 2.2.2.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerNames {
    pub netbios_computer: String,
    pub netbios_domain: String,
    pub dns_computer: String,
    pub dns_domain: String,
}

/// One account of the password database.
#[derive(Clone, PartialEq, Eq)]
pub struct UserRecord {
    pub name: String,
    pub uid: u32,
    /// NTOWFv1 of the password; None for an account without a password (which cannot log on).
    pub nt_hash: Option<[u8; 16]>,
    pub disabled: bool,
}

impl std::fmt::Debug for UserRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserRecord")
            .field("name", &self.name)
            .field("uid", &self.uid)
            .field("has_password", &self.nt_hash.is_some())
            .field("disabled", &self.disabled)
            .finish()
    }
}

/// Account lookup used by the acceptor. Names compare case-insensitively.
pub trait UserLookup {
    fn lookup(&self, name: &str) -> Option<UserRecord>;

    /// The uid of the Unix account `name`, for Kerberos principals without a password database entry.
    fn unix_uid(&self, _name: &str) -> Option<u32> {
        None
    }

    /// The account name a Kerberos principal's name maps to (`username map`); itself by default.
    fn map_name(&self, name: &str) -> String {
        name.to_string()
    }
}

/// What the acceptor allows besides password logons.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AcceptorPolicy {
    /// Accept NTLM anonymous logons (empty user name and responses).
    pub allow_anonymous: bool,
    /// Log an unknown user name on as guest instead of failing ("map to guest = bad user").
    pub map_unknown_user_to_guest: bool,
    /// Refuse NTLM altogether (`ntlm auth = disabled`): only Kerberos logs on.
    pub ntlm_disabled: bool,
}

/// Who the session belongs to once authentication completes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Identity {
    /// `name` is the database spelling; `domain` is what the client sent.
    User {
        name: String,
        domain: String,
        uid: u32,
    },
    Guest,
    Anonymous,
}

/// Why authentication failed. The server maps LogonFailure to STATUS_LOGON_FAILURE,
/// AccountDisabled to STATUS_ACCOUNT_DISABLED, InvalidToken to STATUS_INVALID_PARAMETER and
/// Internal to STATUS_INTERNAL_ERROR.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthError {
    LogonFailure,
    AccountDisabled,
    /// Malformed, truncated or out-of-sequence security token.
    InvalidToken,
    /// The system random number generator failed.
    Internal,
}

impl std::fmt::Display for AuthError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            AuthError::LogonFailure => "logon failure",
            AuthError::AccountDisabled => "account disabled",
            AuthError::InvalidToken => "invalid security token",
            AuthError::Internal => "internal error",
        })
    }
}

impl std::error::Error for AuthError {}

/// The result of one acceptor step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// Send this token with STATUS_MORE_PROCESSING_REQUIRED and wait for the next one.
    Continue(Vec<u8>),
    /// Authentication succeeded: send `token` with STATUS_SUCCESS. `session_key` is the key the SMB
    /// keys derive from; None for anonymous and guest sessions.
    Done {
        token: Vec<u8>,
        identity: Identity,
        session_key: Option<[u8; 16]>,
    },
}
