"""Admin commands: `rsmbd check` (testparm) and `rsmbd user passwd|enable|disable` against a live server."""

import subprocess
from pathlib import Path

from rsmbd_server import RsmbdServer, rsmbd_binary

REPO = Path(__file__).resolve().parents[2]


def rsmbd(*args, stdin=None):
    return subprocess.run([str(rsmbd_binary()), *args], input=stdin, capture_output=True, text=True, timeout=30)


def test_check_accepts_the_example_and_reports_errors_with_location(tmp_path):
    res = rsmbd("check", "--config", str(REPO / "contrib" / "smb.conf.example"))
    assert res.returncode == 0, res.stderr
    assert "[secret]" in res.stdout and "smb encrypt = required" in res.stdout
    bad = tmp_path / "bad.conf"
    bad.write_text("[global]\nserver signing = sometimes\n[x]\npath = /x\n")
    res = rsmbd("check", "--config", str(bad))
    assert res.returncode != 0
    assert f"{bad}:2:" in res.stderr


def login(srv, password):
    cmd = ["smbclient", srv.unc, "-p", str(srv.port), "-U", f"{srv.user}%{password}", "-c", "ls"]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=60, errors="replace")
    return res.returncode, res.stdout + res.stderr


def test_disable_enable_and_change_password(tmp_path_factory):
    with RsmbdServer(tmp_root=tmp_path_factory.getbasetemp()) as srv:
        conf = str(srv.conf)
        assert rsmbd("user", "disable", srv.user, "--config", conf).returncode == 0
        code, out = login(srv, srv.password)
        assert code != 0 and "NT_STATUS_ACCOUNT_DISABLED" in out, out
        assert rsmbd("user", "enable", srv.user, "--config", conf).returncode == 0
        assert login(srv, srv.password)[0] == 0
        assert rsmbd("user", "passwd", srv.user, "--config", conf, stdin="n3w-pass\n").returncode == 0
        assert login(srv, "n3w-pass")[0] == 0
        code, out = login(srv, srv.password)
        assert code != 0 and "NT_STATUS_LOGON_FAILURE" in out


def test_share_add_list_del_keep_comments(tmp_path):
    conf = tmp_path / "smb.conf"
    original = "# site config\n[global]\n    workgroup = HOME ; trailing note\n\n# the data share\n[data]\n    path = /srv/data\n"
    conf.write_text(original)
    (tmp_path / "pics").mkdir()
    res = rsmbd("share", "add", "pics", "--path", str(tmp_path / "pics"), "--comment", "Photos", "--writable",
                "--config", str(conf))
    assert res.returncode == 0, res.stderr
    assert conf.read_text().startswith(original)
    listed = rsmbd("share", "list", "--config", str(conf)).stdout
    assert "pics\t" in listed and "Photos" in listed and "data\t" in listed
    assert rsmbd("share", "add", "PICS", "--path", "/x", "--config", str(conf)).returncode != 0
    assert rsmbd("share", "del", "data", "--config", str(conf)).returncode == 0
    text = conf.read_text()
    assert "# site config" in text and "; trailing note" in text and "[data]" not in text and "[pics]" in text
    assert rsmbd("share", "del", "data", "--config", str(conf)).returncode != 0
