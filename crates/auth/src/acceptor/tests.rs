//! Acceptor tests driven by a small test-only NTLMv2 client (MS-NLMP 3.1.5) and SPNEGO initiator.

use super::*;
use crate::der::{self, context};
use crate::ntlm::messages::av_id;
use crate::ntlm::{hmac_md5, nt_hash, rc4, utf16le};
use crate::passdb::SmbPasswd;
use crate::spnego::negotiate_token;

const CLIENT_FLAGS: u32 = flags::UNICODE
    | flags::REQUEST_TARGET
    | flags::SIGN
    | flags::SEAL
    | flags::NTLM
    | flags::ALWAYS_SIGN
    | flags::EXTENDED_SESSIONSECURITY
    | flags::TARGET_INFO
    | flags::VERSION
    | flags::NEGOTIATE_128
    | flags::KEY_EXCH
    | flags::NEGOTIATE_56;
const SPNEGO_OID: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x02];
const KRB5_OID: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02];
const RANDOM_SESSION_KEY: [u8; 16] = [0x5a; 16];

fn names() -> ServerNames {
    ServerNames {
        netbios_computer: "RSMBD".into(),
        netbios_domain: "WORKGROUP".into(),
        dns_computer: "rsmbd.example.test".into(),
        dns_domain: "example.test".into(),
    }
}

fn users() -> SmbPasswd {
    let mut db = SmbPasswd::default();
    assert!(db.set_password("alice", 1000, "Secret1"));
    assert!(db.set_password("mallory", 1001, "pw"));
    assert!(db.set_disabled("mallory", true));
    db
}

/// What the test client puts into its AUTHENTICATE_MESSAGE.
#[derive(Clone)]
struct Client {
    user: &'static str,
    domain: &'static str,
    password: &'static str,
    flags: u32,
    with_mic: bool,
    ntlm_v1: bool,
}

impl Client {
    fn new(user: &'static str, password: &'static str) -> Self {
        Client {
            user,
            domain: "WORKGROUP",
            password,
            flags: CLIENT_FLAGS,
            with_mic: true,
            ntlm_v1: false,
        }
    }

    fn negotiate(&self) -> Vec<u8> {
        let mut msg = messages::SIGNATURE.to_vec();
        msg.extend(1u32.to_le_bytes());
        msg.extend(self.flags.to_le_bytes());
        msg.extend([0u8; 16]); // empty domain and workstation fields
        msg.extend([10, 0, 0, 0, 0, 0, 0, 15]);
        msg
    }

    /// Builds the AUTHENTICATE_MESSAGE; returns it and the ExportedSessionKey.
    fn authenticate(&self, negotiate: &[u8], challenge: &[u8]) -> (Vec<u8>, [u8; 16]) {
        let server_challenge: [u8; 8] = challenge[24..32].try_into().unwrap();
        let info_len = u16::from_le_bytes([challenge[40], challenge[41]]) as usize;
        let info_off = u32::from_le_bytes(challenge[44..48].try_into().unwrap()) as usize;
        let info = &challenge[info_off..info_off + info_len];
        let ntowf = v2::ntowfv2(&nt_hash(self.password), self.user, self.domain);
        let mut blob = vec![1, 1, 0, 0, 0, 0, 0, 0];
        blob.extend(0x01d0_0000_0000_0000u64.to_le_bytes());
        blob.extend([0x11; 8]);
        blob.extend([0; 4]);
        let pairs = &info[..info.len() - 4]; // without MsvAvEOL
        blob.extend(pairs);
        if self.with_mic {
            blob.extend(av_id::FLAGS.to_le_bytes());
            blob.extend(4u16.to_le_bytes());
            blob.extend(AV_FLAG_MIC_PRESENT.to_le_bytes());
        }
        blob.extend([0; 4]); // MsvAvEOL
        blob.extend([0; 4]);
        let proof = v2::nt_proof_str(&ntowf, &server_challenge, &blob);
        let base_key = hmac_md5(&ntowf, &[&proof]);
        let mut nt = proof.to_vec();
        nt.extend(&blob);
        if self.ntlm_v1 {
            nt.truncate(24);
        }
        let mut encrypted = RANDOM_SESSION_KEY;
        rc4(&base_key, &mut encrypted);
        let msg = self.authenticate_message(&[0; 24], &nt, &encrypted);
        let exported = RANDOM_SESSION_KEY;
        (self.add_mic(msg, negotiate, challenge, &exported), exported)
    }

