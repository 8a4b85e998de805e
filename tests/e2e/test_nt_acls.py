"""NT ACLs end to end (issue 16): Samba's smbcacls lists, adds and removes ACEs on rsmbd and the DACL is enforced
on every open; an inheritable ACE on a directory reaches a new file; descriptors are stored in `security.NTACL` in
Samba's acl_xattr layout, so a private Samba smbd reads what rsmbd stored and rsmbd what Samba stored (ACEs
compared as SIDs, types, flags and masks); hostile descriptors are refused with STATUS_INVALID_SECURITY_DESCR.

smbcacls 4.17 dials only port 445, so those tests run rsmbd on 445 of a loopback address of their own."""

import os
import shutil
import socket
import struct
import subprocess

import pytest

import smb2raw as s
from samba_server import SAMBA_PASSWORD, private_smbd

ACL_HOST = "127.0.0.16"
SMBCACLS = shutil.which("smbcacls")
SMBCLIENT = shutil.which("smbclient")
INFO_SECURITY = 3
OWNER, GROUP, DACL = 0x1, 0x2, 0x4
READ_CONTROL, WRITE_DAC, WRITE_OWNER = 0x20000, 0x40000, 0x80000
FILE_GENERIC_READ, FILE_ALL_ACCESS = 0x120089, 0x1F01FF
INVALID_SECURITY_DESCR = 0xC0000079
OI, CI, IO = 0x1, 0x2, 0x8
USER_SID = f"S-1-22-1-{os.getuid()}"


def port_445_free(host):
    with socket.socket() as sock:
        try:
            sock.bind((host, 445))
        except OSError:
            return False
    return True


needs_smbcacls = pytest.mark.skipif(not (SMBCACLS and SMBCLIENT), reason="smbcacls/smbclient not installed")
on_445 = pytest.mark.rsmbd_conf(host=ACL_HOST, port=445)


# ---------------------------------------------------------------- descriptors in Python (MS-DTYP 2.4)

def sid_bytes(text):
    parts = text.split("-")
    subs = [int(p) for p in parts[3:]]
    return struct.pack("<BB", 1, len(subs)) + int(parts[2]).to_bytes(6, "big") + struct.pack(f"<{len(subs)}I", *subs)


def sid_text(buf, at):
    count = buf[at + 1]
    subs = struct.unpack_from(f"<{count}I", buf, at + 8)
    return "-".join(["S-1", str(int.from_bytes(buf[at + 2:at + 8], "big")), *map(str, subs)])


def descriptor(aces, owner=None, control=0x8004):
    """A self-relative descriptor with `aces` as (type, flags, mask, sid text) in its DACL."""
    body = b"".join(struct.pack("<BBHI", t, f, 8 + len(sid_bytes(sid)), m) + sid_bytes(sid) for t, f, m, sid in aces)
    dacl = struct.pack("<BBHHH", 2, 0, 8 + len(body), len(aces), 0) + body
    own = sid_bytes(owner) if owner else b""
    return struct.pack("<BBHIIII", 1, 0, control, 20 if own else 0, 0, 0, 20 + len(own)) + own + dacl


def dacl_of(sd, header=0):
    """The DACL of a self-relative descriptor as [(type, flags, mask, sid text)]; `header` is where its header
    starts when it is embedded (its offsets then count from the start of `sd`, as in `security.NTACL`)."""
    at = struct.unpack_from("<I", sd, header + 16)[0]
    count = struct.unpack_from("<H", sd, at + 4)[0]
    out, pos = [], at + 8
    for _ in range(count):
        t, f, size, m = struct.unpack_from("<BBHI", sd, pos)
        out.append((t, f, m, sid_text(sd, pos + 8)))
        pos += size
    return out


def set_sd(c, name, sd, info=DACL):
    r, fid = c.create(name, access=READ_CONTROL | WRITE_DAC | WRITE_OWNER, disposition=s.FILE_OPEN_IF)
    assert r.status == s.SUCCESS, hex(r.status)
    status = c.call(s.SET_INFO, s.set_info_body(fid, INFO_SECURITY, 0, sd, additional=info)).status
    c.close_file(fid)
    return status


