"""Extended attributes (MS-FSCC 2.4.15): rsmbd keeps each EA as the Linux xattr `user.<name>`, as Samba does with
`ea support = yes`, so a directory moves between the two servers with its EAs. A private Samba smbd (loopback,
temporary directory; the test is skipped when the `smbd` binary is missing) reads what rsmbd wrote and the
reverse, both through Python smbprotocol. Then the query semantics of MS-FSA 2.1.5.12.12 on the wire."""

import os
import struct

import pytest
import smbclient
import smbclient._os as smbos

import smb2raw as s
from samba_server import SAMBA_PASSWORD, copy_with_xattrs, private_smbd


@pytest.fixture
def samba(tmp_path):
    """A private smbd serving `tmp_path/share` as [data] on a free loopback port: (port, share path, user)."""
    with private_smbd(tmp_path, "vfs objects = streams_xattr") as started:
        yield started


def session(host, port, user, password):
    """smbclient keyword arguments for a connection of its own."""
    kw = {"port": port, "connection_cache": {}}
    smbclient.register_session(host, username=user, password=password, **kw)
    return kw


def eas_of(unc, kw):
    return dict(smbos._get_extended_attributes(unc, True, **kw))


def test_rsmbd_eas_read_by_samba(server, samba):
    port, samba_share, user = samba
    kw = session(server.host, server.port, server.user, server.password)
    unc = f"\\\\{server.host}\\{server.share_name}\\doc.txt"
    with smbclient.open_file(unc, "w", **kw) as f:
        f.write("payload")
    smbos.setxattr(unc, b"Author", b"Ada\0Lovelace", **kw)
    smbos.setxattr(unc, b"user.tag", b"x", **kw)
    smbos.setxattr(unc, b"AUTHOR", b"Ada", **kw)  # the same EA: the stored spelling stays
    assert eas_of(unc, kw) == {b"Author": b"Ada", b"user.tag": b"x"}
    smbclient.reset_connection_cache(connection_cache=kw["connection_cache"])
    # The on-disk format is Samba's: user.<name> as given, value as is.
    assert os.getxattr(server.share / "doc.txt", "user.Author") == b"Ada"
    assert os.getxattr(server.share / "doc.txt", "user.user.tag") == b"x"
    copy_with_xattrs(server.share / "doc.txt", samba_share)

    skw = session("127.0.0.1", port, user, SAMBA_PASSWORD)
    sunc = "\\\\127.0.0.1\\data\\doc.txt"
    assert eas_of(sunc, skw) == {b"Author": b"Ada", b"user.tag": b"x"}
    smbclient.reset_connection_cache(connection_cache=skw["connection_cache"])


def test_samba_eas_read_by_rsmbd(server, samba):
    port, samba_share, user = samba
    skw = session("127.0.0.1", port, user, SAMBA_PASSWORD)
    sunc = "\\\\127.0.0.1\\data\\from-samba.txt"
    with smbclient.open_file(sunc, "w", **skw) as f:
        f.write("hello")
    smbos.setxattr(sunc, b"MixedCase", b"\x00\x01binary\xff", **skw)
    smbos.setxattr(sunc, b"second", b"2", **skw)
    smbclient.reset_connection_cache(connection_cache=skw["connection_cache"])
    # Samba also stored its DOS attributes (user.DOSATTRIB): rsmbd must not show them as an EA.
    raw = os.listxattr(samba_share / "from-samba.txt")
    assert "user.MixedCase" in raw and "user.DOSATTRIB" in raw, raw
    copy_with_xattrs(samba_share / "from-samba.txt", server.share)

    kw = session(server.host, server.port, server.user, server.password)
    unc = f"\\\\{server.host}\\{server.share_name}\\from-samba.txt"
    assert eas_of(unc, kw) == {b"MixedCase": b"\x00\x01binary\xff", b"second": b"2"}
    smbclient.reset_connection_cache(connection_cache=kw["connection_cache"])


def query_buffer(r):
    return r.buffer("<HI", 2)