    fn authenticate_message(&self, lm: &[u8], nt: &[u8], encrypted: &[u8]) -> Vec<u8> {
        let fields: [Vec<u8>; 6] = [
            lm.to_vec(),
            nt.to_vec(),
            utf16le(self.domain),
            utf16le(self.user),
            utf16le("CLIENT"),
            encrypted.to_vec(),
        ];
        let mut msg = messages::SIGNATURE.to_vec();
        msg.extend(3u32.to_le_bytes());
        let mut offset = 88u32;
        for f in &fields {
            msg.extend((f.len() as u16).to_le_bytes());
            msg.extend((f.len() as u16).to_le_bytes());
            msg.extend(offset.to_le_bytes());
            offset += f.len() as u32;
        }
        msg.extend(self.flags.to_le_bytes());
        msg.extend([10, 0, 0, 0, 0, 0, 0, 15]);
        msg.extend([0; 16]); // MIC
        fields.iter().for_each(|f| msg.extend(f));
        msg
    }

    fn add_mic(
        &self,
        mut msg: Vec<u8>,
        negotiate: &[u8],
        challenge: &[u8],
        exported: &[u8; 16],
    ) -> Vec<u8> {
        if self.with_mic {
            let mic = v2::mic(exported, negotiate, challenge, &msg);
            msg[MIC_RANGE].copy_from_slice(&mic);
        }
        msg
    }
}

fn mech_types(mechs: &[&[u8]]) -> Vec<u8> {
    let oids: Vec<Vec<u8>> = mechs.iter().map(|m| der::encode(der::TAG_OID, m)).collect();
    der::encode_parts(der::TAG_SEQUENCE, &oids)
}

fn spnego_init(mech_list: &[u8], mech_token: Option<&[u8]>) -> Vec<u8> {
    let mut fields = vec![der::encode(context(0), mech_list)];
    if let Some(token) = mech_token {
        fields.push(der::encode(
            context(2),
            &der::encode(der::TAG_OCTET_STRING, token),
        ));
    }
    let init = der::encode(context(0), &der::encode_parts(der::TAG_SEQUENCE, &fields));
    der::encode_parts(
        der::TAG_APPLICATION_0,
        &[der::encode(der::TAG_OID, SPNEGO_OID), init],
    )
}

fn spnego_resp(token: &[u8], mic: Option<&[u8]>) -> Vec<u8> {
    let mut fields = vec![der::encode(
        context(2),
        &der::encode(der::TAG_OCTET_STRING, token),
    )];
    if let Some(mic) = mic {
        fields.push(der::encode(
            context(3),
            &der::encode(der::TAG_OCTET_STRING, mic),
        ));
    }
    der::encode(context(1), &der::encode_parts(der::TAG_SEQUENCE, &fields))
}

/// The responseToken and mechListMIC of a server NegTokenResp.
fn server_resp(token: &[u8]) -> (Option<Vec<u8>>, Option<Vec<u8>>) {
    let ClientToken::Resp(resp) = spnego::parse(token).unwrap() else {
        panic!("not a NegTokenResp")
    };
    (
        resp.response_token.map(<[u8]>::to_vec),
        resp.mech_list_mic.map(<[u8]>::to_vec),
    )
}

fn continue_token(step: Result<Step, AuthError>) -> Vec<u8> {
    match step.unwrap() {
        Step::Continue(token) => token,
        other => panic!("expected Continue, got {other:?}"),
    }
}

