"""The resource limits of DESIGN.md decision 9 as smb.conf parameters, each driven against a live daemon:
`handshake timeout`, `max tcp connections`, `max connections per address`, `max sessions per connection`,
`max tree connects per session`, `max open files`, `max byte range locks`, `max pdu size` and `max outstanding requests`."""

import hashlib
import resource
import socket
import struct
import subprocess
import time
import uuid
from pathlib import Path

import pytest
from smbprotocol.connection import Connection
from smbprotocol.exceptions import SMBResponseException
from smbprotocol.open import CreateDisposition, FilePipePrinterAccessMask, ImpersonationLevel, Open, ShareAccess
from smbprotocol.session import Session
from smbprotocol.tree import TreeConnect

import smb2raw as s
from rsmbd_server import RsmbdServer

STATUS_REQUEST_NOT_ACCEPTED = 0xC00000D0
STATUS_TOO_MANY_OPENED_FILES = 0xC000011F


def serve(tmp_path_factory, global_conf, share_conf=""):
    return RsmbdServer(extra_global=global_conf, extra_share=share_conf, tmp_root=tmp_path_factory.getbasetemp())


def closed_by_server(sock, wait=3.0):
    """True if the server closes `sock` within `wait` seconds (EOF or reset)."""
    sock.settimeout(wait)
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def negotiate_frame():
    """A minimal SMB2 NEGOTIATE offering 2.1, framed for direct TCP."""
    header = b"\xfeSMB" + struct.pack("<HHIHHIIQIIQ16s", 64, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, b"")
    body = struct.pack("<HHHHI16sQ", 36, 1, 1, 0, 0, uuid.uuid4().bytes, 0) + struct.pack("<H", 0x0210)
    pdu = header + body
    return struct.pack(">I", len(pdu)) + pdu


