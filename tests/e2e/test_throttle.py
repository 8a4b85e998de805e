"""Failed logons are throttled per client address and per user name (ksmbd CVE-2023-32251 class)."""

import subprocess
import time

from rsmbd_server import RsmbdServer

# Two client addresses on one machine: IPv4 and IPv6 loopback.
CONF = "interfaces = 127.0.0.1 ::1\nmax logon failures = 3\nlogon failure window = 60"


def login(srv, address, user, password):
    cmd = ["smbclient", f"//localhost/{srv.share_name}", "-I", address, "-p", str(srv.port)]
    cmd += ["-U", f"{user}%{password}", "-c", "ls"]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=60, errors="replace")
    return res.returncode == 0, res.stdout + res.stderr


def test_guessing_is_throttled_without_stalling_others(tmp_path_factory):
    with RsmbdServer(extra_global=CONF, tmp_root=tmp_path_factory.getbasetemp()) as srv:
        for _ in range(3):
            ok, out = login(srv, "127.0.0.1", "mallory", "guess")
            assert not ok and "NT_STATUS_LOGON_FAILURE" in out
        # The guessing address is now refused even for a valid account...
        ok, out = login(srv, "127.0.0.1", srv.user, srv.password)
        assert not ok and "NT_STATUS_LOGON_FAILURE" in out, out
        # ...while another address logs on at once.
        start = time.monotonic()
        ok, out = login(srv, "::1", srv.user, srv.password)
        assert ok, out
        assert time.monotonic() - start < 5
        assert "too many failures" in srv.log()


def test_a_guessed_user_is_protected_from_every_address(tmp_path_factory):
    with RsmbdServer(extra_global=CONF, tmp_root=tmp_path_factory.getbasetemp()) as srv:
        for _ in range(3):
            ok, out = login(srv, "::1", srv.user, "wrong")
            assert not ok
        ok, out = login(srv, "127.0.0.1", srv.user, srv.password)
        assert not ok and "NT_STATUS_LOGON_FAILURE" in out, out
