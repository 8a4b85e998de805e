"""A private Samba smbd for interoperability tests: loopback only, every directory in a temporary one, one
smbpasswd user (the test's own Unix account), one share [data]. Tests that need it are skipped when the
`smbd` binary (Debian package samba) is missing."""

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import time

import pytest

SMBD = shutil.which("smbd") or "/usr/sbin/smbd"
SAMBA_PASSWORD = "Samba-Pw.123"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def private_smbd(tmp_path, extra_share=""):
    """Runs smbd serving `tmp_path/share` as [data] (plus `extra_share` lines) on a free 127.0.0.1 port;
    yields (port, share path, user) and stops it afterwards."""
    if not os.path.exists(SMBD):
        pytest.skip("smbd (Debian package samba) is not installed")
    d = tmp_path / "samba"
    for sub in ("lock", "state", "cache", "private", "pid", "ncalrpc", "binddns"):
        (d / sub).mkdir(parents=True)
    share = tmp_path / "share"
    share.mkdir()
    share.chmod(0o777)
    port, user = free_port(), pwd.getpwuid(os.getuid()).pw_name
    conf = d / "smb.conf"
    dirs = "".join(f"{param} = {d / sub}\n" for param, sub in (
        ("lock directory", "lock"), ("state directory", "state"), ("cache directory", "cache"),
        ("pid directory", "pid"), ("ncalrpc dir", "ncalrpc"), ("binddns dir", "binddns"), ("private dir", "private")))
    conf.write_text(
        "[global]\nserver role = standalone server\n"
        f"smb ports = {port}\ninterfaces = 127.0.0.1\nbind interfaces only = yes\ndisable netbios = yes\n"
        f"{dirs}log file = {d / 'log.%m'}\n"
        f"passdb backend = smbpasswd:{d / 'private' / 'smbpasswd'}\n"
        "load printers = no\nprintcap name = /dev/null\ndisable spoolss = yes\nusershare path =\n"
        f"[data]\npath = {share}\nread only = no\n{extra_share}\n")
    subprocess.run(["smbpasswd", "-c", str(conf), "-a", "-s", user],
                   input=f"{SAMBA_PASSWORD}\n{SAMBA_PASSWORD}\n", text=True, check=True, capture_output=True)
    proc = subprocess.Popen([SMBD, "-F", "--no-process-group", "-s", str(conf)], stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, "private smbd did not start"
                time.sleep(0.2)
        yield port, share, user
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=10)


def copy_with_xattrs(src, dst_dir):
    """Copy one file into `dst_dir` with its extended attributes (DOS attributes, streams, EAs, ACLs, Finder
    metadata), as an administrator moving a share from one server to the other does."""
    subprocess.run(["cp", "-a", "--preserve=xattr", str(src), str(dst_dir)], check=True)
