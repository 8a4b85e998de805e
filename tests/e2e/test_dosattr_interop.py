"""DOS attributes and creation times move between rsmbd and Samba (`user.DOSATTRIB`, Samba's format): attributes
set through rsmbd (smbclient `setmode`) on a file copied with its extended attributes are what a private Samba
smbd reports for it (through Python smbprotocol), and the reverse."""

import subprocess

import smbclient

from test_ea_interop import SAMBA_PASSWORD, samba, session  # noqa: F401 (samba is a fixture)

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
    subprocess.run(["cp", "-a", "--preserve=xattr", str(server.share / "marked.txt"), str(samba_share)], check=True)

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
    subprocess.run(["cp", "-a", "--preserve=xattr", str(samba_share / "from-samba.txt"), str(server.share)],
                   check=True)

    kw = session(server.host, server.port, server.user, server.password)
    ours = attributes_and_birth(f"\\\\{server.host}\\{server.share_name}\\from-samba.txt", kw)
    smbclient.reset_connection_cache(connection_cache=kw["connection_cache"])
    assert ours == theirs
