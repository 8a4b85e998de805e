"""Alternate data streams (MS-FSCC 2.1.5, MS-FSA 2.1.5.1): rsmbd keeps the stream NAME of a file or directory as
its extended attribute `user.DosStream.NAME:$DATA`, the data followed by one NUL byte, as Samba's streams_xattr
does. Through smbclient (`allinfo`), Python smbprotocol and raw SMB2: I/O, listing, rename, delete on close,
directories, the size limit, a share without streams, and hostile names, each with the status Windows uses.
The interop with a private Samba is tests/e2e/test_streams_interop.py."""

import os
import struct

import pytest
import smbclient as smbc

import smb2raw as s

DISK_FULL = 0xC000007F
NOT_A_DIRECTORY = 0xC0000103
FILE_IS_A_DIRECTORY = 0xC00000BA
DELETE_PENDING = 0xC0000056
FILE_STREAM_INFORMATION = 22
FILE_STANDARD_INFORMATION = 5
DIRECTORY_FILE = 0x1
DELETE_ON_CLOSE = 0x1000
FILE_CREATE = 2
FILE_OPEN = 1


def stored(path, stream):
    """The raw extended attribute of `stream` (None when missing)."""
    try:
        return os.getxattr(path, f"user.DosStream.{stream}:$DATA")
    except OSError:
        return None


def create(c, name, share=s.SHARE_ALL, access=s.GENERIC_ALL, disposition=FILE_OPEN, options=0):
    """A raw CREATE with the share access given: (response, file id or None)."""
    r = c.call(s.CREATE, s.create_body(name, access, disposition, options, share=share))
    return r, (r.body[64:80] if r.status == s.SUCCESS else None)


def stream_list(c, fid):
    """FileStreamInformation of `fid` as {name: size}."""
    r = c.call(s.QUERY_INFO, s.query_info_body(fid, 1, FILE_STREAM_INFORMATION))
    assert r.status == s.SUCCESS, hex(r.status)
    buf, out, at = r.buffer("<HI", 2), {}, 0
    while True:
        nxt, name_len, size, _alloc = struct.unpack_from("<IIQQ", buf, at)
        out[buf[at + 24:at + 24 + name_len].decode("utf-16-le")] = size
        if nxt == 0:
            return out
        at += nxt


def test_smbprotocol_and_allinfo(server, smbclient):
    kw = {"port": server.port, "connection_cache": {}}
    smbc.register_session(server.host, username=server.user, password=server.password, **kw)
    unc = f"\\\\{server.host}\\{server.share_name}\\doc.txt"
    with smbc.open_file(unc, "wb", **kw) as f:
        f.write(b"base")
    with smbc.open_file(unc + ":Zone.Identifier", "wb", **kw) as f:
        f.write(b"[ZoneTransfer]\r\nZoneId=3\r\n")
    with smbc.open_file(unc + ":ZONE.IDENTIFIER:$DATA", "rb", **kw) as f:
        assert f.read() == b"[ZoneTransfer]\r\nZoneId=3\r\n"
    smbc.reset_connection_cache(connection_cache=kw["connection_cache"])
    # Samba's on-disk layout, and the file's own data untouched.
    assert stored(server.share / "doc.txt", "Zone.Identifier") == b"[ZoneTransfer]\r\nZoneId=3\r\n\0"
    assert (server.share / "doc.txt").read_bytes() == b"base"
    info = smbclient("allinfo doc.txt")
    assert info.returncode == 0, info.stderr
    assert "stream: [::$DATA], 4 bytes" in info.stdout, info.stdout
    assert "stream: [:Zone.Identifier:$DATA], 26 bytes" in info.stdout, info.stdout


