"""A private MIT Kerberos KDC for the tests: realm RSMBD.TEST on a free loopback port, its database, keytab and
credential caches in a temporary directory, nothing read from or written to the machine's Kerberos setup."""

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

REALM = "RSMBD.TEST"
SBIN = Path("/usr/sbin")


def _tool(name):
    path = shutil.which(name) or str(SBIN / name)
    if not Path(path).exists():
        raise RuntimeError(f"{name} not found: install krb5-kdc krb5-admin-server krb5-user")
    return path


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Kdc:
    """Start with `with Kdc() as kdc:`; `kdc.env` is the environment for Kerberos clients."""

    def __init__(self):
        self.dir = Path(tempfile.mkdtemp(prefix="rsmbd-kdc-"))
        self.port = _free_port()
        self.keytab = self.dir / "rsmbd.keytab"
        self.proc = None
        self.env = {
            **os.environ,
            "KRB5_CONFIG": str(self.dir / "krb5.conf"),
            "KRB5_KDC_PROFILE": str(self.dir / "kdc.conf"),
            "KRB5CCNAME": f"FILE:{self.dir / 'ccache'}",
        }

    def _run(self, *args, stdin=None):
        res = subprocess.run(args, input=stdin, capture_output=True, text=True, timeout=60, env=self.env)
        if res.returncode != 0:
            raise RuntimeError(f"{args}: {res.stderr}")
        return res.stdout

    def start(self):
        (self.dir / "krb5.conf").write_text(
            "[libdefaults]\n"
            f" default_realm = {REALM}\n"
            " dns_lookup_kdc = false\n dns_lookup_realm = false\n rdns = false\n"
            " dns_canonicalize_hostname = false\n"
            f"[realms]\n {REALM} = {{\n  kdc = 127.0.0.1:{self.port}\n }}\n")
        (self.dir / "kdc.conf").write_text(
            f"[kdcdefaults]\n kdc_ports = {self.port}\n kdc_tcp_ports = {self.port}\n"
            f"[realms]\n {REALM} = {{\n  database_name = {self.dir / 'principal'}\n"
            f"  key_stash_file = {self.dir / 'stash'}\n  acl_file = {self.dir / 'kadm5.acl'}\n"
            "  supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal\n }\n"
            f"[logging]\n kdc = FILE:{self.dir / 'kdc.log'}\n")
        self._run(_tool("kdb5_util"), "create", "-s", "-r", REALM, "-P", "master-Pw1")
        self.proc = subprocess.Popen([_tool("krb5kdc"), "-n", "-P", str(self.dir / "kdc.pid")], env=self.env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return self
            time.sleep(0.1)
        raise RuntimeError("the KDC did not start")

    def add_user(self, name, password):
        self._run(_tool("kadmin.local"), "-q", f"addprinc -pw {password} {name}")

    def add_service(self, principal, keytab=None):
        """A service principal with a random key, exported to `keytab` (default: self.keytab)."""
        self._run(_tool("kadmin.local"), "-q", f"addprinc -randkey {principal}")
        self._run(_tool("kadmin.local"), "-q", f"ktadd -k {keytab or self.keytab} {principal}")

    def add_service_key(self, principal, keytab):
        """A new random key (the next key version) for `principal`, exported to `keytab`."""
        self._run(_tool("kadmin.local"), "-q", f"ktadd -k {keytab} {principal}")

    @staticmethod
    def tool(name):
        return _tool(name)

    def kinit(self, name, password, ccache, lifetime=None):
        """A TGT for `name` in `ccache` (lifetime: kinit's -l, e.g. "20s")."""
        env = {**self.env, "KRB5CCNAME": f"FILE:{ccache}"}
        life = ["-l", lifetime] if lifetime else []
        res = subprocess.run([_tool("kinit"), *life, name], input=password + "\n", capture_output=True,
                             text=True, timeout=60, env=env)
        if res.returncode != 0:
            raise RuntimeError(f"kinit {name}: {res.stderr}")
        return f"FILE:{ccache}"

    def stop(self):
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