def get_sd(c, name, info=DACL | OWNER):
    r, fid = c.create(name, access=READ_CONTROL, disposition=s.FILE_OPEN)
    assert r.status == s.SUCCESS, hex(r.status)
    r = c.call(s.QUERY_INFO, s.query_info_body(fid, INFO_SECURITY, 0, additional=info))
    assert r.status == s.SUCCESS, hex(r.status)
    c.close_file(fid)
    return r.buffer("<HI", 2)


class Peer:
    """What smb2raw.logged_on needs to reach the private Samba."""

    def __init__(self, port, user):
        self.host, self.port, self.user, self.password, self.share_name = "127.0.0.1", port, user, SAMBA_PASSWORD, "data"


# ---------------------------------------------------------------- smbcacls and smbclient against rsmbd

def smbcacls(server, path, *args, numeric=True):
    cmd = [SMBCACLS, f"//{server.host}/{server.share_name}", path, "-U", f"{server.user}%{server.password}",
           *(["--numeric"] if numeric else []), *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60)


def smbclient(server, command):
    cmd = [SMBCLIENT, f"//{server.host}/{server.share_name}", "-U", f"{server.user}%{server.password}", "-c", command]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    return res.stdout + res.stderr


def acl_lines(listing):
    return [ln for ln in listing.splitlines() if ln.startswith("ACL:")]


@pytest.fixture
def acl_server(request):
    if not port_445_free(ACL_HOST):
        pytest.skip(f"port 445 of {ACL_HOST} is taken")
    return request.getfixturevalue("server")


@needs_smbcacls
@on_445
def test_smbcacls_deny_read_then_remove(acl_server, tmp_path):
    server = acl_server
    (server.share / "doc.txt").write_text("secret")
    listing = smbcacls(server, "doc.txt")
    assert listing.returncode == 0, listing.stderr
    assert f"OWNER:{USER_SID}" in listing.stdout
    assert acl_lines(listing.stdout), listing.stdout
    # smbcacls sets owner and group with the DACL, which needs WRITE_OWNER: the owner takes full control
    # first (the DACL synthesised from the mode bits gives it read and write only).
    full = smbcacls(server, "doc.txt", "-a", f"ACL:{USER_SID}:ALLOWED/0x0/FULL")
    assert full.returncode == 0, full.stdout + full.stderr
    deny = f"ACL:{USER_SID}:DENIED/0x0/READ"
    added = smbcacls(server, "doc.txt", "-a", deny)
    assert added.returncode == 0, added.stdout + added.stderr
    # --numeric lists type 1 (denied) and READ as its mask; smbcacls puts the deny first.
    denied = f"ACL:{USER_SID}:1/0x0/0x001200a9"
    assert acl_lines(smbcacls(server, "doc.txt").stdout)[0] == denied
    assert "NT_STATUS_ACCESS_DENIED" in smbclient(server, f"get doc.txt {tmp_path / 'a'}")
    removed = smbcacls(server, "doc.txt", "-D", deny)
    assert removed.returncode == 0, removed.stdout + removed.stderr
    assert denied not in acl_lines(smbcacls(server, "doc.txt").stdout)
    out = smbclient(server, f"get doc.txt {tmp_path / 'b'}")
    assert "NT_STATUS" not in out, out
    assert (tmp_path / "b").read_text() == "secret"


