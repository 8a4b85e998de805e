"""Other clients against the security features: impacket (which offers only AES-128-CCM) on a share that
requires encryption, and the NEGOTIATE response of a server with `server signing = mandatory`."""

import io
import uuid

from impacket.smbconnection import SMBConnection
from smbprotocol.connection import Connection

from rsmbd_server import RsmbdServer

SIGNING_REQUIRED = 0x2


def test_impacket_on_a_required_encryption_share(tmp_path_factory):
    with RsmbdServer(extra_share="smb encrypt = required", tmp_root=tmp_path_factory.getbasetemp()) as srv:
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
