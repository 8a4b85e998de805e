"""`rsmbd status` and `rsmbd reload` (and SIGHUP) against a live daemon through its control socket, and
`rsmbd user del` taking effect at the next logon."""

import os
import signal
import subprocess
import time

from rsmbd_server import RsmbdServer, rsmbd_binary


def rsmbd(*args, stdin=None):
    return subprocess.run([str(rsmbd_binary()), *args], input=stdin, capture_output=True, text=True, timeout=30)


def smbclient(srv, commands):
    cmd = ["smbclient", srv.unc, "-p", str(srv.port), "-U", f"{srv.user}%{srv.password}", "-c", commands]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=60, errors="replace")
    return res.returncode, res.stdout + res.stderr


def test_status_shows_a_live_transfer(tmp_path_factory):
    with RsmbdServer(tmp_root=tmp_path_factory.getbasetemp()) as srv:
        big = srv.share / "big.bin"
        with open(big, "wb") as f:
            f.truncate(1 << 30)
        # A slow reader: smbclient copies 1 GiB into a pipe that is drained only after status is taken.
        cmd = ["smbclient", srv.unc, "-p", str(srv.port), "-U", f"{srv.user}%{srv.password}",
               "-m", "SMB3_11", "--client-protection=sign", "-c", "get big.bin -"]
        client = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 20
            out = ""
            while time.monotonic() < deadline:
                res = rsmbd("status", "--config", str(srv.conf))
                assert res.returncode == 0, res.stderr
                out = res.stdout
                if "big.bin" in out:
                    break
                time.sleep(0.2)
            assert "Connections: 1" in out, out
            session = next(line for line in out.splitlines() if " tester " in line)
            assert "127.0.0.1:" in session and "SMB3_11" in session and "required" in session, out
            tree = [line for line in out.splitlines() if " data " in line and "read-write" in line]
            assert tree, out
            opened = next(line for line in out.splitlines() if line.rstrip().endswith("big.bin"))
            assert " data " in opened and " R" in opened, out
        finally:
            client.kill()
            client.wait(timeout=10)


def test_reload_revokes_removed_user_and_applies_new_rules(tmp_path_factory):
    with RsmbdServer(tmp_root=tmp_path_factory.getbasetemp()) as srv:
        assert smbclient(srv, "ls")[0] == 0
        text = srv.conf.read_text()
        srv.conf.write_text(text.replace("read only = no\n", "read only = no\nvalid users = someone-else\n"))
        res = rsmbd("reload", "--config", str(srv.conf))
        assert res.returncode == 0 and "reloaded" in res.stdout, res.stdout + res.stderr
        code, out = smbclient(srv, "ls")
        assert code != 0 and "NT_STATUS_ACCESS_DENIED" in out, out
        # A broken file is refused and the running configuration stays.
        srv.conf.write_text(text + "\nbrowseable = perhaps\n")
        res = rsmbd("reload", "--config", str(srv.conf))
        assert res.returncode != 0 and "invalid boolean" in res.stderr, res.stderr
        assert smbclient(srv, "ls")[0] != 0
        # SIGHUP reloads too: the user is allowed again.
        srv.conf.write_text(text)
        os.kill(srv.proc.pid, signal.SIGHUP)
        deadline = time.monotonic() + 10
        while smbclient(srv, "ls")[0] != 0 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert smbclient(srv, "ls")[0] == 0, srv.log()


def connected_smbclient(srv):
    """An interactive smbclient with a tree connect to the share, seen by `rsmbd status`."""
    cmd = ["smbclient", srv.unc, "-p", str(srv.port), "-U", f"{srv.user}%{srv.password}"]
    client = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True)
    client.stdin.write("ls\n")
    client.stdin.flush()
    deadline = time.monotonic() + 10
    while "Connections: 1" not in rsmbd("status", "--config", str(srv.conf)).stdout:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    return client


def reload_with(srv, old, new):
    srv.conf.write_text(srv.conf.read_text().replace(old, new))
    res = rsmbd("reload", "--config", str(srv.conf))
    assert res.returncode == 0, res.stderr
    return res.stdout


def assert_revoked(srv, client, old, new, command):
    """A reload replacing `old` by `new` revokes the client's tree connect: its next `command` fails."""
    out = reload_with(srv, old, new)
    assert "1 tree connects revoked" in out, out
    out, _ = client.communicate(f"{command}\nquit\n", timeout=30)
    assert "NT_STATUS_NETWORK_NAME_DELETED" in out, out


def test_reload_closes_a_revoked_tree_connect(tmp_path_factory):
    with RsmbdServer(tmp_root=tmp_path_factory.getbasetemp()) as srv:
        client = connected_smbclient(srv)
        try:
            assert_revoked(srv, client, "[data]", "[renamed]", "ls")
        finally:
            client.kill()


def test_reload_revokes_write_access_it_takes_away(tmp_path_factory):
    """A share made read-only by a reload does not stay writable through tree connects made before it; a
    reload that takes nothing away revokes nothing."""
    with RsmbdServer(tmp_root=tmp_path_factory.getbasetemp()) as srv:
        client = connected_smbclient(srv)
        try:
            out = reload_with(srv, "read only = no\n", "read only = no\ncomment = renamed\n")
            assert "0 tree connects revoked" in out, out
            assert_revoked(srv, client, "read only = no\n", "read only = yes\n", "mkdir made-after")
        finally:
            client.kill()
        code, out = smbclient(srv, "mkdir made-later")
        assert "NT_STATUS_ACCESS_DENIED" in out, out
        assert not (srv.share / "made-after").exists() and not (srv.share / "made-later").exists()


def test_status_needs_a_running_daemon_and_user_del_blocks_logon(tmp_path_factory):
    with RsmbdServer(tmp_root=tmp_path_factory.getbasetemp()) as srv:
        assert rsmbd("user", "del", srv.user, "--config", str(srv.conf)).returncode == 0
        code, out = smbclient(srv, "ls")
        assert code != 0 and "NT_STATUS_LOGON_FAILURE" in out, out
        assert srv.stop() == 0
        res = rsmbd("status", "--config", str(srv.conf))
        assert res.returncode != 0 and "cannot reach the daemon" in res.stderr, res.stderr