/// Runs a full SPNEGO exchange (optimistic NTLM token, mechListMIC when `send_mech_list_mic`).
fn spnego_logon(
    client: &Client,
    policy: AcceptorPolicy,
    send_mech_list_mic: bool,
) -> Result<Step, AuthError> {
    let db = users();
    let mut acceptor = Acceptor::new(names(), policy);
    let negotiate = client.negotiate();
    let list = mech_types(&[NTLMSSP_OID]);
    let reply = continue_token(acceptor.step(&spnego_init(&list, Some(&negotiate)), &db));
    let challenge = server_resp(&reply).0.unwrap();
    let (auth, exported) = client.authenticate(&negotiate, &challenge);
    let mic = signature(&exported, client.flags, Direction::ClientToServer, 0, &list);
    let result = acceptor.step(
        &spnego_resp(&auth, send_mech_list_mic.then_some(&mic[..])),
        &db,
    );
    if let Ok(Step::Done {
        token, session_key, ..
    }) = &result
    {
        let (response_token, server_mic) = server_resp(token);
        assert_eq!(response_token, None);
        // Guest logons have no key, hence no MIC.
        let expected = signature(&exported, client.flags, Direction::ServerToClient, 0, &list);
        let keyed = send_mech_list_mic && session_key.is_some();
        assert_eq!(server_mic, keyed.then(|| expected.to_vec()));
        // The exchange is over: anything more is out of sequence.
        assert_eq!(acceptor.step(token, &db), Err(AuthError::InvalidToken));
    }
    result
}

fn alice() -> Identity {
    Identity::User {
        name: "alice".into(),
        domain: "WORKGROUP".into(),
        uid: 1000,
    }
}

#[test]
fn spnego_logon_with_mech_list_mic() {
    let step = spnego_logon(
        &Client::new("Alice", "Secret1"),
        AcceptorPolicy::default(),
        true,
    )
    .unwrap();
    let Step::Done {
        identity,
        session_key,
        ..
    } = step
    else {
        panic!("not done")
    };
    assert_eq!(identity, alice());
    assert_eq!(session_key, Some(RANDOM_SESSION_KEY));
}

#[test]
fn spnego_logon_without_mech_list_mic_gets_none() {
    let client = Client {
        with_mic: false,
        ..Client::new("alice", "Secret1")
    };
    let step = spnego_logon(&client, AcceptorPolicy::default(), false).unwrap();
    assert!(matches!(
        step,
        Step::Done {
            session_key: Some(_),
            ..
        }
    ));
}

#[test]
fn empty_domain_in_proof_is_accepted() {
    let client = Client {
        domain: "",
        ..Client::new("alice", "Secret1")
    };
    let Step::Done { identity, .. } =
        spnego_logon(&client, AcceptorPolicy::default(), true).unwrap()
    else {
        panic!("not done")
    };
    assert_eq!(
        identity,
        Identity::User {
            name: "alice".into(),
            domain: String::new(),
            uid: 1000
        }
    );
}

#[test]
fn wrong_password_unknown_and_disabled_users() {
    let policy = AcceptorPolicy::default();
    let wrong = spnego_logon(&Client::new("alice", "secret1"), policy, true);
    assert_eq!(wrong, Err(AuthError::LogonFailure));
    assert_eq!(
        spnego_logon(&Client::new("nobody", "x"), policy, true),
        Err(AuthError::LogonFailure)
    );
    assert_eq!(
        spnego_logon(&Client::new("mallory", "pw"), policy, true),
        Err(AuthError::AccountDisabled)
    );
    assert_eq!(
        spnego_logon(&Client::new("mallory", "bad"), policy, true),
        Err(AuthError::LogonFailure)
    );
    let guest_policy = AcceptorPolicy {
        map_unknown_user_to_guest: true,
        ..policy
    };
    let guest = spnego_logon(&Client::new("nobody", "x"), guest_policy, true).unwrap();
    assert!(matches!(
        guest,
        Step::Done {
            identity: Identity::Guest,
            session_key: None,
            ..
        }
    ));
}

