"""Full disk and broken writes: a share on a small tmpfs fills up (STATUS_DISK_FULL, other files intact,
writing works again after a delete); a WRITE whose frame never arrives whole changes nothing and leaves no
open behind."""

import hashlib
import os
import shutil
import subprocess

import pytest

import smb2raw as s
from rsmbd_server import RsmbdServer

MIB = 1 << 20


def smbclient(srv, commands):
    res = subprocess.run(["smbclient", srv.unc, "-p", str(srv.port), "-U", f"{srv.user}%{srv.password}",
                          "-c", commands], capture_output=True, text=True, timeout=120, errors="replace")
    return res.returncode == 0 and "NT_STATUS" not in res.stdout + res.stderr, res.stdout + res.stderr


@pytest.fixture
def small_share(tmp_path_factory):
    """A server whose share is a 4 MiB tmpfs."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("needs root to mount a tmpfs")
    srv = RsmbdServer(tmp_root=tmp_path_factory.getbasetemp())
    res = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m,mode=0700", "tmpfs", str(srv.share)],
                         capture_output=True, text=True, timeout=30)
    if res.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {res.stderr}")
    try:
        with srv:
            yield srv
    finally:
        subprocess.run(["umount", "-l", str(srv.share)], capture_output=True, timeout=30)


def test_a_full_disk_is_disk_full_and_nothing_else_is_touched(small_share, tmp_path):
    srv = small_share
    keep = tmp_path / "keep.bin"
    keep.write_bytes(os.urandom(MIB))
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(2 * MIB))
    too_big = tmp_path / "too_big.bin"
    too_big.write_bytes(os.urandom(2 * MIB))
    ok, out = smbclient(srv, f"put {keep} keep.bin; put {big} big.bin")
    assert ok, out
    ok, out = smbclient(srv, f"put {too_big} too_big.bin")
    assert not ok and "NT_STATUS_DISK_FULL" in out, out
    digest = hashlib.sha256(keep.read_bytes()).hexdigest()
    assert hashlib.sha256((srv.share / "keep.bin").read_bytes()).hexdigest() == digest
    assert (srv.share / "big.bin").stat().st_size == 2 * MIB
    # Still serving; after a delete the same write succeeds.
    ok, out = smbclient(srv, "del big.bin; del too_big.bin")
    assert ok, out
    ok, out = smbclient(srv, f"put {too_big} too_big.bin")
    assert ok, out
    assert (srv.share / "too_big.bin").read_bytes() == too_big.read_bytes()


def test_a_write_whose_frame_never_arrives_changes_nothing(tmp_path_factory):
    with RsmbdServer(tmp_root=tmp_path_factory.getbasetemp()) as srv:
        (srv.share / "f.bin").write_bytes(b"original")
        c = s.logged_on(srv)
        r, fid = c.create("f.bin", disposition=s.FILE_OPEN_IF)
        assert r.status == s.SUCCESS
        pdu = c.pdu(s.WRITE, s.write_body(fid, 0, b"X" * 65536))
        frame = s.netbios(pdu)
        c.send_raw(frame[: len(frame) // 2])
        c.close()
        assert (srv.share / "f.bin").read_bytes() == b"original"
        # No open is left behind: an exclusive open succeeds at once.
        c2 = s.logged_on(srv)
        r = c2.call(s.CREATE, s.create_body("f.bin", disposition=s.FILE_OPEN, share=0))
        assert r.status == s.SUCCESS, hex(r.status)
        c2.close_file(r.body[64:80])
        c2.close()
