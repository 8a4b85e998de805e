"""SMB3 encryption: smbclient and Python smbprotocol with every cipher, and shares that require it."""

import hashlib
import os
import subprocess
import uuid

import pytest
import smbclient as smbprotocol_client
from smbprotocol.connection import Connection
from smbprotocol.session import Session
from smbprotocol.tree import TreeConnect

from rsmbd_server import RsmbdServer

CIPHERS = ["aes-128-gcm", "aes-128-ccm", "aes-256-gcm", "aes-256-ccm"]
BIG = 100 * 1024 * 1024


def run_smbclient(srv, dialect, commands, *extra):
    cmd = ["smbclient", srv.unc, "-p", str(srv.port), "-U", f"{srv.user}%{srv.password}", "-m", dialect, *extra]
    return subprocess.run([*cmd, "-c", commands], capture_output=True, text=True, timeout=300, errors="replace")


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@pytest.fixture(scope="module")
def big_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("enc") / "big.bin"
    with open(path, "wb") as f:
        for _ in range(BIG // (1 << 20)):
            f.write(os.urandom(1 << 20))
    return path, sha256(path)


@pytest.mark.parametrize("dialect", ["SMB3_11", "SMB3"])
def test_smbclient_encrypted_100mib(server, big_file, tmp_path, dialect):
    src, digest = big_file
    back = tmp_path / "back.bin"
    res = run_smbclient(server, dialect, f"put {src} enc.bin; get enc.bin {back}", "--client-protection=encrypt")
    out = res.stdout + res.stderr
    assert res.returncode == 0 and "NT_STATUS_" not in out, out
    assert sha256(server.share / "enc.bin") == digest
    assert sha256(back) == digest


@pytest.mark.parametrize("cipher", CIPHERS)
def test_smbprotocol_each_cipher(tmp_path_factory, cipher):
    conf = f"server smb3 encryption algorithms = {cipher}"
    with RsmbdServer(extra_global=conf, tmp_root=tmp_path_factory.getbasetemp()) as srv:
        conn = Connection(uuid.uuid4(), srv.host, srv.port)
        conn.connect()
        try:
            session = Session(conn, srv.user, srv.password, require_encryption=True)
            session.connect()
            tree = TreeConnect(session, rf"\\{srv.host}\{srv.share_name}")
            tree.connect()
            wanted = {"aes-128-ccm": 1, "aes-128-gcm": 2, "aes-256-ccm": 3, "aes-256-gcm": 4}[cipher]
            assert conn.cipher_id == wanted
            tree.disconnect()
            session.disconnect()
        finally:
            conn.disconnect()
        path = rf"\\{srv.host}\{srv.share_name}\c.txt"
        smbprotocol_client.register_session(
            srv.host, username=srv.user, password=srv.password, port=srv.port, encrypt=True
        )
        try:
            with smbprotocol_client.open_file(path, mode="wb", port=srv.port) as f:
                f.write(b"sealed " * 1000)
            with smbprotocol_client.open_file(path, mode="rb", port=srv.port) as f:
                assert f.read() == b"sealed " * 1000
        finally:
            smbprotocol_client.reset_connection_cache()
        assert (srv.share / "c.txt").read_bytes() == b"sealed " * 1000


def test_required_share_refuses_smb21_and_writes_nothing(tmp_path_factory, tmp_path):
    with RsmbdServer(extra_share="smb encrypt = required", tmp_root=tmp_path_factory.getbasetemp()) as srv:
        src = tmp_path / "x.bin"
        src.write_bytes(b"must not arrive")
        res = run_smbclient(srv, "SMB2_10", f"put {src} x.bin")
        assert "NT_STATUS_ACCESS_DENIED" in res.stdout + res.stderr
        assert not (srv.share / "x.bin").exists()
        # An SMB 3 client is told by the share flag to encrypt, and then works.
        res = run_smbclient(srv, "SMB3_11", f"put {src} y.bin")
        assert res.returncode == 0, res.stdout + res.stderr
        assert (srv.share / "y.bin").read_bytes() == b"must not arrive"


@pytest.mark.parametrize("algorithm,wanted", [("aes-128-gmac", 2), ("aes-128-cmac", 1)])
def test_smbprotocol_signing_algorithms(tmp_path_factory, algorithm, wanted):
    conf = f"server smb3 signing algorithms = {algorithm}"
    with RsmbdServer(extra_global=conf, tmp_root=tmp_path_factory.getbasetemp()) as srv:
        conn = Connection(uuid.uuid4(), srv.host, srv.port, require_signing=True)
        conn.connect()
        try:
            assert conn.signing_algorithm_id == wanted
            session = Session(conn, srv.user, srv.password, require_encryption=False)
            session.connect()
            tree = TreeConnect(session, rf"\\{srv.host}\{srv.share_name}")
            tree.connect()
            tree.disconnect()
            session.disconnect()
        finally:
            conn.disconnect()


def test_server_wide_required_encryption(tmp_path_factory, tmp_path):
    """`smb encrypt = required` in [global]: 2.1 clients cannot log on; SMB 3 clients are told to encrypt
    everything by the session flag and work without asking for it."""
    with RsmbdServer(extra_global="smb encrypt = required", tmp_root=tmp_path_factory.getbasetemp()) as srv:
        src = tmp_path / "g.bin"
        src.write_bytes(b"server-wide")
        res = run_smbclient(srv, "SMB2_10", f"put {src} g21.bin")
        assert "NT_STATUS_ACCESS_DENIED" in res.stdout + res.stderr
        assert not (srv.share / "g21.bin").exists()
        for dialect in ("SMB3_11", "SMB3"):
            res = run_smbclient(srv, dialect, f"put {src} g.bin")
            assert res.returncode == 0, res.stdout + res.stderr
            assert (srv.share / "g.bin").read_bytes() == b"server-wide"
