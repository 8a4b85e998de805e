"""Other clients against the security features: impacket (which offers only AES-128-CCM) on a share that
requires encryption, the NEGOTIATE response of a server with `server signing = mandatory`, and the 3.1.1 rule
that an authenticated user's TREE_CONNECT is signed."""

import io
import uuid

from impacket.smbconnection import SMBConnection
import pytest
from smbprotocol.connection import Connection
from smbprotocol.exceptions import SMBException
from smbprotocol.session import Session
from smbprotocol.tree import TreeConnect

from rsmbd_server import RsmbdServer

SIGNING_REQUIRED = 0x2


def test_impacket_on_a_required_encryption_share(tmp_path_factory):
    # impacket 0.13.1's create() fails on a server that offers directory leasing (see README).
    with RsmbdServer(extra_share="smb encrypt = required", extra_global="smb3 directory leases = no",
                     tmp_root=tmp_path_factory.getbasetemp()) as srv:
        c = SMBConnection(srv.host, srv.host, sess_port=srv.port)
        c.login(srv.user, srv.password)
        data = b"impacket wrote this " * 500
        c.putFile(srv.share_name, "imp.bin", io.BytesIO(data).read)
        back = io.BytesIO()
        c.getFile(srv.share_name, "imp.bin", back.write)
        assert back.getvalue() == data
        names = [f.get_longname() for f in c.listPath(srv.share_name, "*")]
        assert "imp.bin" in names
        c.logoff()
        assert (srv.share / "imp.bin").read_bytes() == data


def test_mandatory_signing_is_announced(tmp_path_factory):
    for conf, required in (("", False), ("server signing = mandatory", True)):
        with RsmbdServer(extra_global=conf, tmp_root=tmp_path_factory.getbasetemp()) as srv:
            conn = Connection(uuid.uuid4(), srv.host, srv.port, require_signing=False)
            conn.connect()
            try:
                assert bool(conn.server_security_mode & SIGNING_REQUIRED) == required
            finally:
                conn.disconnect()


def test_unsigned_tree_connect_on_311_drops_the_connection(server):
    """MS-SMB2 3.3.5.7: smbprotocol signs only when signing is required, so with require_signing=False its
    TREE_CONNECT is plain; the server must drop the connection, and signed clients keep working."""
    conn = Connection(uuid.uuid4(), server.host, server.port, require_signing=False)
    conn.connect()
    try:
        session = Session(conn, server.user, server.password, require_encryption=False)
        session.connect()
        assert conn.dialect == 0x0311 and not session.signing_required
        with pytest.raises((SMBException, OSError)):
            TreeConnect(session, rf"\\{server.host}\{server.share_name}").connect()
    finally:
        conn.disconnect(close=False)
    signed = Connection(uuid.uuid4(), server.host, server.port, require_signing=True)
    signed.connect()
    try:
        session = Session(signed, server.user, server.password, require_encryption=False)
        session.connect()
        tree = TreeConnect(session, rf"\\{server.host}\{server.share_name}")
        tree.connect()
        assert tree.tree_connect_id != 0
    finally:
        signed.disconnect()