def test_io_list_rename_and_delete_on_close(server):
    with s.logged_on(server) as c:
        r, one = c.create("f.txt:one", disposition=FILE_CREATE)
        assert r.status == s.SUCCESS, hex(r.status)
        assert c.write(one, 0, b"first").status == s.SUCCESS
        assert c.write(one, 10, b"x").status == s.SUCCESS
        r = c.read(one, 0, 100)
        assert r.status == s.SUCCESS and r.buffer("<BxI", 2) == b"first\0\0\0\0\0x"
        # End of file truncates the stream only.
        eof = struct.pack("<Q", 3)
        assert c.call(s.SET_INFO, s.set_info_body(one, 1, 20, eof)).status == s.SUCCESS
        assert stored(server.share / "f.txt", "one") == b"fir\0"
        # FileAllInformation's name names the stream after the file.
        r = c.call(s.QUERY_INFO, s.query_info_body(one, 1, 18))
        assert r.status == s.SUCCESS and r.buffer("<HI", 2)[100:].decode("utf-16-le") == "\\f.txt:one"
        r, base = c.create("f.txt", disposition=FILE_OPEN)
        assert r.status == s.SUCCESS
        assert stream_list(c, base) == {"::$DATA": 0, ":one:$DATA": 3}
        assert stream_list(c, one) == {"::$DATA": 0, ":one:$DATA": 3}
        # Rename through the stream's handle, then delete it on close.
        r = c.call(s.SET_INFO, s.set_info_body(one, 1, 10, s.rename_info(":two:$DATA")))
        assert r.status == s.SUCCESS, hex(r.status)
        assert stored(server.share / "f.txt", "two") == b"fir\0"
        assert stored(server.share / "f.txt", "one") is None
        # A hard link names a file, never a stream.
        r = c.call(s.SET_INFO, s.set_info_body(one, 1, 11, s.rename_info("link.txt")))
        assert r.status == s.INVALID_PARAMETER, hex(r.status)
        assert not (server.share / "link.txt").exists()
        r = c.call(s.SET_INFO, s.set_info_body(one, 1, 13, b"\x01"))
        assert r.status == s.SUCCESS
        assert c.close_file(one).status == s.SUCCESS
        assert stream_list(c, base) == {"::$DATA": 0}
        assert (server.share / "f.txt").exists()
        r, _ = c.create("f.txt:two", disposition=FILE_OPEN)
        assert r.status == s.OBJECT_NAME_NOT_FOUND, hex(r.status)


def test_share_modes_are_per_stream_and_delete_waits_for_streams(server):
    with s.logged_on(server) as c:
        r, a = create(c, "g.txt:a", share=0, disposition=FILE_CREATE)
        assert r.status == s.SUCCESS
        r, _ = create(c, "g.txt:b", share=0, disposition=FILE_CREATE)
        assert r.status == s.SUCCESS, "another stream is another share-mode entry"
        r, _ = create(c, "g.txt:a", share=0)
        assert r.status == s.SHARING_VIOLATION
        # Without FILE_SHARE_DELETE on a stream, the file cannot be opened for DELETE.
        r, _ = c.create("g.txt", access=0x10000, disposition=FILE_OPEN)
        assert r.status == s.SHARING_VIOLATION, hex(r.status)
        c.close_file(a)
        r, keep = c.create("h.txt:s", disposition=FILE_CREATE)
        assert r.status == s.SUCCESS
        r, base = c.create("h.txt", access=0x10000, disposition=FILE_OPEN, options=DELETE_ON_CLOSE)
        assert r.status == s.SUCCESS, hex(r.status)
        c.close_file(base)
        # The file stays, delete-pending, while its stream is open.
        assert (server.share / "h.txt").exists()
        assert c.create("h.txt", disposition=FILE_OPEN)[0].status == DELETE_PENDING
        assert c.create("h.txt:s", disposition=FILE_OPEN)[0].status == DELETE_PENDING
        c.close_file(keep)
        assert not (server.share / "h.txt").exists()


def test_directory_streams(server):
    (server.share / "d").mkdir()
    with s.logged_on(server) as c:
        r, _ = c.create("d::$DATA", disposition=FILE_OPEN)
        assert r.status == FILE_IS_A_DIRECTORY, hex(r.status)
        r, _ = c.create("d:ds", disposition=FILE_CREATE, options=DIRECTORY_FILE)
        assert r.status == NOT_A_DIRECTORY, hex(r.status)
        r, ds = c.create("d:ds", disposition=FILE_CREATE)
        assert r.status == s.SUCCESS, hex(r.status)
        assert c.write(ds, 0, b"D").status == s.SUCCESS
        # A stream of a directory is not a directory (FileStandardInformation.Directory is 0).
        r = c.call(s.QUERY_INFO, s.query_info_body(ds, 1, FILE_STANDARD_INFORMATION))
        assert r.status == s.SUCCESS and r.buffer("<HI", 2)[21] == 0
        # A directory has no unnamed data stream to rename a stream to (MS-FSA 2.1.5.15.11.1).
        r = c.call(s.SET_INFO, s.set_info_body(ds, 1, 10, s.rename_info("::$DATA", replace=True)))
        assert r.status == s.INVALID_PARAMETER, hex(r.status)
        r, d = c.create("d", disposition=FILE_OPEN, options=DIRECTORY_FILE)
        assert r.status == s.SUCCESS
        assert stream_list(c, d) == {":ds:$DATA": 1}
    assert stored(server.share / "d", "ds") == b"D\0"


def test_size_limit_is_disk_full(server):
    with s.logged_on(server) as c:
        r, fid = c.create("big.txt:s", disposition=FILE_CREATE)
        assert r.status == s.SUCCESS
        # One extended attribute holds at most 64 KiB (less on some file systems): a full disk, as Windows says.
        r = c.write(fid, 0, b"x" * 65536)
        assert r.status == DISK_FULL, hex(r.status)
        r = c.call(s.SET_INFO, s.set_info_body(fid, 1, 20, struct.pack("<Q", 1 << 40)))
        assert r.status == DISK_FULL, hex(r.status)
        assert c.write(fid, 0, b"small").status == s.SUCCESS


