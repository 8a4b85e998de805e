//! Target `auth`: the SESSION_SETUP security tokens (MS-SPNG, MS-NLMP): SPNEGO NegTokenInit and
//! NegTokenResp DER, raw and wrapped NTLMSSP NEGOTIATE and AUTHENTICATE messages with their lengths and
//! offsets (LM/NT responses, NTLMv2 blobs and AV pairs, domain, user and workstation names, encrypted
//! session key). The first byte's three low bits choose the acceptor's policy (anonymous allowed, unknown
//! users mapped to guest, NTLM disabled); the rest is a sequence of [`crate::chunks`], one token per leg.

use auth::{Acceptor, AcceptorPolicy, ServerNames, UserLookup, UserRecord};

/// More legs than any exchange has; the acceptor fails every token after its last one anyway.
const MAX_LEGS: usize = 4;

/// One account, "alice" with password "secret".
struct OneUser;

impl UserLookup for OneUser {
    fn lookup(&self, name: &str) -> Option<UserRecord> {
        name.eq_ignore_ascii_case("alice").then(|| UserRecord {
            name: "alice".into(),
            uid: 1000,
            nt_hash: Some(auth::nt_hash("secret")),
            disabled: false,
        })
    }
}

pub fn run(data: &[u8]) {
    let (flags, rest) = crate::selector(data);
    let policy = AcceptorPolicy {
        allow_anonymous: flags & 1 != 0,
        map_unknown_user_to_guest: flags & 2 != 0,
        ntlm_disabled: flags & 4 != 0,
    };
    let names = ServerNames {
        netbios_computer: "FUZZ".into(),
        netbios_domain: "WORKGROUP".into(),
        dns_computer: "fuzz".into(),
        dns_domain: String::new(),
    };
    let mut acceptor = Acceptor::new(names, policy);
    for token in crate::chunks(rest).take(MAX_LEGS) {
        if acceptor.step(token, &OneUser).is_err() {
            return;
        }
    }
}