@needs_smbcacls
@on_445
def test_smbcacls_inheritable_ace_reaches_new_file(acl_server, tmp_path):
    server = acl_server
    (server.share / "dir").mkdir()
    ace = "ACL:S-1-1-0:ALLOWED/OI|CI/READ"
    added = smbcacls(server, "dir", "-a", ace)
    assert added.returncode == 0, added.stdout + added.stderr
    (tmp_path / "up.txt").write_text("new")
    out = smbclient(server, f"put {tmp_path / 'up.txt'} dir\\new.txt")
    assert "NT_STATUS" not in out, out
    lines = acl_lines(smbcacls(server, "dir/new.txt").stdout)
    # On a file the inherited ACE applies to the file itself: no inheritance flags left.
    assert "ACL:S-1-1-0:0/0x0/0x001200a9" in lines, lines
    sub = smbclient(server, "mkdir dir\\sub")
    assert "NT_STATUS" not in sub, sub
    # lsarpc names the SIDs: Everyone, and the Unix user of the account.
    named = smbcacls(server, "dir", numeric=False).stdout
    assert f"OWNER:Unix User\\{server.user}" in named, named
    assert "ACL:Everyone:ALLOWED/OI|CI/READ" in acl_lines(named), named
    # A directory keeps the inheritance flags to pass the ACE on.
    assert "ACL:S-1-1-0:0/0x3/0x001200a9" in acl_lines(smbcacls(server, "dir/sub").stdout)


# ---------------------------------------------------------------- storage and interoperability

def test_descriptor_stored_in_samba_layout(server):
    aces = [(1, 0, 0x2, "S-1-22-1-4242"), (0, OI | CI, FILE_GENERIC_READ, "S-1-1-0")]
    with s.logged_on(server) as c:
        assert set_sd(c, "stored.txt", descriptor(aces)) == s.SUCCESS
        assert dacl_of(get_sd(c, "stored.txt")) == aces
    blob = os.getxattr(server.share / "stored.txt", "security.NTACL")
    # xattr_NTACL version 4: version, level, pointers, SHA-256 hash type, description "rsmbd".
    assert struct.unpack_from("<HHII", blob) == (4, 4, 0x20000, 0x20004)
    assert struct.unpack_from("<H", blob, 12)[0] == 1
    assert blob[78:84] == b"rsmbd\0"
    # The descriptor at 156, its offsets NDR relative pointers from the start of the blob.
    assert dacl_of(blob, header=156) == aces


def test_rsmbd_acl_read_by_samba(server, tmp_path):
    aces = [(1, 0, 0x6, "S-1-22-1-4242"), (0, OI | CI, FILE_ALL_ACCESS, USER_SID), (0, 0, FILE_GENERIC_READ, "S-1-1-0")]
    with s.logged_on(server) as c:
        assert set_sd(c, "from-rsmbd.txt", descriptor(aces)) == s.SUCCESS
    with private_smbd(tmp_path, "vfs objects = acl_xattr\nacl_xattr:ignore system acls = yes") as (port, share, user):
        subprocess.run(["cp", "-a", "--preserve=xattr", str(server.share / "from-rsmbd.txt"), str(share)], check=True)
        with s.logged_on(Peer(port, user)) as c:
            assert dacl_of(get_sd(c, "from-rsmbd.txt")) == aces


def test_samba_acl_read_by_rsmbd(server, tmp_path):
    aces = [(1, 0, 0x2, "S-1-22-1-4242"), (0, 0, FILE_ALL_ACCESS, USER_SID), (0, OI, FILE_GENERIC_READ, "S-1-1-0")]
    with private_smbd(tmp_path, "vfs objects = acl_xattr") as (port, share, user):
        with s.logged_on(Peer(port, user)) as c:
            assert set_sd(c, "from-samba.txt", descriptor(aces)) == s.SUCCESS
        blob = os.getxattr(share / "from-samba.txt", "security.NTACL")
        assert struct.unpack_from("<H", blob)[0] in (1, 2, 3, 4)
        subprocess.run(["cp", "-a", "--preserve=xattr", str(share / "from-samba.txt"), str(server.share)], check=True)
    with s.logged_on(server) as c:
        assert dacl_of(get_sd(c, "from-samba.txt")) == aces


# ---------------------------------------------------------------- hostile descriptors

