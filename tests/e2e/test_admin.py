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


def test_user_import_from_smbpasswd_and_ksmbd(tmp_path_factory, tmp_path):
    """Accounts move over with their NT hashes: the imported users log on with their old passwords."""
    import base64

    other_conf = tmp_path / "other.conf"
    other_db = tmp_path / "other.smbpasswd"
    other_conf.write_text(f"[global]\npassdb backend = smbpasswd:{other_db}\n")
    for name, pw in [("alice", "alice-Pw1"), ("bob", "bob-Pw2")]:
        assert rsmbd("user", "add", name, "--config", str(other_conf), stdin=pw + "\n").returncode == 0
    fields = {line.split(":")[0]: line.split(":")[3] for line in other_db.read_text().splitlines()}
    ksmbd_db = tmp_path / "ksmbdpwd.db"
    ksmbd_db.write_text("alice:" + base64.b64encode(bytes.fromhex(fields["alice"])).decode() + "\n")
    bob_only = tmp_path / "bob.smbpasswd"
    bob_only.write_text("".join(line + "\n" for line in other_db.read_text().splitlines() if line.startswith("bob:")))
    with RsmbdServer(tmp_root=tmp_path_factory.getbasetemp()) as srv:
        conf = str(srv.conf)
        res = rsmbd("user", "import", "--ksmbd", str(ksmbd_db), "--config", conf)
        assert res.returncode == 0 and "imported 1 users: alice" in res.stdout, res.stdout + res.stderr
        res = rsmbd("user", "import", "--smbpasswd", str(bob_only), "--config", conf)
        assert res.returncode == 0 and "bob" in res.stdout, res.stdout + res.stderr
        for name, pw in [("alice", "alice-Pw1"), ("bob", "bob-Pw2"), (srv.user, srv.password)]:
            srv.user = name
            assert login(srv, pw)[0] == 0, name
        bad = tmp_path / "bad.db"
        bad.write_text("carol:not-base64!\n")
        res = rsmbd("user", "import", "--ksmbd", str(bad), "--config", conf)
        assert res.returncode != 0 and f"{bad}:1:" in res.stderr
        assert rsmbd("user", "import", "--config", conf).returncode != 0


def serve_check(conf_path, tmp_path):
    """`rsmbd check` passes (warnings allowed), then `rsmbd serve` with the file runs and lists its shares
    to `smbclient -L` as an unknown user (both files map unknown users to guest)."""
    import socket
    import time

    res = rsmbd("check", "--config", str(conf_path))
    assert res.returncode == 0, res.stderr
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    text = conf_path.read_text().replace("[global]", f"[global]\nsmb ports = {port}\ninterfaces = 127.0.0.1\n"
                                         f"bind interfaces only = yes\npassdb backend = smbpasswd:{tmp_path}/db\n", 1)
    text = text.replace("tcp port = 445", "")
    for share_path in ["/srv/public", "/srv/office"]:
        text = text.replace(share_path, str(tmp_path))
    conf = tmp_path / "run.conf"
    conf.write_text(text)
    proc = subprocess.Popen([str(rsmbd_binary()), "serve", "--config", str(conf)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 20
        while True:
            res = subprocess.run(["smbclient", "-L", "//127.0.0.1", "-p", str(port), "-U", "someone%x"], capture_output=True,
                                 text=True, timeout=30)
            if res.returncode == 0 or time.monotonic() > deadline or proc.poll() is not None:
                break
            time.sleep(0.2)
        assert proc.poll() is None, proc.stderr.read()
        return res
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_ksmbd_and_debian_configurations_check_and_serve(tmp_path):
    ksmbd = serve_check(REPO / "contrib" / "ksmbd.conf.example", tmp_path)
    assert "public" in ksmbd.stdout, ksmbd.stdout + ksmbd.stderr
    debian = Path("/usr/share/samba/smb.conf")
    if debian.exists():
        (tmp_path / "debian").mkdir()
        res = serve_check(debian, tmp_path / "debian")
        assert "IPC$" in res.stdout, res.stdout + res.stderr
