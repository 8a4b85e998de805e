"""Hostile compound chains and request races on an authenticated connection: related requests after
TREE_DISCONNECT or LOGOFF, ids of another session inside a chain, LOGOFF and TREE_DISCONNECT racing pipelined
READ/WRITE/LOCK/CHANGE_NOTIFY, and credit flooding."""

import struct
import time

import pytest

import smb2raw as s
from smb2raw import Client

REL = dict(flags=s.FLAG_RELATED, session_id=0xFFFFFFFFFFFFFFFF, tree_id=0xFFFFFFFF)


def test_tree_disconnect_then_related_request(server):
    """ksmbd class: a request related to a TREE_DISCONNECT in the same chain still used the freed tree connect.
    The related requests fail with STATUS_NETWORK_NAME_DELETED (MS-SMB2 3.3.5.2.11), nothing is created, and
    the tree id stays dead."""
    with s.logged_on(server) as c:
        tid = c.tree_id
        c.send(c.compound([c.pdu(s.TREE_DISCONNECT, struct.pack("<HH", 4, 0)),
                           c.pdu(s.CREATE, s.create_body("after-tdis.txt", disposition=s.FILE_CREATE), **REL),
                           c.pdu(s.WRITE, s.write_body(s.FILE_ID_NONE, 0, b"x" * 100), **REL)]))
        rs = c.recv()
        assert [r.status for r in rs] == [s.SUCCESS, s.NETWORK_NAME_DELETED, s.NETWORK_NAME_DELETED]
        r, _ = c.create("after-tdis.txt", tree_id=tid)
        assert r.status == s.NETWORK_NAME_DELETED
        # An open file, then TREE_DISCONNECT and a related WRITE/READ on that file id in one chain.
        assert c.tree_connect(f"\\\\{server.host}\\{server.share_name}").status == s.SUCCESS
        r, fid = c.create("open-before-tdis.txt")
        assert r.status == s.SUCCESS
        c.send(c.compound([c.pdu(s.TREE_DISCONNECT, struct.pack("<HH", 4, 0)),
                           c.pdu(s.WRITE, s.write_body(fid, 0, b"late"), **REL),
                           c.pdu(s.READ, s.read_body(fid, 0, 4), **REL)]))
        rs = c.recv()
        assert [r.status for r in rs] == [s.SUCCESS, s.NETWORK_NAME_DELETED, s.NETWORK_NAME_DELETED]
        # LOGOFF then a related TREE_CONNECT: the session is gone.
        c.send(c.compound([c.pdu(s.LOGOFF, struct.pack("<HH", 4, 0)),
                           c.pdu(s.TREE_CONNECT, s.tree_connect_body(f"\\\\{server.host}\\{server.share_name}"),
                                 **REL)]))
        rs = c.recv()
        assert [r.status for r in rs] == [s.SUCCESS, s.USER_SESSION_DELETED]
    with s.logged_on(server) as c:
        # CLOSE inside the chain, then related requests on the file it closed.
        c.send(c.compound([c.pdu(s.CREATE, s.create_body("closed-in-chain.txt")),
                           c.pdu(s.CLOSE, struct.pack("<HHI16s", 24, 0, 0, s.FILE_ID_NONE), **REL),
                           c.pdu(s.WRITE, s.write_body(s.FILE_ID_NONE, 0, b"late"), **REL),
                           c.pdu(s.READ, s.read_body(s.FILE_ID_NONE, 0, 4), **REL)]))
        rs = c.recv()
        assert [r.status for r in rs] == [s.SUCCESS, s.SUCCESS, s.FILE_CLOSED, s.FILE_CLOSED]
    assert (server.share / "closed-in-chain.txt").read_bytes() == b""
    assert (server.share / "open-before-tdis.txt").read_bytes() == b""
    assert not (server.share / "after-tdis.txt").exists()
    s.still_serving(server)


