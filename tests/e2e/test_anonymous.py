"""Anonymous (null) logons: refused by default, allowed with `restrict anonymous = 0`, and then only into
`guest ok` shares; such sessions never get signing or encryption keys, so an encrypted share stays shut."""

import subprocess

from rsmbd_server import RsmbdServer


def anonymous_ls(srv, *extra):
    cmd = ["smbclient", srv.unc, "-p", str(srv.port), "-N", *extra, "-c", "ls"]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=60, errors="replace")
    return res.returncode, res.stdout + res.stderr


def test_anonymous_refused_by_default(tmp_path_factory):
    with RsmbdServer(extra_share="guest ok = yes", tmp_root=tmp_path_factory.getbasetemp()) as srv:
        code, out = anonymous_ls(srv)
        assert code != 0 and "NT_STATUS_LOGON_FAILURE" in out, out


def test_anonymous_allowed_only_where_configured(tmp_path_factory):
    root = tmp_path_factory.getbasetemp()
    with RsmbdServer(extra_global="restrict anonymous = 0", extra_share="guest ok = yes", tmp_root=root) as srv:
        (srv.share / "visible.txt").write_text("x")
        code, out = anonymous_ls(srv)
        assert code == 0 and "visible.txt" in out, out
    with RsmbdServer(extra_global="restrict anonymous = 0", tmp_root=root) as srv:
        code, out = anonymous_ls(srv)
        assert code != 0 and "NT_STATUS_ACCESS_DENIED" in out, out
    conf = "guest ok = yes\nsmb encrypt = required"
    with RsmbdServer(extra_global="restrict anonymous = 0", extra_share=conf, tmp_root=root) as srv:
        code, out = anonymous_ls(srv)
        assert code != 0 and "NT_STATUS_ACCESS_DENIED" in out, out
