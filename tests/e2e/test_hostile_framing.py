"""Hostile input before and around logon: malformed transport frames, SMB2 headers, NEGOTIATE requests and
compound chains, sent raw to the real daemon. Each case checks the offender gets the error Windows sends or loses
its connection, and that a well-behaved client is served afterwards."""

import socket
import struct
import time

import pytest

import smb2raw as s
from smb2raw import Client


def expect_closed_or(c, statuses):
    """The server either answers with one of `statuses` or closes the connection."""
    try:
        r = c.recv()[0]
    except (ConnectionError, socket.timeout, OSError) as e:
        assert not isinstance(e, socket.timeout), "no answer and no close"
        return None
    assert r.status in statuses, hex(r.status)
    return r.status


def negotiate_body(dialects, count=None, ctx_offset=0, ctx_count=0, contexts=b"", structure_size=36):
    body = struct.pack("<HHHHI16sIHH", structure_size, len(dialects) if count is None else count, 1, 0, 0,
                       b"rsmbd-hostile-ts", ctx_offset, ctx_count, 0)
    body += b"".join(struct.pack("<H", d) for d in dialects)
    if contexts:
        body += b"\0" * (-(s.HEADER_LEN + len(body)) % 8) + contexts
    return body


def test_bad_protocol_id(server):
    """ksmbd class: a header whose ProtocolId is neither SMB2 nor SMB1 was processed anyway. It must be dropped."""
    for proto in (b"\xfeSMX", b"\xfdSMB", b"\0\0\0\0"):
        with Client(server.host, server.port) as c:
            c.send(s.header(s.NEGOTIATE, 0, protocol=proto) + negotiate_body([s.SMB2_1]))
            assert c.closed_by_server()
    s.still_serving(server)


def test_netbios_length_shorter_than_header(server):
    """ksmbd class: a transport length smaller than the SMB2 header led to reads past the received bytes."""
    full = s.header(s.NEGOTIATE, 0) + negotiate_body([s.SMB2_1])
    for n in (0, 1, 4, 63):
        with Client(server.host, server.port) as c:
            c.send_raw(s.netbios(full[:n]))
            if n == 0:
                # An empty frame may be ignored; the connection must still work or be closed.
                c.send(full)
                expect_closed_or(c, {s.SUCCESS})
            else:
                assert c.closed_by_server()
    # A NetBIOS session request (type 0x81) and an unknown type are not SMB2 frames either.
    for first in (b"\x81", b"\x42"):
        with Client(server.host, server.port) as c:
            c.send_raw(first + s.netbios(full)[1:])
            assert c.closed_by_server()
    s.still_serving(server)


def test_structure_size_mismatch(server):
    """ksmbd class: bodies were parsed by their declared StructureSize without checking it. A wrong header or body
    StructureSize must be refused (MS-SMB2 3.3.5.2: STATUS_INVALID_PARAMETER) or the connection closed."""
    with Client(server.host, server.port) as c:
        c.send(s.header(s.NEGOTIATE, 0, structure_size=63) + negotiate_body([s.SMB2_1]))
        expect_closed_or(c, {s.INVALID_PARAMETER})
    with Client(server.host, server.port) as c:
        c.send(s.header(s.NEGOTIATE, 0) + negotiate_body([s.SMB2_1], structure_size=37))
        expect_closed_or(c, {s.INVALID_PARAMETER})
    with s.logged_on(server) as c:
        for cmd, body in ((s.ECHO, struct.pack("<HH", 5, 0)), (s.ECHO, b"\x04"),
                          (s.CLOSE, struct.pack("<HHI16s", 23, 0, 0, s.FILE_ID_NONE)),
                          (s.READ, struct.pack("<HBBIQ", 49, 0, 0, 10, 0)),
                          (s.CREATE, struct.pack("<H", 57))):
            r = c.call(cmd, body)
            assert r.status == s.INVALID_PARAMETER, (cmd, hex(r.status))
        assert c.echo().status == s.SUCCESS
    s.still_serving(server)


def neg_ctx(ctx_type, data):
    c = struct.pack("<HHI", ctx_type, len(data), 0) + data
    return c + b"\0" * (-len(c) % 8)


PREAUTH = neg_ctx(1, struct.pack("<HHH", 1, 32, 1) + b"\x11" * 32)
CTX_BASE = s.HEADER_LEN + 36 + 2 + (-(s.HEADER_LEN + 36 + 2) % 8)