def test_differing_ids_inside_compound(server):
    """ksmbd class: each request of a chain was checked against the first request's session, or a tree id of one
    session was accepted under another. A tree id belongs to its own session; a related request uses the
    chain's ids whatever its header says; an unknown session id is STATUS_USER_SESSION_DELETED."""
    unc = f"\\\\{server.host}\\{server.share_name}"
    with s.logged_on(server) as c:
        sid_a, tid_a = c.session_id, c.tree_id
        assert c.login(server.user, server.password).status == s.SUCCESS
        sid_b = c.session_id
        # Tree ids are numbered per session: the second tree of B has an id that A does not know.
        assert c.tree_connect(unc).status == s.SUCCESS
        assert c.tree_connect(unc).status == s.SUCCESS
        tid_b = c.tree_id
        assert sid_a != sid_b and tid_b != tid_a
        c.send(c.compound([
            c.pdu(s.CREATE, s.create_body("ids-a.txt"), session_id=sid_a, tree_id=tid_a),
            c.pdu(s.CREATE, s.create_body("ids-cross.txt"), session_id=sid_a, tree_id=tid_b),
            c.pdu(s.CREATE, s.create_body("ids-ghost.txt"), session_id=0x7777777777, tree_id=tid_a),
            c.pdu(s.ECHO, struct.pack("<HH", 4, 0), session_id=sid_b, tree_id=tid_b),
        ]))
        rs = c.recv()
        assert [r.status for r in rs] == [s.SUCCESS, s.NETWORK_NAME_DELETED, s.USER_SESSION_DELETED, s.SUCCESS]
        assert rs[0].session_id == sid_a
        # Related requests whose headers name another session still act for the chain's session.
        c.send(c.compound([
            c.pdu(s.CREATE, s.create_body("ids-rel.txt"), session_id=sid_b, tree_id=tid_b),
            c.pdu(s.WRITE, s.write_body(s.FILE_ID_NONE, 0, b"rel"), flags=s.FLAG_RELATED, session_id=0x7777777777,
                  tree_id=0xBEEF),
            c.pdu(s.CLOSE, struct.pack("<HHI16s", 24, 0, 0, s.FILE_ID_NONE), flags=s.FLAG_RELATED,
                  session_id=sid_a, tree_id=tid_a),
        ]))
        rs = c.recv()
        assert [r.status for r in rs] == [s.SUCCESS] * 3
        assert all(r.session_id == sid_b for r in rs)
    assert (server.share / "ids-rel.txt").read_bytes() == b"rel"
    assert not (server.share / "ids-cross.txt").exists() and not (server.share / "ids-ghost.txt").exists()
    s.still_serving(server)


@pytest.mark.parametrize("ender", [s.LOGOFF, s.TREE_DISCONNECT])
def test_teardown_racing_running_requests(server, ender):
    """ksmbd class: LOGOFF or TREE_DISCONNECT freed the session or tree while earlier requests of the same
    connection were still running on it (use after free). Pipelined 64 KiB WRITEs and READs, a LOCK and a
    CHANGE_NOTIFY, then the teardown: every request is answered, later ones fail cleanly, repeated runs keep
    memory flat."""
    chunk = b"w" * 65536
    rss_before = s.rss_kib(server.proc.pid)
    for round_ in range(15):
        with s.logged_on(server) as c:
            r, fid = c.create(f"race{round_}.bin")
            assert r.status == s.SUCCESS
            r, dfid = c.create("", access=s.GENERIC_READ, disposition=s.FILE_OPEN, options=s.DIRECTORY_FILE)
            assert r.status == s.SUCCESS
            frames = [c.pdu(s.WRITE, s.write_body(fid, i * 65536, chunk)) for i in range(8)]
            frames += [c.pdu(s.READ, s.read_body(fid, i * 65536, 65536)) for i in range(4)]
            frames.append(c.pdu(s.LOCK, s.lock_body(fid, [(0, 10, 0x2)])))
            frames.append(c.pdu(s.CHANGE_NOTIFY, struct.pack("<HHI16sII", 32, 0, 4096, dfid, 0x17, 0)))
            frames.append(c.pdu(ender, struct.pack("<HH", 4, 0)))
            frames += [c.pdu(s.WRITE, s.write_body(fid, 0, b"after")), c.pdu(s.READ, s.read_body(fid, 0, 5))]
            c.send_raw(b"".join(s.netbios(f) for f in frames))
            got = {}
            deadline = time.monotonic() + 20
            while len(got) < len(frames) and time.monotonic() < deadline:
                for r in c.recv():
                    got[r.message_id] = r
            assert len(got) == len(frames)
            statuses = [got[m].status for m in sorted(got)]
            assert statuses[len(frames) - 3] == s.SUCCESS
            gone = s.USER_SESSION_DELETED if ender == s.LOGOFF else s.NETWORK_NAME_DELETED
            assert statuses[-2:] == [gone, gone], [hex(x) for x in statuses]
            allowed = {s.SUCCESS, s.FILE_CLOSED, s.USER_SESSION_DELETED, s.NETWORK_NAME_DELETED, s.NOT_SUPPORTED,
                       s.CANCELLED, 0x0000010B, s.END_OF_FILE, s.INVALID_HANDLE}
            assert set(statuses) <= allowed, [hex(x) for x in statuses]
            assert c.echo().status == s.SUCCESS
    assert s.rss_kib(server.proc.pid) - rss_before < 32 * 1024
    s.still_serving(server)


