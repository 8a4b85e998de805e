"""The tests do not depend on the machine's Unix accounts: a machine with an account named like the test user
(say `tester`) once made every test fail with ACCESS_DENIED, because `rsmbd user add` mapped the SMB user to that
account and the share is a 0700 directory of the test process. The harness now adds its users with
`--uid` (the test's own uid); this test creates such a same-named account and shows both behaviours.
"""

import os
import shutil
import subprocess
import uuid

import pytest

from rsmbd_server import RsmbdServer, rsmbd_binary


@pytest.fixture
def unix_account():
    """A fresh Unix account (removed afterwards); its name and uid."""
    if os.geteuid() != 0 or shutil.which("useradd") is None:
        pytest.skip("needs root and useradd to create a Unix account")
    name = f"rsmbdt{uuid.uuid4().hex[:8]}"
    res = subprocess.run(["useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
                         capture_output=True, text=True, timeout=30)
    assert res.returncode == 0, res.stderr
    try:
        uid = int(subprocess.run(["id", "-u", name], capture_output=True, text=True, timeout=10).stdout)
        yield name, uid
    finally:
        subprocess.run(["userdel", name], capture_output=True, timeout=30)


def listed_uid(conf, name):
    out = subprocess.run([str(rsmbd_binary()), "user", "list", "--config", str(conf)],
                         capture_output=True, text=True, timeout=30).stdout
    return {line.split("\t")[0]: int(line.split("\t")[1]) for line in out.splitlines()}[name]


def test_a_same_named_unix_account_does_not_take_over_the_test_user(unix_account, tmp_path):
    name, account_uid = unix_account
    assert account_uid != os.getuid()
    with RsmbdServer(user=name, tmp_root=tmp_path) as srv:
        assert listed_uid(srv.conf, name) == os.getuid()
        (tmp_path / "hello.txt").write_text("hello\n")
        res = subprocess.run(["smbclient", srv.unc, "-p", str(srv.port), "-U", f"{name}%{srv.password}",
                              "-c", f"put {tmp_path / 'hello.txt'} hello.txt; ls"],
                             capture_output=True, text=True, timeout=60)
        assert res.returncode == 0, res.stdout + res.stderr
        assert (srv.share / "hello.txt").read_text() == "hello\n"
        # Without --uid the same-named account is who the user is (what a real installation wants).
        other = subprocess.run([str(rsmbd_binary()), "user", "add", name, "--uid", str(account_uid),
                                "--config", str(srv.conf)], input="Other-Pw1!\n", capture_output=True,
                               text=True, timeout=30)
        assert other.returncode == 0, other.stderr
        assert listed_uid(srv.conf, name) == account_uid
        conf2 = tmp_path / "plain.conf"
        conf2.write_text(f"[global]\npassdb backend = smbpasswd:{tmp_path / 'plain.smbpasswd'}\n")
        plain = subprocess.run([str(rsmbd_binary()), "user", "add", name, "--config", str(conf2)],
                               input="Plain-Pw1!\n", capture_output=True, text=True, timeout=30)
        assert plain.returncode == 0, plain.stderr
        assert listed_uid(conf2, name) == account_uid
