//! Signing and encryption as an attacker meets them: a tampered or unsigned request on a signed session,
//! an altered or replayed encrypted frame, and plaintext on a tree that requires encryption.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use bytes::BytesMut;
use common::{fixture, Fixture, SESSION};
use crypto::{Cipher, CipherKey, SigningAlgorithm, SigningKey};
use proto::{Command, Header, HeaderFlags, NtStatus, HEADER_LEN};
use rsmbd_server::conn::process_raw;
use rsmbd_server::dispatch::Outcome;
use rsmbd_server::encryption::{self, NonceCounter};

/// A CLOSE of a handle that does not exist: it needs session and tree, and fails with FILE_CLOSED once
/// those checks pass.
fn close_body() -> Vec<u8> {
    let mut b = vec![24, 0, 0, 0, 0, 0, 0, 0];
    b.extend_from_slice(&[0xAB; 16]);
    b
}

fn status(out: &[u8]) -> NtStatus {
    Header::decode(out).unwrap().status
}

async fn send_raw(f: &Fixture, frame: &[u8]) -> Outcome {
    process_raw(&f.conn, BytesMut::from(frame), None).await
}

fn signed_fixture() -> (Fixture, SigningKey) {
    let f = fixture();
    let key = SigningKey::new(SigningAlgorithm::AesCmac, [5; 16]);
    let mut inner = f.session.lock();
    inner.signing = Some(key.clone());
    inner.signing_required = true;
    drop(inner);
    (f, key)
}

fn signed_close(f: &Fixture, key: &SigningKey) -> Vec<u8> {
    let mut frame = f.frame(Command::Close, &close_body()).to_vec();
    let flags = u32::from_le_bytes(frame[16..20].try_into().unwrap()) | HeaderFlags::SIGNED;
    frame[16..20].copy_from_slice(&flags.to_le_bytes());
    key.sign(&mut frame);
    frame
}

#[tokio::test]
async fn signed_session_accepts_only_correctly_signed_requests() {
    let (f, key) = signed_fixture();
    let Outcome::Reply(ok) = send_raw(&f, &signed_close(&f, &key)).await else {
        panic!()
    };
    assert_eq!(
        status(&ok),
        NtStatus::FILE_CLOSED,
        "a good signature reaches the handler"
    );
    assert!(key.verify(&ok), "the response is signed");

    let mut tampered = signed_close(&f, &key);
    let last = tampered.len() - 1;
    tampered[last] ^= 0x40;
    let Outcome::Reply(bad) = send_raw(&f, &tampered).await else {
        panic!()
    };
    assert_eq!(status(&bad), NtStatus::ACCESS_DENIED);

    let unsigned = f.frame(Command::Close, &close_body());
    let Outcome::Reply(bad) = send_raw(&f, &unsigned).await else {
        panic!()
    };
    assert_eq!(status(&bad), NtStatus::ACCESS_DENIED);
}

/// Keys as a client would hold them: it encrypts with the server's decryption key.
fn encrypted_fixture(encrypt_tree: bool) -> (Fixture, CipherKey, CipherKey) {
    let f = fixture();
    let c2s = CipherKey::new(Cipher::Aes128Gcm, &[1; 16]).unwrap();
    let s2c = CipherKey::new(Cipher::Aes128Gcm, &[2; 16]).unwrap();
    let mut inner = f.session.lock();
    inner.decryption = Some(c2s.clone());
    inner.encryption = Some(s2c.clone());
    if encrypt_tree {
        let share = f.conn.server.share("data").unwrap();
        let id = inner
            .add_tree(share, 0x001F_01FF, true, common::full_grant())
            .id;
        drop(inner);
        return (Fixture { tree_id: id, ..f }, c2s, s2c);
    }
    drop(inner);
    (f, c2s, s2c)
}

fn seal(plain: &[u8], key: &CipherKey, nonces: &NonceCounter) -> Vec<u8> {
    let mut out = BytesMut::zeroed(encryption::RESERVED);
    out.extend_from_slice(plain);
    encryption::seal(&mut out, key, nonces, SESSION).unwrap();
    out.to_vec()
}

fn open_reply(reply: &BytesMut, s2c: &CipherKey) -> Vec<u8> {
    let session = rsmbd_server::session::Session::new(SESSION);
    session.lock().decryption = Some(s2c.clone());
    let session = std::sync::Arc::new(session);
    let mut buf = reply.clone();
    encryption::decrypt(&mut buf, |_| Some(std::sync::Arc::clone(&session))).unwrap();
    buf.to_vec()
}