@pytest.mark.rsmbd_conf(extra_global="smb2 max credits = 512")
def test_credit_flooding(server):
    """ksmbd class: the credit grant followed what the client asked for (65535 per request, huge
    CreditCharge), so one client could claim unbounded server resources. Outstanding credits never exceed
    `smb2 max credits`, also when requests spend many credits at once; a charge beyond the window, a
    MessageId beyond it or a reused MessageId ends the connection."""
    echo = struct.pack("<HH", 4, 0)
    with Client(server.host, server.port) as c:
        r = c.call(s.NEGOTIATE, struct.pack("<HHHHI16sIHH", 36, 1, 1, 0, 0, b"x" * 16, 0, 0, 0) + b"\x10\x02",
                   credits=65535, credit_charge=0)
        assert r.status == s.SUCCESS
        outstanding = r.credits
        assert outstanding <= 512
        for i in range(400):
            if i % 2:
                # Spend as much as the window holds in one request.
                charge = min(outstanding, 256)
                c.send(c.pdu(s.ECHO, echo, session_id=0, credits=65535, credit_charge=charge))
                outstanding -= charge
                burst = 1
            else:
                burst = min(outstanding, 32)
                c.send_raw(b"".join(s.netbios(c.pdu(s.ECHO, echo, session_id=0, credits=65535))
                                    for _ in range(burst)))
                outstanding -= burst
            for _ in range(burst):
                r = c.recv()[0]
                assert r.status == s.SUCCESS
                outstanding += r.credits
                assert 1 <= outstanding <= 512, outstanding
        c.send(c.pdu(s.ECHO, echo, session_id=0, credit_charge=65535, credits=65535))
        assert c.closed_by_server()
    with Client(server.host, server.port) as c:
        assert c.negotiate().status == s.SUCCESS
        c.send(c.pdu(s.ECHO, echo, session_id=0, mid=10 ** 12))
        assert c.closed_by_server()
    with Client(server.host, server.port) as c:
        assert c.negotiate().status == s.SUCCESS
        c.send(c.pdu(s.ECHO, echo, session_id=0, mid=0))
        assert c.closed_by_server()
    s.still_serving(server)


