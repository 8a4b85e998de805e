"""macOS metadata moves between rsmbd and Samba (issue 18): both serve a share with `vfs objects = catia fruit
streams_xattr` and Samba's defaults (`fruit:metadata = netatalk`, `fruit:resource = file`). FinderInfo written
through one server (the AFP_AfpInfo stream, kept in the `user.org.netatalk.Metadata` xattr) and a resource fork
larger than any xattr (AFP_Resource, kept in the AppleDouble file `._name`) are copied on disk to the other
server's share and read back through Python smbprotocol. Then hostile input: malformed AAPL contexts and
AfpInfo of the wrong size or signature are refused and the server keeps serving."""

import os
import struct

import pytest
import smbclient

import smb2raw as s
from samba_server import SAMBA_PASSWORD, copy_with_xattrs, private_smbd
from test_ea_interop import session

FRUIT = "vfs objects = catia fruit streams_xattr\n"
FINDER_INFO = b"TESTSLOW" + bytes([0x01, 0x00]) + bytes(22)
AFP_INFO = b"AFP\0" + bytes([0, 0, 1, 0]) + bytes(4) + bytes([0x80, 0, 0, 0]) + FINDER_INFO + bytes(12)
RESOURCE = bytes((i * 7) % 251 for i in range(100_000))


@pytest.fixture
def samba_fruit(tmp_path):
    with private_smbd(tmp_path, FRUIT) as started:
        yield started


def write_mac_file(unc, kw):
    with smbclient.open_file(unc, "wb", **kw) as f:
        f.write(b"data fork")
    with smbclient.open_file(f"{unc}:AFP_AfpInfo", "wb", **kw) as f:
        f.write(AFP_INFO)
    with smbclient.open_file(f"{unc}:AFP_Resource", "wb", **kw) as f:
        f.write(RESOURCE)


def check_mac_file(unc, kw):
    with smbclient.open_file(f"{unc}:AFP_AfpInfo", "rb", **kw) as f:
        info = f.read()
    assert len(info) == 60 and info[:4] == b"AFP\0", info
    assert info[16:48] == FINDER_INFO
    with smbclient.open_file(f"{unc}:AFP_Resource", "rb", **kw) as f:
        assert f.read() == RESOURCE
    with smbclient.open_file(unc, "rb", **kw) as f:
        assert f.read() == b"data fork"


def copy_with_adouble(src_dir, name, dst_dir):
    for n in (name, f"._{name}"):
        copy_with_xattrs(src_dir / n, dst_dir)


@pytest.mark.rsmbd_conf(extra_share=FRUIT)
def test_rsmbd_mac_metadata_read_by_samba(server, samba_fruit):
    port, samba_share, user = samba_fruit
    kw = session(server.host, server.port, server.user, server.password)
    write_mac_file(f"\\\\{server.host}\\{server.share_name}\\doc.txt", kw)
    smbclient.reset_connection_cache(connection_cache=kw["connection_cache"])
    # Samba's layouts on disk: the netatalk metadata xattr and the AppleDouble file.
    meta = os.getxattr(server.share / "doc.txt", "user.org.netatalk.Metadata")
    assert len(meta) == 402 and meta[:4] == b"\x00\x05\x16\x07" and meta[122:154] == FINDER_INFO
    adouble = (server.share / "._doc.txt").read_bytes()
    assert adouble[:4] == b"\x00\x05\x16\x07" and adouble[82:] == RESOURCE
    assert not [x for x in os.listxattr(server.share / "doc.txt") if x.startswith("user.DosStream.AFP")]
    copy_with_adouble(server.share, "doc.txt", samba_share)

    skw = session("127.0.0.1", port, user, SAMBA_PASSWORD)
    check_mac_file("\\\\127.0.0.1\\data\\doc.txt", skw)
    smbclient.reset_connection_cache(connection_cache=skw["connection_cache"])


