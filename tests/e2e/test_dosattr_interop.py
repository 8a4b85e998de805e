"""DOS attributes and creation times move between rsmbd and Samba (`user.DOSATTRIB`, Samba's format): attributes
set through rsmbd (smbclient `setmode`) on a file copied with its extended attributes are what a private Samba
smbd reports for it (through Python smbprotocol), and the reverse."""

import struct
import subprocess

import smbclient

import smb2raw as s

from test_ea_interop import SAMBA_PASSWORD, samba, session  # noqa: F401 (samba is a fixture)
from samba_server import copy_with_xattrs

HIDDEN, SYSTEM, ARCHIVE, READONLY = 0x2, 0x4, 0x20, 0x1


def setmode(host, port, user, password, share, name, mode):
    res = subprocess.run(["smbclient", f"//{host}/{share}", "-p", str(port), "-U", f"{user}%{password}",
                          "-c", f"setmode {name} {mode}"], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0 and "NT_STATUS" not in res.stdout + res.stderr, res.stdout + res.stderr


def attributes_and_birth(unc, kw):
    st = smbclient.stat(unc, **kw)
    # st_ctime is the creation time in smbprotocol (Windows meaning).
    return st.st_file_attributes & (HIDDEN | SYSTEM | ARCHIVE | READONLY), st.st_ctime_ns


def test_rsmbd_attributes_read_by_samba(server, samba):
    port, samba_share, user = samba
    kw = session(server.host, server.port, server.user, server.password)
    unc = f"\\\\{server.host}\\{server.share_name}\\marked.txt"
    with smbclient.open_file(unc, "w", **kw) as f:
        f.write("x")
    setmode(server.host, server.port, server.user, server.password, server.share_name, "marked.txt", "+hs")
    ours = attributes_and_birth(unc, kw)
    assert ours[0] & (HIDDEN | SYSTEM) == HIDDEN | SYSTEM, ours
    smbclient.reset_connection_cache(connection_cache=kw["connection_cache"])
    copy_with_xattrs(server.share / "marked.txt", samba_share)

    skw = session("127.0.0.1", port, user, SAMBA_PASSWORD)
    theirs = attributes_and_birth("\\\\127.0.0.1\\data\\marked.txt", skw)
    smbclient.reset_connection_cache(connection_cache=skw["connection_cache"])
    assert theirs == ours


def test_samba_attributes_read_by_rsmbd(server, samba):
    port, samba_share, user = samba
    skw = session("127.0.0.1", port, user, SAMBA_PASSWORD)
    sunc = "\\\\127.0.0.1\\data\\from-samba.txt"
    with smbclient.open_file(sunc, "w", **skw) as f:
        f.write("y")
    setmode("127.0.0.1", port, user, SAMBA_PASSWORD, "data", "from-samba.txt", "+h")
    theirs = attributes_and_birth(sunc, skw)
    assert theirs[0] & HIDDEN, theirs
    smbclient.reset_connection_cache(connection_cache=skw["connection_cache"])
    copy_with_xattrs(samba_share / "from-samba.txt", server.share)

    kw = session(server.host, server.port, server.user, server.password)
    ours = attributes_and_birth(f"\\\\{server.host}\\{server.share_name}\\from-samba.txt", kw)
    smbclient.reset_connection_cache(connection_cache=kw["connection_cache"])
    assert ours == theirs


FILE_BASIC_INFORMATION = 4
# Four distinct FILETIMEs in 2025, in the order of FileBasicInformation.
CREATED, ACCESSED, WRITTEN, CHANGED = (133_800_000_000_000_000 + i * 864_000_000_000 for i in (9, 6, 3, 1))


def basic_times(c, fid):
    r = c.call(s.QUERY_INFO, s.query_info_body(fid, 1, FILE_BASIC_INFORMATION))
    assert r.status == s.SUCCESS, hex(r.status)
    return struct.unpack_from("<QQQQI", r.body, 8)


def test_explicit_change_time_is_kept_until_the_data_changes(server, samba):
    """Linux cannot set ctime: a ChangeTime set through SET_INFO is stored in user.DOSATTRIB (version 3, the
    layout with a change time) and reported until the file is written; Samba reads that blob's attributes and
    creation time."""
    port, samba_share, user = samba
    with s.logged_on(server) as c:
        r, fid = c.create("times.txt", disposition=s.FILE_OVERWRITE_IF)
        assert r.status == s.SUCCESS and c.write(fid, 0, b"abc").status == s.SUCCESS
        basic = struct.pack("<QQQQII", CREATED, ACCESSED, WRITTEN, CHANGED, HIDDEN, 0)
        assert c.call(s.SET_INFO, s.set_info_body(fid, 1, FILE_BASIC_INFORMATION, basic)).status == s.SUCCESS
        assert basic_times(c, fid)[1:] == (ACCESSED, WRITTEN, CHANGED, HIDDEN)
        assert c.close_file(fid).status == s.SUCCESS
    with s.logged_on(server) as c:
        r, fid = c.create("times.txt", disposition=s.FILE_OPEN)
        assert r.status == s.SUCCESS
        assert basic_times(c, fid)[:4] == (CREATED, ACCESSED, WRITTEN, CHANGED)
        copy_with_xattrs(server.share / "times.txt", samba_share)
        assert c.write(fid, 0, b"x").status == s.SUCCESS
        assert c.close_file(fid).status == s.SUCCESS
        r, fid = c.create("times.txt", disposition=s.FILE_OPEN)
        written, changed = basic_times(c, fid)[2:4]
        assert changed == written != CHANGED

    skw = session("127.0.0.1", port, user, SAMBA_PASSWORD)
    theirs = attributes_and_birth("\\\\127.0.0.1\\data\\times.txt", skw)
    smbclient.reset_connection_cache(connection_cache=skw["connection_cache"])
    assert theirs == (HIDDEN, (CREATED - 116_444_736_000_000_000) * 100)