def test_query_semantics(server):
    """MS-FSA 2.1.5.12.12 and MS-SMB2 3.3.5.20.1: the scan goes on where it stopped, RESTART_SCAN, a single
    entry, a 1-based index, BUFFER_TOO_SMALL when not even one entry fits, BUFFER_OVERFLOW when some do,
    named queries (an unknown name comes back empty), FileEaInformation and the directory listing's EaSize."""
    with s.logged_on(server) as c:
        r, fid = c.create("q.txt")
        assert r.status == s.SUCCESS
        assert c.call(s.QUERY_INFO, s.query_ea_body(fid)).status == s.NO_EAS_ON_FILE
        eas = [(b"ONE", b"1"), (b"TWO", b"22"), (b"THREE", b"333")]
        assert c.call(s.SET_INFO, s.set_info_body(fid, 1, 15, s.full_ea(eas))).status == s.SUCCESS
        # The scan order is the file system's listing order.
        listed = [n for n, _ in s.parse_full_ea(query_buffer(
            c.call(s.QUERY_INFO, s.query_ea_body(fid, flags=1))))]
        assert sorted(listed) == sorted(n for n, _ in eas)
        values = dict(eas)
        # Too small for the first entry.
        r = c.call(s.QUERY_INFO, s.query_ea_body(fid, out_len=8, flags=1))
        assert r.status == s.BUFFER_TOO_SMALL, hex(r.status)
        # Room for exactly one: BUFFER_OVERFLOW, then the scan goes on from the next one.
        first = 8 + len(listed[0]) + 1 + len(values[listed[0]])
        r = c.call(s.QUERY_INFO, s.query_ea_body(fid, out_len=first, flags=1))
        assert r.status == s.BUFFER_OVERFLOW, hex(r.status)
        assert s.parse_full_ea(query_buffer(r)) == [(listed[0], values[listed[0]])]
        r = c.call(s.QUERY_INFO, s.query_ea_body(fid, flags=2))
        assert r.status == s.SUCCESS and s.parse_full_ea(query_buffer(r)) == [(listed[1], values[listed[1]])]
        r = c.call(s.QUERY_INFO, s.query_ea_body(fid))
        assert r.status == s.SUCCESS and s.parse_full_ea(query_buffer(r)) == [(listed[2], values[listed[2]])]
        assert c.call(s.QUERY_INFO, s.query_ea_body(fid)).status == s.NO_EAS_ON_FILE
        # A 1-based index.
        r = c.call(s.QUERY_INFO, s.query_ea_body(fid, flags=4 | 2, index=3))
        assert s.parse_full_ea(query_buffer(r)) == [(listed[2], values[listed[2]])]
        for index in (0, 4):
            r = c.call(s.QUERY_INFO, s.query_ea_body(fid, flags=4, index=index))
            assert r.status == s.NONEXISTENT_EA_ENTRY, hex(r.status)
        # Named, in any case; an unknown name is an empty entry.
        r = c.call(s.QUERY_INFO, s.query_ea_body(fid, names=s.get_ea([b"two", b"missing"])))
        assert r.status == s.SUCCESS
        assert s.parse_full_ea(query_buffer(r)) == [(b"TWO", b"22"), (b"missing", b"")]
        # FileEaInformation: each entry 4-aligned (16 + 16 + 20).
        r = c.call(s.QUERY_INFO, s.query_info_body(fid, 1, 7))
        assert r.status == s.SUCCESS and struct.unpack("<I", query_buffer(r))[0] == 52
        # Deleting with an empty value.
        body = s.set_info_body(fid, 1, 15, s.full_ea([(b"one", b""), (b"Two", b""), (b"three", b"")]))
        assert c.call(s.SET_INFO, body).status == s.SUCCESS
        assert c.call(s.QUERY_INFO, s.query_ea_body(fid, flags=1)).status == s.NO_EAS_ON_FILE
        assert not [n for n in os.listxattr(server.share / "q.txt") if n != "user.DOSATTRIB"]


def test_access_and_ea_context(server):
    """FILE_READ_EA / FILE_WRITE_EA are checked on the handle; the ExtA create context sets EAs on a new file,
    and a bad one fails the CREATE with the EA status and leaves no file."""
    with s.logged_on(server) as c:
        ctx = s.create_context(b"ExtA", s.full_ea([(b"FromCreate", b"v")]))
        r, fid = c.create("ctx.txt", disposition=s.FILE_CREATE, contexts=ctx)
        assert r.status == s.SUCCESS, hex(r.status)
        assert os.getxattr(server.share / "ctx.txt", "user.FromCreate") == b"v"
        c.close_file(fid)
        bad = s.create_context(b"ExtA", s.full_ea([(b"ok", b"1"), (b"bad:name", b"v")]))
        r, _ = c.create("bad-ctx.txt", disposition=s.FILE_CREATE, contexts=bad)
        assert r.status == s.INVALID_EA_NAME, hex(r.status)
        assert not (server.share / "bad-ctx.txt").exists()
        # Read data only: FILE_READ_EA (0x8) and FILE_WRITE_EA (0x10) missing.
        r, ro = c.create("ctx.txt", access=s.FILE_READ_DATA, disposition=s.FILE_OPEN)
        assert r.status == s.SUCCESS
        assert c.call(s.QUERY_INFO, s.query_ea_body(ro)).status == s.ACCESS_DENIED
        body = s.set_info_body(ro, 1, 15, s.full_ea([(b"x", b"1")]))
        assert c.call(s.SET_INFO, body).status == s.ACCESS_DENIED
        r, ea_rw = c.create("ctx.txt", access=0x8 | 0x10, disposition=s.FILE_OPEN)
        assert r.status == s.SUCCESS
        r = c.call(s.QUERY_INFO, s.query_ea_body(ea_rw))
        assert s.parse_full_ea(query_buffer(r)) == [(b"FromCreate", b"v")]


@pytest.mark.rsmbd_conf(extra_share="ea support = no\n")
def test_ea_support_off(server):
    """`ea support = no`: every EA request is STATUS_EAS_NOT_SUPPORTED and the volume does not announce
    FILE_SUPPORTS_EXTENDED_ATTRIBUTES."""
    with s.logged_on(server) as c:
        r, fid = c.create("off.txt")
        assert r.status == s.SUCCESS
        assert c.call(s.QUERY_INFO, s.query_ea_body(fid)).status == s.EAS_NOT_SUPPORTED
        body = s.set_info_body(fid, 1, 15, s.full_ea([(b"x", b"1")]))
        assert c.call(s.SET_INFO, body).status == s.EAS_NOT_SUPPORTED
        r, _ = c.create("off2.txt", disposition=s.FILE_CREATE,
                        contexts=s.create_context(b"ExtA", s.full_ea([(b"x", b"1")])))
        assert r.status == s.EAS_NOT_SUPPORTED
        assert not (server.share / "off2.txt").exists()
        r = c.call(s.QUERY_INFO, s.query_info_body(fid, 2, 5))
        assert r.status == s.SUCCESS
        assert struct.unpack_from("<I", query_buffer(r))[0] & 0x00800000 == 0
    assert not [n for n in os.listxattr(server.share / "off.txt") if n != "user.DOSATTRIB"]


def test_fs_announces_eas(server):
    with s.logged_on(server) as c:
        r, fid = c.create("")
        r = c.call(s.QUERY_INFO, s.query_info_body(fid, 2, 5))
        assert struct.unpack_from("<I", query_buffer(r))[0] & 0x00800000