#[tokio::test]
async fn encrypted_requests_get_encrypted_answers_and_altered_or_replayed_frames_end_the_connection(
) {
    let (f, c2s, s2c) = encrypted_fixture(true);
    let nonces = NonceCounter::default();
    let request = seal(&f.frame(Command::Close, &close_body()), &c2s, &nonces);
    let Outcome::Reply(reply) = send_raw(&f, &request).await else {
        panic!("no reply")
    };
    assert_eq!(
        &reply[..4],
        &[0xFD, b'S', b'M', b'B'],
        "the answer is encrypted"
    );
    let plain = open_reply(&reply, &s2c);
    assert_eq!(status(&plain), NtStatus::FILE_CLOSED);
    assert!(plain.len() >= HEADER_LEN);

    let mut altered = seal(&f.frame(Command::Close, &close_body()), &c2s, &nonces);
    let at = altered.len() - 3;
    altered[at] ^= 1;
    assert!(matches!(send_raw(&f, &altered).await, Outcome::Disconnect));

    let (f, c2s, _) = encrypted_fixture(true);
    let nonces = NonceCounter::default();
    let request = seal(&f.frame(Command::Close, &close_body()), &c2s, &nonces);
    assert!(matches!(send_raw(&f, &request).await, Outcome::Reply(_)));
    assert!(
        matches!(send_raw(&f, &request).await, Outcome::Disconnect),
        "a replayed frame reuses its MessageId"
    );
}

#[tokio::test]
async fn plaintext_on_an_encrypted_tree_is_refused() {
    let (f, _, _) = encrypted_fixture(true);
    let Outcome::Reply(reply) = send_raw(&f, &f.frame(Command::Close, &close_body())).await else {
        panic!()
    };
    assert_eq!(status(&reply), NtStatus::ACCESS_DENIED);
}

#[tokio::test]
async fn encrypted_frame_for_an_unknown_session_ends_the_connection() {
    let (f, c2s, _) = encrypted_fixture(false);
    let nonces = NonceCounter::default();
    let mut request = seal(&f.frame(Command::Close, &close_body()), &c2s, &nonces);
    request[44..52].copy_from_slice(&999u64.to_le_bytes());
    assert!(matches!(send_raw(&f, &request).await, Outcome::Disconnect));
}

fn validate_negotiate_ioctl(f: &Fixture, guid: [u8; 16], dialects: &[u16]) -> bytes::Bytes {
    use proto::messages::ioctl::{
        fsctl, IoctlRequest, ValidateNegotiateInfoRequest, IOCTL_IS_FSCTL,
    };
    use proto::messages::Body;
    let input = ValidateNegotiateInfoRequest {
        capabilities: 0,
        guid,
        security_mode: 1,
        dialects: dialects.to_vec(),
    }
    .encode();
    let req = IoctlRequest {
        ctl_code: fsctl::VALIDATE_NEGOTIATE_INFO,
        file_id: proto::FileId::COMPOUNDED,
        input: &input,
        output: &[],
        max_input_response: 0,
        max_output_response: 1024,
        flags: IOCTL_IS_FSCTL,
    };
    let mut w = BytesMut::new();
    Header::default().encode(&mut w);
    req.encode(&mut w, 0);
    f.frame(Command::Ioctl, &w[HEADER_LEN..])
}

#[tokio::test]
async fn validate_negotiate_confirms_a_genuine_negotiate_and_drops_a_tampered_one() {
    let f = common::fixture_with_dialect(0x0302);
    let Outcome::Reply(ok) = send_raw(&f, &validate_negotiate_ioctl(&f, [2; 16], &[0x0302])).await
    else {
        panic!("no reply")
    };
    assert_eq!(status(&ok), NtStatus::SUCCESS);
    // A man in the middle that removed 3.1.1 from the client's NEGOTIATE shows up as a dialect mismatch.
    let f = common::fixture_with_dialect(0x0302);
    let tampered = validate_negotiate_ioctl(&f, [2; 16], &[0x0302, 0x0311]);
    assert!(matches!(send_raw(&f, &tampered).await, Outcome::Disconnect));
    let f = common::fixture_with_dialect(0x0302);
    let other_guid = validate_negotiate_ioctl(&f, [3; 16], &[0x0302]);
    assert!(matches!(
        send_raw(&f, &other_guid).await,
        Outcome::Disconnect
    ));
}

/// MS-SMB2 3.3.5.2.9: once the session's credentials (a Kerberos ticket) expire, requests fail with
/// STATUS_NETWORK_SESSION_EXPIRED until the client re-authenticates; CLOSE, LOCK and LOGOFF still work.
#[tokio::test]
async fn an_expired_session_is_refused_until_it_re_authenticates_but_may_still_close() {
    let f = fixture();
    let fid = f.open_file().await;
    let with_fid = |fid: proto::FileId| {
        let mut b = BytesMut::from(&[24u8, 0, 0, 0, 0, 0, 0, 0][..]);
        fid.encode(&mut b);
        b
    };
    f.session.lock().expires =
        Some(std::time::SystemTime::now() - std::time::Duration::from_secs(1));
    let Outcome::Reply(r) = f.send(Command::Flush, &with_fid(fid)).await else {
        panic!("no reply")
    };
    assert_eq!(status(&r), NtStatus::NETWORK_SESSION_EXPIRED);
    let Outcome::Reply(r) = f.send(Command::Close, &with_fid(fid)).await else {
        panic!("no reply")
    };
    assert_eq!(status(&r), NtStatus::SUCCESS);
    f.session.lock().expires =
        Some(std::time::SystemTime::now() + std::time::Duration::from_secs(3600));
    let Outcome::Reply(r) = f.send(Command::Close, &close_body()).await else {
        panic!("no reply")
    };
    assert_eq!(
        status(&r),
        NtStatus::FILE_CLOSED,
        "a renewed session works again"
    );
}