def recv_exact(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            return data
        data += chunk
    return data


def answers_negotiate_on(sock):
    """Sends NEGOTIATE on `sock`; true if a whole SMB2 response comes back."""
    sock.settimeout(5)
    sock.sendall(negotiate_frame())
    head = recv_exact(sock, 4)
    if len(head) < 4:
        return False
    body = recv_exact(sock, struct.unpack(">I", head)[0])
    return body[:4] == b"\xfeSMB" and len(body) > 64


def answers_negotiate(host, port, family=socket.AF_INET):
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.settimeout(5)
        s.connect((host, port))
        return answers_negotiate_on(s)


def smb_session(srv):
    conn = Connection(uuid.uuid4(), srv.host, srv.port, require_signing=True)
    conn.connect(timeout=20)
    session = Session(conn, srv.user, srv.password, require_encryption=False)
    session.connect()
    return conn, session


def test_handshake_timeout_closes_idle_unauthenticated_connections(tmp_path_factory):
    with serve(tmp_path_factory, "handshake timeout = 1") as srv:
        idle = socket.create_connection((srv.host, srv.port))
        negotiated = socket.create_connection((srv.host, srv.port))
        assert answers_negotiate_on(negotiated)
        conn, session = smb_session(srv)
        try:
            assert closed_by_server(idle, 5) and closed_by_server(negotiated, 5)
            tree = TreeConnect(session, f"\\\\{srv.host}\\{srv.share_name}")
            tree.connect()  # the authenticated connection outlived the timeout
            tree.disconnect()
        finally:
            conn.disconnect()
            idle.close()
            negotiated.close()


def test_max_tcp_connections(tmp_path_factory):
    with serve(tmp_path_factory, "max tcp connections = 3") as srv:
        time.sleep(0.5)  # the start-up probe's connection must be gone from the count first
        held = [socket.create_connection((srv.host, srv.port)) for _ in range(3)]
        try:
            assert all(answers_negotiate_on(s) for s in held)
            extra = socket.create_connection((srv.host, srv.port))
            assert closed_by_server(extra)
            extra.close()
            held.pop().close()
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                try:
                    if answers_negotiate(srv.host, srv.port):
                        break
                except OSError:
                    time.sleep(0.1)
            else:
                pytest.fail("a freed place was not reused")
        finally:
            for s in held:
                s.close()


def test_max_connections_per_address(tmp_path_factory):
    with serve(tmp_path_factory, "interfaces = 127.0.0.1 ::1\nmax connections per address = 2") as srv:
        time.sleep(0.5)  # the start-up probe's connection must be gone from the count first
        held = [socket.create_connection(("127.0.0.1", srv.port)) for _ in range(2)]
        try:
            assert all(answers_negotiate_on(s) for s in held)
            extra = socket.create_connection(("127.0.0.1", srv.port))
            assert closed_by_server(extra)
            extra.close()
            assert answers_negotiate("::1", srv.port, socket.AF_INET6), "another address is still served"
        finally:
            for s in held:
                s.close()


def test_max_sessions_per_connection(tmp_path_factory):
    with serve(tmp_path_factory, "max sessions per connection = 2") as srv:
        conn, _ = smb_session(srv)
        try:
            Session(conn, srv.user, srv.password, require_encryption=False).connect()
            with pytest.raises(SMBResponseException) as refused:
                Session(conn, srv.user, srv.password, require_encryption=False).connect()
            assert refused.value.status == STATUS_REQUEST_NOT_ACCEPTED
        finally:
            conn.disconnect()


def test_max_open_files(tmp_path_factory):
    with serve(tmp_path_factory, "max open files = 4") as srv:
        conn, session = smb_session(srv)
        try:
            tree = TreeConnect(session, f"\\\\{srv.host}\\{srv.share_name}")
            tree.connect()

            def create(name):
                o = Open(tree, name)
                o.create(ImpersonationLevel.Impersonation, FilePipePrinterAccessMask.GENERIC_ALL, 0,
                         ShareAccess.FILE_SHARE_READ, CreateDisposition.FILE_OPEN_IF, 0)
                return o

            opens = [create(f"f{i}") for i in range(4)]
            with pytest.raises(SMBResponseException) as refused:
                create("f4")
            assert refused.value.status == STATUS_TOO_MANY_OPENED_FILES
            assert not (srv.share / "f4").exists()
            opens.pop().close()
            create("f4").close()
        finally:
            conn.disconnect()


def test_max_pdu_size_and_outstanding_requests(tmp_path_factory, tmp_path):
    src = tmp_path / "in.bin"
    src.write_bytes(bytes(range(256)) * 40000)
    with serve(tmp_path_factory, "max pdu size = 192K\nmax outstanding requests = 2") as srv:
        # Transfers still work, in pieces that fit the limit (the server offers smaller read/write sizes).
        cmd = ["smbclient", srv.unc, "-p", str(srv.port), "-U", f"{srv.user}%{srv.password}",
               "-c", f"put {src} copy.bin; get copy.bin {tmp_path / 'back.bin'}"]
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        assert res.returncode == 0, res.stdout + res.stderr
        digest = hashlib.sha256(src.read_bytes()).hexdigest()
        assert hashlib.sha256((tmp_path / "back.bin").read_bytes()).hexdigest() == digest
        # A frame announcing more than the limit closes that connection.
        with socket.create_connection((srv.host, srv.port)) as s:
            s.sendall(struct.pack(">I", 192 * 1024 + 1) + b"\xfeSMB")
            assert closed_by_server(s)
        assert answers_negotiate(srv.host, srv.port)


def test_max_byte_range_locks(tmp_path_factory):
    """`max byte range locks` bounds what one connection's opens hold together: a LOCK beyond it is
    STATUS_INSUFFICIENT_RESOURCES and takes none of its ranges; unlocking or closing gives room back."""
    shared = 0x1 | 0x10  # SHARED_LOCK | FAIL_IMMEDIATELY
    with serve(tmp_path_factory, "max byte range locks = 3") as srv, s.logged_on(srv) as c:
        _, a = c.create("a.bin")
        _, b = c.create("b.bin")
        assert c.call(s.LOCK, s.lock_body(a, [(0, 1, shared), (1, 1, shared)])).status == s.SUCCESS
        r = c.call(s.LOCK, s.lock_body(b, [(0, 1, shared), (1, 1, shared)]))
        assert r.status == s.INSUFFICIENT_RESOURCES
        # None of the refused request's ranges was taken: another open may lock them exclusively.
        with s.logged_on(srv) as other:
            _, b2 = other.create("b.bin")
            assert other.call(s.LOCK, s.lock_body(b2, [(0, 2, 0x2 | 0x10)])).status == s.SUCCESS
        assert c.call(s.LOCK, s.lock_body(b, [(5, 1, shared)])).status == s.SUCCESS
        assert c.call(s.LOCK, s.lock_body(b, [(6, 1, shared)])).status == s.INSUFFICIENT_RESOURCES
        assert c.call(s.LOCK, s.lock_body(a, [(0, 1, 0x4)])).status == s.SUCCESS  # unlock one
        assert c.call(s.LOCK, s.lock_body(b, [(6, 1, shared)])).status == s.SUCCESS
        assert c.close_file(a).status == s.SUCCESS  # its remaining lock goes with it
        assert c.call(s.LOCK, s.lock_body(b, [(7, 1, shared)])).status == s.SUCCESS
        assert c.call(s.LOCK, s.lock_body(b, [(8, 1, shared)])).status == s.INSUFFICIENT_RESOURCES


def test_max_tree_connects_per_session(tmp_path_factory):
    with serve(tmp_path_factory, "max tree connects per session = 2") as srv, s.logged_on(srv) as c:
        first = c.tree_id
        unc = f"\\\\{srv.host}\\{srv.share_name}"
        assert c.tree_connect(f"\\\\{srv.host}\\IPC$").status == s.SUCCESS
        assert c.tree_connect(unc).status == s.INSUFFICIENT_RESOURCES
        assert c.call(s.TREE_DISCONNECT, struct.pack("<HH", 4, 0), tree_id=first).status == s.SUCCESS
        assert c.tree_connect(unc).status == s.SUCCESS
        with s.logged_on(srv):  # the limit is per session
            pass


def test_open_file_descriptor_limit_is_raised(tmp_path_factory):
    """Started with the usual soft limit of open descriptors, the daemon raises it to the hard limit, so the
    server as a whole is not capped at about a thousand open files."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(256, hard), hard))
    try:
        srv = serve(tmp_path_factory, "")
        srv.start()
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    try:
        limits = (Path("/proc") / str(srv.proc.pid) / "limits").read_text()
        line = next(l for l in limits.splitlines() if l.startswith("Max open files"))
        daemon_soft, daemon_hard = line.split()[3:5]
        assert daemon_soft == daemon_hard == str(hard), line
    finally:
        srv.stop()