# case: (NegotiateContextOffset, NegotiateContextCount, context bytes)
NEG_CONTEXT_LIES = {
    "offset_beyond": (0xFFFF0, 1, PREAUTH),
    "offset_misaligned": (CTX_BASE + 3, 1, PREAUTH),
    "offset_inside_header": (8, 1, PREAUTH),
    "data_length_beyond": (CTX_BASE, 1, struct.pack("<HHI", 1, 0xFFF0, 0) + PREAUTH[8:]),
    "count_beyond": (CTX_BASE, 500, PREAUTH),
    "truncated_context_header": (CTX_BASE, 1, PREAUTH[:5]),
    "salt_beyond": (CTX_BASE, 1, neg_ctx(1, struct.pack("<HHH", 1, 200, 1) + b"\x11" * 32)),
    "hash_count_beyond": (CTX_BASE, 1, neg_ctx(1, struct.pack("<HHH", 300, 0, 1))),
    "no_preauth": (CTX_BASE, 1, neg_ctx(2, struct.pack("<HH", 1, 1))),
    "cipher_count_beyond": (CTX_BASE, 2, PREAUTH + neg_ctx(2, struct.pack("<HH", 500, 1))),
    "signing_count_beyond": (CTX_BASE, 2, PREAUTH + neg_ctx(8, struct.pack("<HH", 500, 1))),
    "compression_count_beyond": (CTX_BASE, 2, PREAUTH + neg_ctx(3, struct.pack("<HHI", 500, 0, 0) + b"\1\0")),
    "rdma_count_beyond": (CTX_BASE, 2, PREAUTH + neg_ctx(7, struct.pack("<HHI", 500, 0, 0))),
    "transport_short": (CTX_BASE, 2, PREAUTH + neg_ctx(6, b"")),
    "duplicate_preauth": (CTX_BASE, 2, PREAUTH + PREAUTH),
    "duplicate_encryption": (CTX_BASE, 3, PREAUTH + neg_ctx(2, struct.pack("<HH", 1, 1)) * 2),
    "duplicate_signing": (CTX_BASE, 3, PREAUTH + neg_ctx(8, struct.pack("<HH", 1, 1)) * 2),
}


@pytest.mark.parametrize("case", sorted(NEG_CONTEXT_LIES))
def test_negotiate_context_underflow(server, case):
    """ksmbd class: NEGOTIATE context offsets, counts and lengths were trusted, so the parser walked off the end
    of the buffer (length underflow), and repeated contexts overwrote each other. MS-SMB2 3.3.5.4: each lie
    or repeat is STATUS_INVALID_PARAMETER (or the connection is dropped); nothing crashes."""
    ctx_offset, ctx_count, contexts = NEG_CONTEXT_LIES[case]
    with Client(server.host, server.port) as c:
        c.send(s.header(s.NEGOTIATE, 0, credit_charge=0) + negotiate_body([s.SMB3_1_1], ctx_offset=ctx_offset,
                                                                           ctx_count=ctx_count, contexts=contexts))
        expect_closed_or(c, {s.INVALID_PARAMETER})
    with Client(server.host, server.port) as c:
        c.send(s.header(s.NEGOTIATE, 0, credit_charge=0) + negotiate_body([s.SMB3_1_1], ctx_offset=CTX_BASE,
                                                                           ctx_count=1, contexts=PREAUTH))
        r = c.recv()[0]
        assert r.status == s.SUCCESS and r.field("<H", 4)[0] == s.SMB3_1_1
    s.still_serving(server)


def test_dialect_count_beyond_buffer(server):
    """ksmbd class: DialectCount was trusted and the dialect array read past the PDU."""
    for count in (3, 200, 0xFFFF, 0):
        with Client(server.host, server.port) as c:
            c.send(s.header(s.NEGOTIATE, 0, credit_charge=0) + negotiate_body([s.SMB2_1, s.SMB3_0_2], count=count))
            expect_closed_or(c, {s.INVALID_PARAMETER})
    s.still_serving(server)


def test_smb2_then_smb1_negotiate(server):
    """ksmbd class: a second NEGOTIATE (SMB1 after SMB2) on a negotiated connection re-ran negotiation over live
    state. MS-SMB2 3.3.5.3: the server disconnects."""
    smb1 = b"\xffSMB" + b"\x72" + b"\0" * 4 + b"\x18" + b"\x01\x28" + b"\0" * 22
    smb1 += b"\x00" + struct.pack("<H", 12) + b"\x02NT LM 0.12\0"
    with Client(server.host, server.port) as c:
        assert c.negotiate().status == s.SUCCESS
        c.send_raw(s.netbios(smb1))
        assert c.closed_by_server()
    with Client(server.host, server.port) as c:
        assert c.negotiate().status == s.SUCCESS
        c.send(c.pdu(s.NEGOTIATE, negotiate_body([s.SMB2_1])))
        assert c.closed_by_server()
    s.still_serving(server)


