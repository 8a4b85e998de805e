"""Hostile SESSION_SETUP input: NTLMSSP and SPNEGO tokens whose lengths and offsets lie, endless first rounds,
wrong passwords sent in parallel or compounded on one connection, and SESSION_SETUP inside compound chains."""

import struct
import time

import pytest
from impacket import ntlm

import smb2raw as s
from smb2raw import Client

REFUSED = {s.LOGON_FAILURE, s.INVALID_PARAMETER}
NO_THROTTLE = pytest.mark.rsmbd_conf(extra_global="max logon failures = 0")


def patch(msg, at, length, offset):
    """Set an NTLMSSP (Len, MaxLen, Offset) field."""
    return msg[:at] + struct.pack("<HHI", length, length, offset) + msg[at + 8:]


def field(msg, at):
    return struct.unpack_from("<HHI", msg, at)


NT, DOMAIN, USER, KEY = 20, 28, 36, 52


def lie(case, msg):
    n = len(msg)
    if case == "nt_response_short":
        return patch(msg, NT, 8, field(msg, NT)[2])
    if case == "nt_response_empty":
        return patch(patch(msg, NT, 0, field(msg, NT)[2]), 12, 0, field(msg, 12)[2])
    if case == "nt_response_beyond":
        return patch(msg, NT, 0xFFFF, field(msg, NT)[2])
    if case == "session_key_long":
        return patch(msg, KEY, 32, n) + b"\x5a" * 32
    if case == "session_key_short":
        return patch(msg, KEY, 8, field(msg, KEY)[2])
    if case == "user_offset_beyond":
        return patch(msg, USER, 12, 0xFFFFFF00)
    if case == "user_offset_wraps":
        return patch(msg, USER, 4, 0xFFFFFFFE)
    if case == "domain_beyond":
        return patch(msg, DOMAIN, 0xFFFF, n - 2)
    if case == "user_inside_header":
        return patch(msg, USER, 8, 0)
    if case == "truncated":
        return msg[:40]
    raise ValueError(case)


@NO_THROTTLE
@pytest.mark.parametrize("case", ["nt_response_short", "nt_response_empty", "nt_response_beyond",
                                  "session_key_long", "session_key_short", "user_offset_beyond",
                                  "user_offset_wraps", "domain_beyond", "user_inside_header", "truncated"])
def test_ntlmssp_lengths(server, case):
    """ksmbd class: NTLMSSP AUTHENTICATE lengths and offsets were trusted (NtChallengeResponse shorter than its
    16-byte proof, a session key longer than 16 bytes copied into a fixed buffer, names outside the message).
    Even with the right password behind the lie the logon is refused and the half-made session is gone."""
    with Client(server.host, server.port) as c:
        assert c.negotiate().status == s.SUCCESS
        # Offering NTLM signing makes the client send an EncryptedRandomSessionKey (KEY_EXCH).
        type1 = ntlm.getNTLMSSPType1("", "", signingRequired=True, use_ntlmv2=True)
        r = c.session_setup(s.spnego_init(type1.getData()), session_id=0)
        assert r.status == s.MORE_PROCESSING_REQUIRED
        type3, _ = ntlm.getNTLMSSPType3(type1, s.spnego_inner(r), server.user, server.password, "", use_ntlmv2=True)
        assert type3["flags"] & ntlm.NTLMSSP_NEGOTIATE_KEY_EXCH
        bad = lie(case, type3.getData())
        r2 = c.session_setup(s.spnego_resp(bad), session_id=r.session_id)
        assert r2.status in REFUSED, hex(r2.status)
        t = c.call(s.TREE_CONNECT, s.tree_connect_body(f"\\\\{server.host}\\{server.share_name}"),
                   session_id=r.session_id)
        assert t.status == s.USER_SESSION_DELETED, hex(t.status)
        assert c.echo().status == s.SUCCESS
    s.still_serving(server)


def der(tag, content, length=None):
    n = len(content) if length is None else length
    if n < 0x80:
        enc = bytes([n])
    else:
        raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
        enc = bytes([0x80 | len(raw)]) + raw
    return bytes([tag]) + enc + content


SPNEGO_OID = bytes.fromhex("06062b0601050502")
NTLM_OID = bytes.fromhex("060a2b06010401823702020a")


