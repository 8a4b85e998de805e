"""Server-side copy (FSCTL_SRV_REQUEST_RESUME_KEY, FSCTL_SRV_COPYCHUNK[_WRITE]): a copy through Python
smbprotocol's `smbclient.copyfile`, which asks the server to copy, and hostile copy requests answered with the
exact NTSTATUS Windows gives."""

import os
import struct

import pytest
import smbclient

import smb2raw as s

REQUEST_RESUME_KEY = 0x00140078
COPYCHUNK_WRITE = 0x001480F2
INVALID_VIEW_SIZE = 0xC000001F
FILE_LOCK_CONFLICT = 0xC0000054
LIMITS = (256, 1024 * 1024, 16 * 1024 * 1024)


def test_copyfile_copies_on_the_server(server, smb):
    _, root, kw = smb
    payload = os.urandom(3 * 1024 * 1024 + 12345)  # several chunks, the last one short
    (server.share / "src.bin").write_bytes(payload)
    smbclient.copyfile(f"{root}\\src.bin", f"{root}\\dst.bin", **kw)
    assert (server.share / "dst.bin").read_bytes() == payload
    assert (server.share / "src.bin").read_bytes() == payload


def ioctl(c, fid, code, data=b"", max_out=4096):
    body = struct.pack("<HHI16sIIIIIIII", 57, 0, code, fid, s.HEADER_LEN + 56, len(data), 0, 0, 0, max_out, 1, 0)
    r = c.call(s.IOCTL, body + (data or b"\0"))
    return r, (r.buffer("<II", 32) if len(r.body) >= 48 else b"")


def resume_key(c, fid):
    r, out = ioctl(c, fid, REQUEST_RESUME_KEY, max_out=32)
    assert r.status == s.SUCCESS, hex(r.status)
    assert len(out) >= 28 and out[24:28] == b"\0\0\0\0"
    return out[:24]


def copychunk(key, chunks, count=None):
    data = struct.pack("<24sII", key, len(chunks) if count is None else count, 0)
    return data + b"".join(struct.pack("<QQII", so, to, n, 0) for so, to, n in chunks)


def test_hostile_copy_requests(server):
    """Ranges beyond the source, a key from another session or made up, and more chunks than the limit are
    refused with Windows' statuses; nothing is written."""
    (server.share / "src.bin").write_bytes(b"S" * 8192)
    with s.logged_on(server) as c, s.logged_on(server) as other:
        r, src = c.create("src.bin")
        assert r.status == s.SUCCESS
        r, dst = c.create("dst.bin")
        assert r.status == s.SUCCESS
        key = resume_key(c, src)

        # Beyond the end of the source: STATUS_INVALID_VIEW_SIZE, with what was written (nothing).
        for chunk in ((4096, 0, 8192), (8192, 0, 1), (2**63 - 1, 0, 100), (2**64 - 1, 0, 1)):
            r, out = ioctl(c, dst, COPYCHUNK_WRITE, copychunk(key, [chunk]))
            assert r.status == INVALID_VIEW_SIZE, (chunk, hex(r.status))
            assert struct.unpack("<III", out) == (0, 0, 0)

        # A target range past the largest offset, a zero length, more than 1 MiB in a chunk, more than 256
        # chunks, more than 16 MiB, a count beyond the chunks sent: STATUS_INVALID_PARAMETER with the limits.
        bad = (copychunk(key, [(0, 2**63 - 10, 100)]), copychunk(key, [(0, 0, 0)]),
               copychunk(key, [(0, 0, 1024 * 1024 + 1)]), copychunk(key, [(0, 0, 1)] * 257),
               copychunk(key, [(0, 0, 1024 * 1024)] * 17), copychunk(key, [(0, 0, 1)], count=2),
               copychunk(key, [(0, 0, 1)], count=0xFFFFFFFF))
        for data in bad:
            r, out = ioctl(c, dst, COPYCHUNK_WRITE, data)
            assert r.status == s.INVALID_PARAMETER, hex(r.status)
            assert struct.unpack("<III", out) == LIMITS

        # A made-up key, a key with the right FileId but not its secret, and a key from another session.
        r, other_src = other.create("src.bin")
        assert r.status == s.SUCCESS
        other_key = resume_key(other, other_src)
        for forged in (b"deadbeefdeadbeefdeadbeef", key[:8] + bytes(16), other_key):
            r, _ = ioctl(c, dst, COPYCHUNK_WRITE, copychunk(forged, [(0, 0, 100)]))
            assert r.status == s.OBJECT_NAME_NOT_FOUND, hex(r.status)

        # Input too short for a key, output too small for the response.
        r, _ = ioctl(c, dst, COPYCHUNK_WRITE, key[:20])
        assert r.status == s.INVALID_PARAMETER
        r, _ = ioctl(c, dst, COPYCHUNK_WRITE, copychunk(key, [(0, 0, 100)]), max_out=11)
        assert r.status == s.INVALID_PARAMETER

        assert (server.share / "dst.bin").read_bytes() == b""
        r, out = ioctl(c, dst, COPYCHUNK_WRITE, copychunk(key, [(0, 0, 100), (100, 4000, 50)]))
        assert r.status == s.SUCCESS, hex(r.status)
        assert struct.unpack("<III", out) == (2, 0, 150)
    assert (server.share / "dst.bin").read_bytes() == b"S" * 100 + b"\0" * 3900 + b"S" * 50
    s.still_serving(server)