# (name, disposition, options, status): each as Windows answers it.
HOSTILE = [
    ("f.txt:", FILE_OPEN, 0, s.OBJECT_NAME_INVALID),
    ("f.txt:s:", FILE_OPEN, 0, s.OBJECT_NAME_INVALID),
    ("f.txt:s:$FOO", FILE_CREATE, 0, s.OBJECT_NAME_INVALID),
    ("f.txt:s:$INDEX_ALLOCATION", FILE_CREATE, 0, s.OBJECT_NAME_INVALID),
    ("f.txt:s:$DATA:x", FILE_CREATE, 0, s.OBJECT_NAME_INVALID),
    ("f.txt:::$DATA", FILE_CREATE, 0, s.OBJECT_NAME_INVALID),
    ("f.txt:a/b", FILE_CREATE, 0, s.OBJECT_NAME_INVALID),
    ("f.txt:..\\..\\..\\etc\\passwd", FILE_CREATE, 0, s.OBJECT_NAME_INVALID),
    ("f.txt:s\0x", FILE_CREATE, 0, s.OBJECT_NAME_INVALID),
    ("f.txt:" + "s" * 256, FILE_CREATE, 0, s.OBJECT_NAME_INVALID),
    ("f.txt:" + "\u00e9" * 120, FILE_CREATE, 0, s.OBJECT_NAME_INVALID),
    ("f*.txt:s", FILE_CREATE, 0, s.OBJECT_NAME_INVALID),
    ("..:s", FILE_CREATE, 0, s.OBJECT_PATH_SYNTAX_BAD),
    ("missing.txt:s", FILE_OPEN, 0, s.OBJECT_NAME_NOT_FOUND),
    ("nodir\\f.txt:s", FILE_OPEN, 0, s.OBJECT_PATH_NOT_FOUND),
    ("f.txt:s", FILE_CREATE, DIRECTORY_FILE, NOT_A_DIRECTORY),
    ("f.txt:s:$dAtA", FILE_CREATE, 0, s.SUCCESS),
    ("f.txt:?*<>|\"", FILE_CREATE, 0, s.SUCCESS),
    ("f.txt::$data", FILE_OPEN, 0, s.SUCCESS),
    ("f.txt:$DATA", FILE_OPEN, 0, s.SUCCESS),
    ("::$DATA", FILE_OPEN, 0, FILE_IS_A_DIRECTORY),
    (":rootstream", FILE_CREATE, 0, s.SUCCESS),
]


@pytest.mark.parametrize("name,disposition,options,status", HOSTILE)
def test_hostile_stream_names(server, name, disposition, options, status):
    (server.share / "f.txt").write_bytes(b"data")
    before = sorted(os.listxattr(server.share / "f.txt"))
    with s.logged_on(server) as c:
        r, fid = c.create(name, disposition=disposition, options=options)
        assert r.status == status, f"{name!r}: {r.status:#x}"
        if fid:
            c.close_file(fid)
    if status != s.SUCCESS:
        # Nothing was created: no stream, no file, nothing outside the share.
        assert sorted(os.listxattr(server.share / "f.txt")) == before
        assert sorted(p.name for p in server.share.iterdir()) == ["f.txt"]


@pytest.mark.rsmbd_conf(extra_share="vfs objects = acl_xattr")
def test_share_without_streams_xattr(server):
    (server.share / "f.txt").write_bytes(b"data")
    os.setxattr(server.share / "f.txt", "user.DosStream.old:$DATA", b"x\0")
    with s.logged_on(server) as c:
        # As Samba without the module: stream names are invalid, the list shows the data stream only.
        r, _ = c.create("f.txt:s", disposition=FILE_CREATE)
        assert r.status == s.OBJECT_NAME_INVALID, hex(r.status)
        r, fid = c.create("f.txt::$DATA", disposition=FILE_OPEN)
        assert r.status == s.SUCCESS
        assert stream_list(c, fid) == {"::$DATA": 4}


@pytest.mark.parametrize("target", [":", "::", ":a:", ":a:$FOO", ":a/b", ":a\\b", ":a:$DATA:x", ":" + "s" * 256])
def test_hostile_rename_targets(server, target):
    """MS-FSA 2.1.5.15.11.1: a malformed stream rename target is STATUS_INVALID_PARAMETER; nothing changes."""
    with s.logged_on(server) as c:
        r, fid = c.create("r.txt:src", disposition=FILE_CREATE)
        assert r.status == s.SUCCESS
        r = c.call(s.SET_INFO, s.set_info_body(fid, 1, 10, s.rename_info(target, replace=True)))
        assert r.status == s.INVALID_PARAMETER, f"{target!r}: {r.status:#x}"
    assert [n for n in os.listxattr(server.share / "r.txt") if n.startswith("user.DosStream.")] == \
        ["user.DosStream.src:$DATA"]