#[test]
fn ntlm_v1_is_refused() {
    let client = Client {
        ntlm_v1: true,
        with_mic: false,
        ..Client::new("alice", "Secret1")
    };
    assert_eq!(
        spnego_logon(&client, AcceptorPolicy::default(), false),
        Err(AuthError::LogonFailure)
    );
}

#[test]
fn bad_mechlist_mic_and_bad_ntlm_mic_are_refused() {
    let db = users();
    let client = Client::new("alice", "Secret1");
    let negotiate = client.negotiate();
    let list = mech_types(&[NTLMSSP_OID]);
    for tamper_ntlm_mic in [false, true] {
        let mut acceptor = Acceptor::new(names(), AcceptorPolicy::default());
        let reply = continue_token(acceptor.step(&spnego_init(&list, Some(&negotiate)), &db));
        let challenge = server_resp(&reply).0.unwrap();
        let (mut auth, exported) = client.authenticate(&negotiate, &challenge);
        let mut mic = signature(&exported, client.flags, Direction::ClientToServer, 0, &list);
        if tamper_ntlm_mic {
            auth[75] ^= 1;
        } else {
            mic[5] ^= 1;
        }
        assert_eq!(
            acceptor.step(&spnego_resp(&auth, Some(&mic)), &db),
            Err(AuthError::LogonFailure)
        );
    }
}

#[test]
fn raw_ntlmssp_logon() {
    let db = users();
    let client = Client::new("alice", "Secret1");
    let mut acceptor = Acceptor::new(names(), AcceptorPolicy::default());
    let negotiate = client.negotiate();
    let challenge = continue_token(acceptor.step(&negotiate, &db));
    assert_eq!(&challenge[..8], messages::SIGNATURE);
    let (auth, exported) = client.authenticate(&negotiate, &challenge);
    let step = acceptor.step(&auth, &db).unwrap();
    assert_eq!(
        step,
        Step::Done {
            token: Vec::new(),
            identity: alice(),
            session_key: Some(exported)
        }
    );
}

#[test]
fn ntlm_not_first_in_mech_list() {
    let db = users();
    let client = Client::new("alice", "Secret1");
    let mut acceptor = Acceptor::new(names(), AcceptorPolicy::default());
    let list = mech_types(&[KRB5_OID, NTLMSSP_OID]);
    let first = continue_token(acceptor.step(&spnego_init(&list, Some(b"kerberos ap-req")), &db));
    assert_eq!(server_resp(&first), (None, None));
    let negotiate = client.negotiate();
    let second = continue_token(acceptor.step(&spnego_resp(&negotiate, None), &db));
    let challenge = server_resp(&second).0.unwrap();
    let (auth, exported) = client.authenticate(&negotiate, &challenge);
    let mic = signature(&exported, client.flags, Direction::ClientToServer, 0, &list);
    let step = acceptor.step(&spnego_resp(&auth, Some(&mic)), &db).unwrap();
    assert!(matches!(step, Step::Done { session_key: Some(k), .. } if k == exported));
}

#[test]
fn anonymous_refused_by_default_allowed_by_policy() {
    let db = users();
    let client = Client {
        user: "",
        domain: "",
        with_mic: false,
        ..Client::new("", "")
    };
    for allow in [false, true] {
        let mut acceptor = Acceptor::new(
            names(),
            AcceptorPolicy {
                allow_anonymous: allow,
                ..Default::default()
            },
        );
        let negotiate = client.negotiate();
        let _challenge = continue_token(acceptor.step(&negotiate, &db));
        let auth = client.authenticate_message(&[0], &[], &[]);
        let result = acceptor.step(&auth, &db);
        if allow {
            assert_eq!(
                result,
                Ok(Step::Done {
                    token: Vec::new(),
                    identity: Identity::Anonymous,
                    session_key: None
                })
            );
        } else {
            assert_eq!(result, Err(AuthError::LogonFailure));
        }
    }
}

