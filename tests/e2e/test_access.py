"""Share access by client address (`hosts allow`, `hosts deny`) and by user (`valid users` with @group,
`invalid users`)."""

import grp
import os
import subprocess

from rsmbd_server import RsmbdServer


def ls(srv, address="127.0.0.1"):
    cmd = ["smbclient", f"//localhost/{srv.share_name}", "-I", address, "-p", str(srv.port)]
    cmd += ["-U", f"{srv.user}%{srv.password}", "-c", "ls"]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=60, errors="replace")
    return res.returncode, res.stdout + res.stderr


def server(tmp_path_factory, share_conf):
    both = "interfaces = 127.0.0.1 ::1"
    return RsmbdServer(extra_global=both, extra_share=share_conf, tmp_root=tmp_path_factory.getbasetemp())


def test_hosts_allow_and_deny(tmp_path_factory):
    with server(tmp_path_factory, "hosts allow = 10.0.0.0/8") as srv:
        code, out = ls(srv)
        assert code != 0 and "NT_STATUS_ACCESS_DENIED" in out, out
    with server(tmp_path_factory, "hosts deny = 127.0.0.1") as srv:
        code, out = ls(srv, "127.0.0.1")
        assert code != 0 and "NT_STATUS_ACCESS_DENIED" in out, out
        code, out = ls(srv, "::1")
        assert code == 0, out
    with server(tmp_path_factory, "hosts deny = ALL\nhosts allow = ::1") as srv:
        assert ls(srv, "::1")[0] == 0
        assert ls(srv, "127.0.0.1")[0] != 0


def test_valid_and_invalid_users(tmp_path_factory):
    # The test user has no Unix account, so it runs as the server's own uid, whose primary group is ours.
    group = grp.getgrgid(os.getgid()).gr_name
    with server(tmp_path_factory, f"valid users = nobody @{group}") as srv:
        code, out = ls(srv)
        assert code == 0, out
    with server(tmp_path_factory, "valid users = nobody") as srv:
        code, out = ls(srv)
        assert code != 0 and "NT_STATUS_ACCESS_DENIED" in out, out
    with server(tmp_path_factory, f"invalid users = @{group}") as srv:
        code, out = ls(srv)
        assert code != 0 and "NT_STATUS_ACCESS_DENIED" in out, out