def test_charge_and_length_beyond_limits(server):
    """ksmbd class: lengths the client asks the server to produce (READ Length, output buffer sizes) were
    allocated before being checked, and payloads larger than their CreditCharge covers were accepted. Each is
    STATUS_INVALID_PARAMETER (MS-SMB2 3.3.5.2.5) and memory stays flat."""
    mib = 1024 * 1024
    rss_before = s.rss_kib(server.proc.pid)
    with s.logged_on(server) as c:
        r, fid = c.create("charge.bin")
        r, d = c.create("", access=s.GENERIC_READ, disposition=s.FILE_OPEN, options=s.DIRECTORY_FILE)
        for _ in range(20):
            for cmd, body in ((s.READ, s.read_body(fid, 0, 0xFFFFFFFF)),
                              (s.QUERY_DIRECTORY, s.query_directory_body(d, "*", out_len=0xFFFFFFFF)),
                              (s.QUERY_INFO, s.query_info_body(fid, 1, 18, out_len=0xFFFFFFFF)),
                              (s.IOCTL, struct.pack("<HHI16sIIIIIIII", 57, 0, 0x00140204, fid, 0, 0, 0,
                                                    0xFFFFFFFF, 0, 0, 1, 0)),
                              (s.WRITE, s.write_body(fid, 0, b"c" * mib)),
                              (s.READ, s.read_body(fid, 0, mib))):
                r = c.call(cmd, body)
                assert r.status == s.INVALID_PARAMETER, (cmd, hex(r.status))
        assert c.call(s.WRITE, s.write_body(fid, 0, b"c" * mib), credit_charge=16).status == s.SUCCESS
        assert c.call(s.READ, s.read_body(fid, 0, mib), credit_charge=16).status == s.SUCCESS
    assert s.rss_kib(server.proc.pid) - rss_before < 32 * 1024
    s.still_serving(server)


def test_every_compound_response_is_padded(server):
    """In a compound response every PDU, the last one included, is padded to 8 bytes (as Windows sends them;
    smbtorture smb2.compound.compound-padding); a lone READ response of 3 bytes is not padded."""
    (server.share / "three.txt").write_bytes(b"abc")
    with s.logged_on(server) as c:
        c.send(c.compound([c.pdu(s.CREATE, s.create_body("three.txt", access=s.GENERIC_READ, disposition=s.FILE_OPEN)),
                           c.pdu(s.READ, s.read_body(s.FILE_ID_NONE, 0, 3), **REL)]))
        frame = c.recv_frame()
        read_at = struct.unpack_from("<I", frame, 20)[0]
        assert read_at % 8 == 0 and len(frame) - read_at == 64 + 24, (read_at, len(frame))
        r, fid = c.create("three.txt", access=s.GENERIC_READ, disposition=s.FILE_OPEN)
        c.send(c.compound([c.pdu(s.READ, s.read_body(fid, 0, 3))]))
        assert len(c.recv_frame()) == 64 + 19


def test_failure_on_an_open_file_does_not_carry(server):
    """A refused WRITE in a related chain leaves the file to the next operation, as on Windows (smbtorture
    smb2.compound.related6); a failed CREATE carries its status to everything related after it."""
    (server.share / "ro.txt").write_bytes(b"abc")
    with s.logged_on(server) as c:
        c.send(c.compound([c.pdu(s.CREATE, s.create_body("ro.txt", access=s.FILE_READ_DATA, disposition=s.FILE_OPEN)),
                           c.pdu(s.WRITE, s.write_body(s.FILE_ID_NONE, 0, b"no"), **REL),
                           c.pdu(s.READ, s.read_body(s.FILE_ID_NONE, 0, 3), **REL),
                           c.pdu(s.CLOSE, struct.pack("<HHI16s", 24, 0, 0, s.FILE_ID_NONE), **REL)]))
        assert [r.status for r in c.recv()] == [s.SUCCESS, s.ACCESS_DENIED, s.SUCCESS, s.SUCCESS]
        c.send(c.compound([c.pdu(s.CREATE, s.create_body("missing.txt", disposition=s.FILE_OPEN)),
                           c.pdu(s.READ, s.read_body(s.FILE_ID_NONE, 0, 3), **REL),
                           c.pdu(s.CLOSE, struct.pack("<HHI16s", 24, 0, 0, s.FILE_ID_NONE), **REL)]))
        assert [r.status for r in c.recv()] == [s.OBJECT_NAME_NOT_FOUND] * 3
    assert (server.share / "ro.txt").read_bytes() == b"abc"
