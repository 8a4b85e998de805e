"""Escapes from the share through names that write: rename and hard-link targets with `..`, a server-side
symlink pointing outside used as a directory component in CREATE and in rename/link targets, and empty rename
targets. (Reads and listings through `..` and symlinks are in test_confinement.py.) A canary next to the share
must stay unchanged and nothing may appear outside the share."""

import os

import pytest

import smb2raw as s

ESCAPE_REFUSED = {s.OBJECT_PATH_SYNTAX_BAD, s.OBJECT_NAME_INVALID, s.INVALID_PARAMETER, s.ACCESS_DENIED,
                  s.OBJECT_PATH_NOT_FOUND, s.OBJECT_NAME_NOT_FOUND}
CANARY = b"rsmbd canary: must not change"
RENAME, LINK = 10, 11


def outside_snapshot(srv):
    """Every path under the server's directory except the share and the log, with file contents."""
    out = {}
    for root, dirs, files in os.walk(srv.tmp, followlinks=False):
        if os.path.abspath(root) == os.path.abspath(srv.share):
            dirs[:] = []
            continue
        for name in dirs + files:
            path = os.path.join(root, name)
            if path in (str(srv.share), str(srv.log_path)):
                continue
            rel = os.path.relpath(path, srv.tmp)
            out[rel] = open(path, "rb").read() if os.path.isfile(path) and not os.path.islink(path) else "node"
    return out


@pytest.fixture
def escape(server):
    """A canary file and directory next to the share, and symlinks inside the share pointing at them."""
    outside = server.tmp / "outside"
    outside.mkdir()
    (outside / "canary.txt").write_bytes(CANARY)
    (server.tmp / "canary.txt").write_bytes(CANARY)
    (server.share / "sub").mkdir()
    (server.share / "outdir").symlink_to(outside)
    (server.share / "outfile").symlink_to(outside / "canary.txt")
    before = outside_snapshot(server)
    yield server
    assert outside_snapshot(server) == before
    assert (outside / "canary.txt").read_bytes() == CANARY


def set_name(c, fid, cls, target, replace=False):
    return c.call(s.SET_INFO, s.set_info_body(fid, 1, cls, s.rename_info(target, replace)))


@pytest.mark.parametrize("cls", [RENAME, LINK])
@pytest.mark.parametrize("target", ["..\\escaped.txt", "sub\\..\\..\\escaped.txt", "..\\outside\\escaped.txt",
                                    "sub\\..\\..\\..\\..\\tmp\\escaped.txt", "../escaped.txt",
                                    "..\\canary.txt"])
def test_rename_and_link_target_with_dotdot(escape, cls, target):
    """ksmbd class: rename and hard-link targets were resolved without confining `..`, so a file could be moved
    or linked out of the share (or over a file outside it)."""
    with s.logged_on(escape) as c:
        r, fid = c.create("victim.txt", access=s.GENERIC_ALL)
        assert r.status == s.SUCCESS
        assert c.write(fid, 0, b"victim").status == s.SUCCESS
        r = set_name(c, fid, cls, target, replace=True)
        assert r.status in ESCAPE_REFUSED, hex(r.status)
        assert c.close_file(fid).status == s.SUCCESS
    assert (escape.share / "victim.txt").read_bytes() == b"victim"
    s.still_serving(escape)


@pytest.mark.parametrize("name", ["..\\created.txt", "sub\\..\\..\\created.txt", "sub/../../created.txt",
                                  "sub\\.\\..\\..\\created.txt", "x\0/../../created.txt", "..",
                                  "\\\\?\\..\\created.txt", ".\\..\\outside\\created.txt",
                                  "sub\\..\\..\\..\\..\\..\\tmp\\created.txt"])
def test_create_with_dotdot(escape, name):
    """ksmbd class: CREATE names were joined to the share path before `..` was confined, so files could be
    created or truncated outside the share. Every such name is refused."""
    with s.logged_on(escape) as c:
        for disposition in (s.FILE_CREATE, s.FILE_OVERWRITE_IF):
            r, _ = c.create(name, disposition=disposition)
            assert r.status in ESCAPE_REFUSED, (disposition, hex(r.status))
    assert sorted(p.name for p in escape.share.iterdir()) == ["outdir", "outfile", "sub"]
    s.still_serving(escape)


