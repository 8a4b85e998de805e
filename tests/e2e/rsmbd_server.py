"""Start and stop a throw-away rsmbd for tests.

Used by the pytest fixtures (conftest.py) and by the smbtorture runner (tests/torture/run.py). A server gets a
temporary directory holding its share, smb.conf, smbpasswd and log, listens on a free ephemeral port on
127.0.0.1 only, and has one user added through `rsmbd user add` with the password on standard input.
"""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SHARE = "data"
USER = "tester"
PASSWORD = "Sup3r-Secret.pw"
START_TIMEOUT = 20.0
STOP_TIMEOUT = 5.0


def rsmbd_binary():
    """The binary the README builds: $RSMBD_BIN, else target/debug/rsmbd in the repository."""
    env = os.environ.get("RSMBD_BIN")
    path = Path(env) if env else REPO / "target" / "debug" / "rsmbd"
    if not path.is_file():
        raise RuntimeError(f"rsmbd binary not found at {path}; run `cargo build` first")
    return path


def free_port():
    """A port the kernel just handed out for 127.0.0.1 (bind port 0, read it, close)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, proc, timeout, host="127.0.0.1"):
    """True once host:port accepts TCP; False on timeout or if the process died first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.1)
    return False


class RsmbdServer:
    """One rsmbd process serving `[data]` from a fresh temporary directory."""

    def __init__(self, extra_global="", extra_share="", tmp_root=None, user=USER, host="127.0.0.1", port=None,
                 extra_shares=None):
        """`host` and `port` pin the address (clients such as smbcacls 4.17 dial only port 445, so their tests
        use 445 on a loopback address of their own); by default a free port on 127.0.0.1. `extra_shares` maps
        further share names to their extra lines; each serves an empty directory of its own."""
        self.tmp = Path(tempfile.mkdtemp(prefix="rsmbd-test-", dir=tmp_root))
        self.share = self.tmp / "share"
        self.share.mkdir()
        self.conf = self.tmp / "smb.conf"
        self.log_path = self.tmp / "server.log"
        self.host = host
        self.port = None
        self._fixed_port = port
        self.user = user
        self.password = PASSWORD
        self.share_name = SHARE
        self.unc = f"//{self.host}/{SHARE}"
        self.proc = None
        self._log = None
        self._extra_global = extra_global
        self._extra_share = extra_share
        self._extra_shares = extra_shares or {}
        for name in self._extra_shares:
            (self.tmp / name).mkdir()

    def _write_conf(self):
        self.conf.write_text(
            "[global]\n"
            f"smb ports = {self.port}\n"
            f"interfaces = {self.host}\n"
            "bind interfaces only = yes\n"
            f"passdb backend = smbpasswd:{self.tmp / 'smbpasswd'}\n"
            f"{self._extra_global}\n"
            f"[{SHARE}]\n"
            f"path = {self.share}\n"
            "read only = no\n"
            f"{self._extra_share}\n"
            + "".join(f"[{name}]\npath = {self.tmp / name}\nread only = no\n{lines}\n"
                      for name, lines in self._extra_shares.items())
        )

    def _add_user(self):
        res = subprocess.run(
            # The explicit uid is the test's own: file access then works on the share this process created,
            # whatever Unix accounts the machine has (one named like the test user would otherwise be used).
            [str(rsmbd_binary()), "user", "add", self.user, "--uid", str(os.getuid()), "--config", str(self.conf)],
            input=self.password + "\n",
            capture_output=True,
            text=True,
            timeout=30,
        )
        if res.returncode != 0:
            raise RuntimeError(f"rsmbd user add failed ({res.returncode}): {res.stderr}")

    def start(self):
        """Write the config, add the user, start the server and wait (bounded) until it accepts TCP.

        A port can be taken between free_port() and the bind, so a failed start is retried on a new port.
        """
        for _ in range(3):
            self.port = self._fixed_port or free_port()
            self._write_conf()
            self._add_user()
            self._log = open(self.log_path, "ab")
            self.proc = subprocess.Popen(
                [str(rsmbd_binary()), "serve", "--config", str(self.conf)],
                stdin=subprocess.DEVNULL,
                stdout=self._log,
                stderr=subprocess.STDOUT,
            )
            if wait_for_port(self.port, self.proc, START_TIMEOUT, self.host):
                return self
            self.stop()
        raise RuntimeError(f"rsmbd did not start listening; log:\n{self.log()}")

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        """SIGTERM, then SIGKILL after STOP_TIMEOUT seconds. Returns the exit code (None if never started)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=STOP_TIMEOUT)
        if self._log is not None:
            self._log.close()
            self._log = None
        return self.proc.returncode

    def log(self):
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        """Stop the server and delete its directory (read log() before leaving the `with` block)."""
        self.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)