@pytest.mark.rsmbd_conf(extra_share=FRUIT)
def test_samba_mac_metadata_read_by_rsmbd(server, samba_fruit):
    port, samba_share, user = samba_fruit
    skw = session("127.0.0.1", port, user, SAMBA_PASSWORD)
    write_mac_file("\\\\127.0.0.1\\data\\from-samba.txt", skw)
    smbclient.reset_connection_cache(connection_cache=skw["connection_cache"])
    copy_with_adouble(samba_share, "from-samba.txt", server.share)

    kw = session(server.host, server.port, server.user, server.password)
    unc = f"\\\\{server.host}\\{server.share_name}\\from-samba.txt"
    check_mac_file(unc, kw)
    # The AppleDouble file itself is hidden from clients (fruit:veto_appledouble, Samba's default).
    assert "._from-samba.txt" not in smbclient.listdir(f"\\\\{server.host}\\{server.share_name}", **kw)
    smbclient.reset_connection_cache(connection_cache=kw["connection_cache"])


def aapl_query(length=24, command=1):
    data = struct.pack("<IIQQ", command, 0, 7, 0xD)
    return s.create_context(b"AAPL", (data + bytes(max(0, length - 24)))[:length])


@pytest.mark.rsmbd_conf(extra_share=FRUIT)
def test_hostile_aapl_and_afpinfo(server):
    with s.logged_on(server) as c:
        for bad in (aapl_query(0), aapl_query(23), aapl_query(25), aapl_query(command=2)):
            r, _ = c.create("aapl.txt", contexts=bad)
            assert r.status == s.INVALID_PARAMETER, hex(r.status)
        # A well-formed query is answered once per connection: 56 bytes with the 8-character model.
        r, fid = c.create("aapl.txt", contexts=aapl_query())
        assert r.status == s.SUCCESS
        assert b"AAPL" in r.body and "RackMac".encode("utf-16-le") in r.body
        c.close_file(fid)
        r, fid = c.create("mac.txt:AFP_AfpInfo")
        assert r.status == s.SUCCESS
        for offset, data in ((0, AFP_INFO + b"x"), (0, b"BAD\0" + AFP_INFO[4:])):
            assert c.write(fid, offset, data).status == s.INVALID_PARAMETER
        assert c.write(fid, 0, AFP_INFO).status == s.SUCCESS
        r = c.read(fid, 0, 100)
        assert r.status == s.SUCCESS and r.body[16:76] == AFP_INFO
        c.close_file(fid)
    assert server.alive()


FILE_ALL_INFORMATION = 18


def all_info_name(c, fid):
    r = c.call(s.QUERY_INFO, s.query_info_body(fid, 1, FILE_ALL_INFORMATION))
    assert r.status == s.SUCCESS, hex(r.status)
    length = struct.unpack_from("<I", r.body, 8 + 96)[0]
    return r.body[8 + 100:8 + 100 + length].decode("utf-16-le")


def rename(c, fid, target):
    return c.call(s.SET_INFO, s.set_info_body(fid, 1, 10, s.rename_info(target)))


@pytest.mark.rsmbd_conf(extra_share=FRUIT)
def test_folder_with_open_files_renames_only_for_macs(server):
    """Windows refuses to rename a folder while a file in it is open (STATUS_ACCESS_DENIED); a Mac (AAPL,
    `fruit:posix_rename`, the default) may, and the open file then goes by its new path."""
    (server.share / "folder").mkdir()
    (server.share / "folder" / "inner.txt").write_bytes(b"inner")
    for mac, new in ((False, "renamed-win"), (True, "renamed-mac")):
        with s.logged_on(server) as c:
            if mac:
                r, fid = c.create("aapl.txt", contexts=aapl_query())
                assert r.status == s.SUCCESS
                c.close_file(fid)
            r, inner = c.create("folder\\inner.txt", disposition=s.FILE_OPEN)
            assert r.status == s.SUCCESS
            r, folder = c.create("folder", access=s.GENERIC_ALL, options=s.DIRECTORY_FILE, disposition=s.FILE_OPEN)
            assert r.status == s.SUCCESS
            r = rename(c, folder, new)
            if not mac:
                assert r.status == s.ACCESS_DENIED, hex(r.status)
                continue
            assert r.status == s.SUCCESS, hex(r.status)
            assert all_info_name(c, inner).endswith(f"{new}\\inner.txt")
            assert (server.share / new / "inner.txt").read_bytes() == b"inner"