def neg_token_init(mech_token, case=None):
    mech_types = der(0xA0, der(0x30, NTLM_OID))
    tok = der(0x04, mech_token, len(mech_token) + 100 if case == "mechtoken_beyond" else None)
    seq = mech_types + der(0xA2, tok)
    inner = der(0x30, seq, len(seq) + 50 if case == "inner_longer_than_outer" else None)
    wrapped = der(0xA0, inner)
    body = SPNEGO_OID + wrapped
    if case == "outer_beyond":
        return der(0x60, body, len(body) + 1000)
    if case == "length_of_length_huge":
        return b"\x60\x84\xff\xff\xff\xff" + body
    if case == "indefinite":
        return b"\x60\x80" + body
    if case == "nine_byte_length":
        return b"\x60\x89" + b"\x01" * 9 + body
    if case == "truncated":
        return b"\x60"
    if case == "deeply_nested":
        nest = NTLM_OID
        for _ in range(3000):
            nest = der(0x30, nest)
        return der(0x60, SPNEGO_OID + der(0xA0, der(0x30, der(0xA0, nest) + der(0xA2, tok))))
    return der(0x60, body)


@NO_THROTTLE
@pytest.mark.parametrize("case", ["outer_beyond", "mechtoken_beyond", "inner_longer_than_outer",
                                  "length_of_length_huge", "indefinite", "nine_byte_length", "truncated",
                                  "deeply_nested"])
def test_spnego_token_lengths(server, case):
    """ksmbd class: ASN.1 lengths in the SPNEGO wrapper were trusted (inner lengths beyond the buffer, nested
    lengths larger than their parent). Each lying token is refused; a well-formed one still works."""
    type1 = ntlm.getNTLMSSPType1("", "", signingRequired=False, use_ntlmv2=True).getData()
    with Client(server.host, server.port) as c:
        assert c.negotiate().status == s.SUCCESS
        assert c.session_setup(neg_token_init(type1), session_id=0).status == s.MORE_PROCESSING_REQUIRED
        r = c.session_setup(neg_token_init(type1, case), session_id=0)
        assert r.status in REFUSED, hex(r.status)
        # The second round's NegTokenResp with a lying inner length.
        _, ch = c.challenge()
        lying = der(0xA1, der(0x30, der(0xA2, der(0x04, b"NTLMSSP\0", 4000))))
        r = c.session_setup(lying, session_id=ch.session_id)
        assert r.status in REFUSED, hex(r.status)
    s.still_serving(server)


def test_endless_session_setup_is_bounded(server):
    """ksmbd class: every SESSION_SETUP with SessionId 0 created a new in-progress session that was never
    reaped, so a client could grow server memory without end. Sessions in setup are capped per connection
    (later first rounds fail), and thousands of rounds on several connections leave memory flat."""
    type1 = s.spnego_init(ntlm.getNTLMSSPType1("", "", signingRequired=False, use_ntlmv2=True).getData())
    body = struct.pack("<HBBIIHHQ", 25, 0, 1, 0, 0, s.HEADER_LEN + 24, len(type1), 0) + type1
    rss_before = s.rss_kib(server.proc.pid)
    conns = [Client(server.host, server.port, timeout=20) for _ in range(4)]
    try:
        for c in conns:
            assert c.negotiate().status == s.SUCCESS
        for _ in range(10):
            for c in conns:
                c.send_raw(b"".join(s.netbios(c.pdu(s.SESSION_SETUP, body, session_id=0)) for _ in range(50)))
        for c in conns:
            statuses = [c.recv()[0].status for _ in range(500)]
            accepted = statuses.count(s.MORE_PROCESSING_REQUIRED)
            assert 1 <= accepted <= 256, accepted
            assert set(statuses) <= {s.MORE_PROCESSING_REQUIRED, s.REQUEST_NOT_ACCEPTED,
                                     0xC000009A}, {hex(x) for x in statuses}
        assert s.rss_kib(server.proc.pid) - rss_before < 32 * 1024
    finally:
        for c in conns:
            c.close()
    s.still_serving(server)