def test_dotdot_inside_the_share_resolves_as_windows_does(escape):
    """`..` takes back the component before it, as Windows and Samba resolve it (smbtorture smb2.notify.tree
    opens `dir\\sub\\..`): a name that stays inside the share opens there; one more `..` is refused."""
    with s.logged_on(escape) as c:
        r, fid = c.create("sub\\..\\inside.txt", disposition=s.FILE_CREATE)
        assert r.status == s.SUCCESS, hex(r.status)
        assert c.close_file(fid).status == s.SUCCESS
        # Resolved on the name, before the file system: `missing` need not exist.
        r, fid = c.create("sub\\missing\\..\\..\\inside.txt", disposition=s.FILE_OPEN)
        assert r.status == s.SUCCESS, hex(r.status)
        r, fid = c.create("sub\\..", options=s.DIRECTORY_FILE, disposition=s.FILE_OPEN)
        assert r.status == s.SUCCESS, hex(r.status)
        r, _ = c.create("sub\\..\\..\\inside.txt", disposition=s.FILE_CREATE)
        assert r.status == s.OBJECT_PATH_SYNTAX_BAD, hex(r.status)
    assert (escape.share / "inside.txt").exists() and not (escape.share / "sub" / "inside.txt").exists()


def test_symlink_outside_as_directory_component(escape):
    """ksmbd class: a symlink inside the share pointing outside was followed when it appeared as a directory
    component of a CREATE path or of a rename/link target. Nothing is created, opened, moved or linked there."""
    with s.logged_on(escape) as c:
        for name, disp in (("outdir\\new.txt", s.FILE_CREATE), ("outdir\\canary.txt", s.FILE_OPEN),
                           ("outdir\\canary.txt", s.FILE_OVERWRITE_IF), ("sub\\..\\outdir\\x.txt", s.FILE_OPEN_IF),
                           ("outdir", s.FILE_OPEN), ("outfile", s.FILE_OVERWRITE_IF)):
            r, fid = c.create(name, disposition=disp)
            assert r.status != s.SUCCESS, (name, hex(r.status))
        r, fid = c.create("mover.txt")
        assert r.status == s.SUCCESS
        for cls in (RENAME, LINK):
            for target in ("outdir\\moved.txt", "outdir\\canary.txt", "outdir\\..\\..\\moved.txt"):
                r = set_name(c, fid, cls, target, replace=True)
                assert r.status != s.SUCCESS, (cls, target, hex(r.status))
        # Replacing the symlink itself renames over the link inside the share, never through it.
        r = set_name(c, fid, RENAME, "outfile", replace=True)
        assert r.status in {s.SUCCESS, s.ACCESS_DENIED, s.OBJECT_NAME_COLLISION, s.OBJECT_NAME_INVALID}
    s.still_serving(escape)


@pytest.mark.parametrize("target", ["", "\\", "\\\\\\"])
def test_empty_rename_target(escape, target):
    """ksmbd class: an empty rename target name was used to build a path without a final component (the share
    root itself). STATUS_INVALID_PARAMETER; the file keeps its name."""
    with s.logged_on(escape) as c:
        r, fid = c.create("keep.txt")
        assert r.status == s.SUCCESS
        for cls in (RENAME, LINK):
            r = set_name(c, fid, cls, target, replace=True)
            assert r.status == s.INVALID_PARAMETER, hex(r.status)
        # A rename buffer whose FileNameLength runs past the buffer.
        info = s.rename_info("x.txt")
        info = info[:16] + (0xFFFF).to_bytes(4, "little") + info[20:]
        r = c.call(s.SET_INFO, s.set_info_body(fid, 1, RENAME, info))
        assert r.status in {s.INVALID_PARAMETER, s.INFO_LENGTH_MISMATCH}, hex(r.status)
    assert sorted(p.name for p in escape.share.iterdir()) == ["keep.txt", "outdir", "outfile", "sub"]
    s.still_serving(escape)
