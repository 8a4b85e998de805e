"""Crash and restart: after SIGKILL the daemon starts again at once on the same configuration (no stale
socket, pid or lock file in the way) and serves; SIGTERM stops accepting, lets in-flight requests finish
within the grace period (10 s) and exits with status 0."""

import os
import signal
import subprocess
import threading
import time

from rsmbd_server import RsmbdServer, rsmbd_binary, wait_for_port

GRACE = 10


def ls(srv):
    res = subprocess.run(["smbclient", srv.unc, "-p", str(srv.port), "-U", f"{srv.user}%{srv.password}",
                          "-c", "ls"], capture_output=True, text=True, timeout=60, errors="replace")
    return res.returncode == 0, res.stdout + res.stderr


def test_killed_server_restarts_at_once_on_the_same_configuration(tmp_path_factory):
    with RsmbdServer(tmp_root=tmp_path_factory.getbasetemp()) as srv:
        ok, out = ls(srv)
        assert ok, out
        srv.proc.send_signal(signal.SIGKILL)
        srv.proc.wait(timeout=10)
        started = time.monotonic()
        with open(srv.log_path, "ab") as log:
            srv.proc = subprocess.Popen([str(rsmbd_binary()), "serve", "--config", str(srv.conf)],
                                        stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        assert wait_for_port(srv.port, srv.proc, 5), srv.log()
        ok, out = ls(srv)
        assert ok, out
        assert time.monotonic() - started < 5
        status = subprocess.run([str(rsmbd_binary()), "status", "--config", str(srv.conf)],
                                capture_output=True, text=True, timeout=30)
        assert status.returncode == 0, status.stderr


def test_sigterm_with_a_transfer_in_flight_exits_cleanly_within_the_grace_period(tmp_path_factory):
    base = tmp_path_factory.getbasetemp()
    big = base / "big.bin"
    with open(big, "wb") as f:
        f.truncate(512 << 20)
    with RsmbdServer(tmp_root=base) as srv:
        put = subprocess.Popen(["smbclient", srv.unc, "-p", str(srv.port), "-U", f"{srv.user}%{srv.password}",
                                "-c", f"put {big} big.bin"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while not (srv.share / "big.bin").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)
        srv.proc.send_signal(signal.SIGTERM)
        stopped = time.monotonic()
        code = srv.proc.wait(timeout=GRACE + 10)
        took = time.monotonic() - stopped
        put.wait(timeout=60)
        assert code == 0, srv.log()
        assert took < GRACE + 2, f"exited {took:.1f}s after SIGTERM"
        assert "connections finish their requests" in srv.log(), "the transfer was in flight"
        assert "stopped" in srv.log()
        assert not (srv.tmp / "rsmbd.sock").exists(), "the control socket is removed"