@pytest.mark.rsmbd_conf(extra_global="interfaces = 127.0.0.1 ::1\nmax logon failures = 3\nlogon failure window = 60")
def test_parallel_wrong_passwords_on_one_connection(server):
    """ksmbd class (CVE-2023-32251 area): wrong passwords sent in parallel or compounded on one connection
    escaped the failure accounting. Every attempt counts: after the limit even the right password is refused
    from that address, while another address is served at once."""
    with Client(server.host, server.port, timeout=20) as c:
        assert c.negotiate().status == s.SUCCESS
        rounds = [c.challenge() for _ in range(7)]
        assert all(r.status == s.MORE_PROCESSING_REQUIRED for _, r in rounds)
        type3s = []
        for i, (type1, r) in enumerate(rounds):
            user, pw = ("mallory", f"guess{i}") if i < 6 else (server.user, server.password)
            t3, _ = ntlm.getNTLMSSPType3(type1, s.spnego_inner(r), user, pw, "", use_ntlmv2=True)
            tok = s.spnego_resp(t3.getData())
            type3s.append(struct.pack("<HBBIIHHQ", 25, 0, 1, 0, 0, s.HEADER_LEN + 24, len(tok), 0) + tok)
        # Three attempts compounded in one frame, then four pipelined frames without waiting.
        c.send(c.compound([c.pdu(s.SESSION_SETUP, b, session_id=r.session_id)
                           for b, (_, r) in zip(type3s[:3], rounds[:3])]))
        start = time.monotonic()
        for b, (_, r) in zip(type3s[3:], rounds[3:]):
            c.send(c.pdu(s.SESSION_SETUP, b, session_id=r.session_id))
        statuses = [x.status for x in c.recv()]
        while len(statuses) < 7:
            statuses += [x.status for x in c.recv()]
        assert statuses == [s.LOGON_FAILURE] * 7, [hex(x) for x in statuses]
        assert time.monotonic() - start < 15
    assert "too many failures" in server.log()
    s.still_serving(server, host="::1")


@NO_THROTTLE
def test_session_setup_inside_compound(server):
    """ksmbd class: SESSION_SETUP in a compound chain raced or freed the session the next request used. A
    failed logon followed by related requests leaves nothing usable; a chain of first rounds is bounded and
    answered in order; the connection keeps working."""
    unc = f"\\\\{server.host}\\{server.share_name}"
    with Client(server.host, server.port) as c:
        assert c.negotiate().status == s.SUCCESS
        type1, r = c.challenge()
        t3, _ = ntlm.getNTLMSSPType3(type1, s.spnego_inner(r), server.user, "wrong", "", use_ntlmv2=True)
        tok = s.spnego_resp(t3.getData())
        ss = struct.pack("<HBBIIHHQ", 25, 0, 1, 0, 0, s.HEADER_LEN + 24, len(tok), 0) + tok
        rel = dict(flags=s.FLAG_RELATED, session_id=0xFFFFFFFFFFFFFFFF, tree_id=0xFFFFFFFF)
        c.send(c.compound([c.pdu(s.SESSION_SETUP, ss, session_id=r.session_id),
                           c.pdu(s.TREE_CONNECT, s.tree_connect_body(unc), **rel),
                           c.pdu(s.CREATE, s.create_body("after-failed-logon.txt"), **rel)]))
        rs = c.recv()
        assert rs[0].status == s.LOGON_FAILURE
        assert all(x.status != s.SUCCESS for x in rs[1:]), [hex(x.status) for x in rs]
        assert not (server.share / "after-failed-logon.txt").exists()
        # Related first rounds inherit the new session id: a second round on it is the NTLM type 1 again.
        first = struct.pack("<HBBIIHHQ", 25, 0, 1, 0, 0, s.HEADER_LEN + 24, len(s.spnego_init(type1.getData())),
                            0) + s.spnego_init(type1.getData())
        c.send(c.compound([c.pdu(s.SESSION_SETUP, first, session_id=0)] +
                          [c.pdu(s.SESSION_SETUP, first, **rel) for _ in range(5)]))
        rs = c.recv()
        assert len(rs) == 6 and rs[0].status == s.MORE_PROCESSING_REQUIRED
        assert all(x.status in REFUSED | {s.MORE_PROCESSING_REQUIRED, s.REQUEST_NOT_ACCEPTED} for x in rs)
        assert c.echo().status == s.SUCCESS
        assert c.login(server.user, server.password).status == s.SUCCESS
        assert c.tree_connect(unc).status == s.SUCCESS
    s.still_serving(server)
