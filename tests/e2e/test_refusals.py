"""Logins and clients the server must refuse, and staying available after refusing them."""

import socket


def good_login_works(smbclient, server):
    (server.share / "marker.txt").write_text("still here")
    res = smbclient("ls")
    assert res.returncode == 0, res.stdout + res.stderr
    assert "marker.txt" in res.stdout


def test_wrong_password(server, smbclient):
    res = smbclient("ls", password="not-the-password")
    assert res.returncode != 0
    assert "NT_STATUS_LOGON_FAILURE" in res.stdout + res.stderr
    good_login_works(smbclient, server)


def test_unknown_user(server, smbclient):
    res = smbclient("ls", user="nobody-here", password="whatever")
    assert res.returncode != 0
    assert "NT_STATUS_LOGON_FAILURE" in res.stdout + res.stderr
    good_login_works(smbclient, server)


def test_ntlmv1_refused(server, smbclient):
    res = smbclient("ls", "--option=client ntlmv2 auth=no")
    out = res.stdout + res.stderr
    assert res.returncode != 0, out
    assert "NT_STATUS_" in out, out
    assert "marker.txt" not in out
    good_login_works(smbclient, server)


def test_smb1_only_client(server, smbclient):
    res = smbclient("ls", "--option=client min protocol=NT1", protocol="NT1", timeout=60)
    out = res.stdout + res.stderr
    assert res.returncode != 0, out
    assert "NT_STATUS_" in out, out
    good_login_works(smbclient, server)


def test_garbage_then_serving(server, smbclient):
    """Junk bytes and an oversized frame length must not take the server down."""
    for payload in (b"\x00\x00\x00\x04junk", b"\x00\xff\xff\xff" + b"A" * 64, b"GET / HTTP/1.0\r\n\r\n"):
        with socket.create_connection((server.host, server.port), timeout=5) as s:
            s.sendall(payload)
            s.settimeout(5)
            try:
                s.recv(4096)
            except OSError:
                pass
    good_login_works(smbclient, server)