#[test]
fn empty_first_token_gets_negotiate_token() {
    let mut acceptor = Acceptor::new(names(), AcceptorPolicy::default());
    assert_eq!(
        acceptor.step(&[], &users()),
        Ok(Step::Continue(negotiate_token(false, true)))
    );
}

#[test]
fn malformed_tokens_are_errors_not_panics() {
    let db = users();
    let client = Client::new("alice", "Secret1");
    let negotiate = client.negotiate();
    let list = mech_types(&[NTLMSSP_OID]);
    let init = spnego_init(&list, Some(&negotiate));
    // Truncated first tokens, SPNEGO and raw.
    for cut in 0..init.len() {
        let mut acceptor = Acceptor::new(names(), AcceptorPolicy::default());
        if cut > 0 {
            assert!(
                acceptor.step(&init[..cut], &db).is_err(),
                "init cut at {cut}"
            );
        }
    }
    for cut in 1..16 {
        let mut acceptor = Acceptor::new(names(), AcceptorPolicy::default());
        assert!(
            acceptor.step(&negotiate[..cut], &db).is_err(),
            "negotiate cut at {cut}"
        );
    }
    assert!(Acceptor::new(names(), AcceptorPolicy::default())
        .step(&[0x30, 0x00], &db)
        .is_err());
    // Truncated and corrupted AUTHENTICATE messages, raw framing.
    let mut acceptor = Acceptor::new(names(), AcceptorPolicy::default());
    let challenge = continue_token(acceptor.step(&negotiate, &db));
    let (auth, _) = client.authenticate(&negotiate, &challenge);
    let pending = match &acceptor.state {
        State::AwaitAuthenticate(p) => p,
        other => panic!("unexpected state {other:?}"),
    };
    for cut in 0..auth.len() {
        assert!(
            acceptor.authenticate(pending, &auth[..cut], &db).is_err(),
            "auth cut at {cut}"
        );
    }
    for field in (12..60).step_by(8) {
        let mut bad = auth.clone();
        bad[field + 4..field + 8].copy_from_slice(&(auth.len() as u32).to_le_bytes());
        bad[field] = 1;
        assert!(
            acceptor.authenticate(pending, &bad, &db).is_err(),
            "field at {field}"
        );
        let mut huge = auth.clone();
        huge[field + 4..field + 8].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(
            acceptor.authenticate(pending, &huge, &db).is_err(),
            "field at {field}"
        );
    }
    // A corrupted NTLMv2 response (here an AV pair length) fails too.
    let mut bad_av = auth.clone();
    let nt_off = u32::from_le_bytes(auth[24..28].try_into().unwrap()) as usize;
    bad_av[nt_off + 16 + 28 + 2] = 0xff;
    assert!(acceptor.authenticate(pending, &bad_av, &db).is_err());
    assert!(acceptor.step(&auth, &db).is_ok());
}

#[test]
fn malformed_client_challenge_is_invalid_before_any_account_lookup() {
    // An NTLMv2 response whose AV pair list runs past its end (as smbtorture's ntlmssp_bug14932 sends):
    // a malformed message, whether or not the user exists and whatever the guest policy.
    let mut nt = vec![0x3f; 16 + 28];
    nt.extend(2u16.to_le_bytes());
    nt.extend(0x8000u16.to_le_bytes());
    nt.extend([0x41; 40]);
    let guest_policy = AcceptorPolicy {
        map_unknown_user_to_guest: true,
        ..AcceptorPolicy::default()
    };
    for user in ["alice", "nobody"] {
        let client = Client::new(user, "secret");
        let mut acceptor = Acceptor::new(names(), guest_policy);
        let negotiate = client.negotiate();
        let challenge = continue_token(acceptor.step(&negotiate, &users()));
        assert!(challenge.starts_with(messages::SIGNATURE));
        let msg = client.authenticate_message(&[0; 24], &nt, &[0; 16]);
        assert_eq!(
            acceptor.step(&msg, &users()),
            Err(AuthError::InvalidToken),
            "{user}"
        );
    }
}