def test_hostile_descriptors_are_refused(server):
    good = descriptor([(0, 0, FILE_GENERIC_READ, "S-1-1-0")])
    bad = {
        "dacl offset past the end": good[:16] + struct.pack("<I", len(good) + 4) + good[20:],
        "ACE count larger than the ACL": good[:24] + struct.pack("<H", 40) + good[26:],
        "ACE size below its header": good[:30] + struct.pack("<H", 4) + good[32:],
        "16 sub-authorities": good[:20 + 8 + 9] + bytes([16]) + good[20 + 8 + 10:],
        "truncated": good[:30],
        "not self-relative": good[:2] + struct.pack("<H", 0x0004) + good[4:],
    }
    with s.logged_on(server) as c:
        for what, sd in bad.items():
            assert set_sd(c, "hostile.txt", sd) == INVALID_SECURITY_DESCR, what
        assert set_sd(c, "hostile.txt", good) == s.SUCCESS
    s.still_serving(server)


# ---------------------------------------------------------------- access-based enumeration

def listed_names(c):
    """The names QUERY_DIRECTORY (FileNamesInformation) lists in the share's root."""
    r, fid = c.create("", access=0x1, disposition=s.FILE_OPEN, options=0x1)
    assert r.status == s.SUCCESS, hex(r.status)
    r = c.call(s.QUERY_DIRECTORY, s.query_directory_body(fid, "*", info_class=0x0C))
    assert r.status == s.SUCCESS, hex(r.status)
    buf, names, at = r.buffer("<HI", 2), [], 0
    while True:
        nxt, _, length = struct.unpack_from("<III", buf, at)
        names.append(buf[at + 12:at + 12 + length].decode("utf-16-le"))
        if nxt == 0:
            return names
        at += nxt


def deny_reading(c, name):
    """The user may do anything with `name` but read its data."""
    sd = descriptor([(1, 0, 0x1, USER_SID), (0, 0, FILE_ALL_ACCESS, USER_SID)])
    assert set_sd(c, name, sd) == s.SUCCESS


@pytest.mark.rsmbd_conf(extra_share="hide unreadable = yes")
def test_hide_unreadable_leaves_out_what_cannot_be_read(server):
    (server.share / "open.txt").write_text("a")
    (server.share / "closed.txt").write_text("b")
    with s.logged_on(server) as c:
        deny_reading(c, "closed.txt")
        names = listed_names(c)
    assert "open.txt" in names and "closed.txt" not in names, names


def test_listing_shows_unreadable_files_by_default(server):
    (server.share / "closed.txt").write_text("b")
    with s.logged_on(server) as c:
        deny_reading(c, "closed.txt")
        assert "closed.txt" in listed_names(c)


def test_rename_into_a_folder_needs_the_right_to_add(server):
    """A rename adds a name to the target folder: without FILE_ADD_FILE there it is refused, as a CREATE of that
    name would be (MS-FSA 2.1.5.15.12); with it, the file moves."""
    (server.share / "dropbox").mkdir()
    (server.share / "moving.txt").write_bytes(b"m")
    read_only = [(0, 0, FILE_GENERIC_READ | 0x1200A0 | WRITE_DAC | WRITE_OWNER, "S-1-1-0")]
    with s.logged_on(server) as c:
        assert set_sd(c, "dropbox", descriptor(read_only)) == s.SUCCESS
        r, fid = c.create("moving.txt", access=s.DELETE | READ_CONTROL, disposition=s.FILE_OPEN)
        assert r.status == s.SUCCESS, hex(r.status)
        rename = s.set_info_body(fid, 1, 10, s.rename_info("dropbox\\moving.txt"))
        assert c.call(s.SET_INFO, rename).status == s.ACCESS_DENIED
        assert c.call(s.SET_INFO, s.set_info_body(fid, 1, 10, s.rename_info("renamed.txt"))).status == s.SUCCESS
        writable = [(0, 0, FILE_GENERIC_READ | 0x1200A0 | WRITE_DAC | WRITE_OWNER | 0x2, "S-1-1-0")]
        assert set_sd(c, "dropbox", descriptor(writable)) == s.SUCCESS
        rename = s.set_info_body(fid, 1, 10, s.rename_info("dropbox\\moving.txt"))
        assert c.call(s.SET_INFO, rename).status == s.SUCCESS
        c.close_file(fid)
    assert (server.share / "dropbox" / "moving.txt").read_bytes() == b"m"