def test_unknown_command(server):
    """ksmbd class: the Command field indexed the handler table without a bounds check. A command beyond the
    last SMB2 command closes the connection."""
    for command in (0x13, 0xFF, 0xFFFF):
        with Client(server.host, server.port) as c:
            assert c.negotiate().status == s.SUCCESS
            c.send(c.pdu(command, struct.pack("<HH", 4, 0), session_id=0))
            assert c.closed_by_server()
    s.still_serving(server)


@pytest.mark.parametrize("next_command", [8, 60, 68, 0x1000, 0xFFFFFFF8])
def test_next_command_beyond_frame_or_misaligned(server, next_command):
    """ksmbd class: NextCommand was used to index the receive buffer unchecked (beyond the frame, shorter than a
    header, misaligned). The chain is refused by closing the connection."""
    with Client(server.host, server.port) as c:
        assert c.negotiate().status == s.SUCCESS
        pdu = c.pdu(s.ECHO, struct.pack("<HH", 4, 0), session_id=0) + b"\0" * 8
        pdu = pdu[:20] + struct.pack("<I", next_command) + pdu[24:]
        c.send(pdu + c.pdu(s.ECHO, struct.pack("<HH", 4, 0), session_id=0))
        assert c.closed_by_server()
    s.still_serving(server)


def test_echo_first_then_related(server):
    """ksmbd class: a compound started by a session-less request (ECHO) let related requests inherit a stale or
    missing session. MS-SMB2 3.3.5.2.7.2: the related requests fail with STATUS_INVALID_PARAMETER."""
    with s.logged_on(server) as c:
        echo = c.pdu(s.ECHO, struct.pack("<HH", 4, 0), session_id=0, tree_id=0)
        create = c.pdu(s.CREATE, s.create_body("echo-related.txt", disposition=s.FILE_CREATE), flags=s.FLAG_RELATED,
                       session_id=0xFFFFFFFFFFFFFFFF, tree_id=0xFFFFFFFF)
        tdis = c.pdu(s.TREE_DISCONNECT, struct.pack("<HH", 4, 0), flags=s.FLAG_RELATED,
                     session_id=0xFFFFFFFFFFFFFFFF, tree_id=0xFFFFFFFF)
        c.send(c.compound([echo, create, tdis]))
        rs = c.recv()
        assert [r.status for r in rs] == [s.SUCCESS, s.INVALID_PARAMETER, s.INVALID_PARAMETER]
        assert not (server.share / "echo-related.txt").exists()
        r, fid = c.create("still-works.txt")
        assert r.status == s.SUCCESS
    s.still_serving(server)


def test_many_connections_from_one_address(server):
    """ksmbd class: every connection pinned memory and threads without limit. 200 idle or half-negotiated
    sockets must not stop the server from serving a new client, and closing them releases the memory."""
    socks = []
    rss_before = s.rss_kib(server.proc.pid)
    try:
        for i in range(200):
            c = Client(server.host, server.port, timeout=5)
            socks.append(c)
            if i % 2:
                c.send(c.pdu(s.NEGOTIATE, negotiate_body([s.SMB2_1]), credit_charge=0))
        start = time.monotonic()
        s.still_serving(server)
        assert time.monotonic() - start < 10
    finally:
        for c in socks:
            c.close()
    time.sleep(0.5)
    s.still_serving(server)
    assert s.rss_kib(server.proc.pid) - rss_before < 32 * 1024


def test_large_frames_before_logon(server):
    """ksmbd class: before authentication the transport length was trusted up to the largest frame the server
    accepts, so anonymous peers could make it reserve and hold megabytes per connection. Until a session is
    established only frames of NEGOTIATE/SESSION_SETUP size are accepted: a larger one ends the connection
    before its body is awaited, and many such peers leave memory flat."""
    big = 1024 * 1024
    for negotiated in (False, True):
        with Client(server.host, server.port) as c:
            if negotiated:
                assert c.negotiate().status == s.SUCCESS
            c.send_raw(s.netbios(c.pdu(s.ECHO, struct.pack("<HH", 4, 0), session_id=0), length=big))
            assert c.closed_by_server(timeout=3)
    rss_before = s.rss_kib(server.proc.pid)
    peers = []
    try:
        for _ in range(60):
            c = Client(server.host, server.port)
            peers.append(c)
            try:
                c.send_raw(s.netbios(b"\xfeSMB" + b"\0" * (256 * 1024), length=8 * 1024 * 1024))
            except OSError:
                pass
        time.sleep(0.5)
        assert s.rss_kib(server.proc.pid) - rss_before < 8 * 1024
    finally:
        for c in peers:
            c.close()
    # An authenticated session still moves 1 MiB frames.
    with s.logged_on(server) as c:
        r, fid = c.create("big-after-logon.bin")
        assert c.call(s.WRITE, s.write_body(fid, 0, b"b" * big), credit_charge=16).status == s.SUCCESS
    s.still_serving(server)
