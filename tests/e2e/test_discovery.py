"""Network discovery on a two-host test LAN: mDNS-SD (Bonjour, RFC 6762/6763) and WS-Discovery (wsdd's protocol).

Two network namespaces joined by a veth pair with link-local addresses (nothing leaves them): rsmbd serves in
`server` on 169.254.88.1, and from `client` (169.254.88.2) smbclient lists the shares, python-zeroconf finds
`_smb._tcp` and `_adisk._tcp`, and Debian's wsdd in discovery mode reports the server by its netbios name.
The records are withdrawn and Bye is sent at SIGTERM, the WS-Discovery endpoint stays the same across restarts, a
server listening on every address is also found over IPv6 (ff02::c). With `multicast dns register = no` and
`wsd support = no`, or bound to loopback only, nothing is announced; hostile datagrams and HTTP requests are refused
and bounded, and leave the server answering.
"""

import json
import os
import re
import shutil
import subprocess
import threading
import time
import uuid
from pathlib import Path

import pytest

from rsmbd_server import PASSWORD, START_TIMEOUT, USER, RsmbdServer, rsmbd_binary

HERE = Path(__file__).resolve().parent
SERVER_IP = "169.254.88.1"
CLIENT_IP = "169.254.88.2"
NAME = "RSMBDLAN"
WSDD = "/usr/sbin/wsdd"


def run(*args, timeout=60):
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout)


def missing_tools():
    if os.geteuid() != 0:
        return "needs root to create network namespaces"
    for tool in ("ip", "smbclient"):
        if shutil.which(tool) is None:
            return f"needs {tool}"
    if not Path(WSDD).exists():
        return "needs Debian's wsdd (apt-get install wsdd)"
    if run("/usr/bin/python3", "-c", "import zeroconf").returncode != 0:
        return "needs python3-zeroconf"
    return None


@pytest.fixture(scope="module")
def lan():
    """Namespaces (server, client) joined by a veth pair srv0 -- cli0, multicast on."""
    reason = missing_tools()
    if reason:
        pytest.skip(reason)
    tag = uuid.uuid4().hex[:6]
    server, client = f"rsmbd-ds-{tag}", f"rsmbd-dc-{tag}"
    if run("ip", "netns", "add", server).returncode != 0:
        pytest.skip("network namespaces are not available here")
    run("ip", "netns", "add", client)
    try:
        steps = [
            (server, ["ip", "link", "set", "lo", "up"]),
            (client, ["ip", "link", "set", "lo", "up"]),
            (server, ["ip", "link", "add", "srv0", "type", "veth", "peer", "name", "cli0", "netns", client]),
            (server, ["ip", "addr", "add", f"{SERVER_IP}/16", "dev", "srv0"]),
            (client, ["ip", "addr", "add", f"{CLIENT_IP}/16", "dev", "cli0"]),
        ]
        for ns, dev in ((server, "srv0"), (client, "cli0")):
            steps += [(ns, ["ip", "link", "set", dev, "multicast", "on", "up"]),
                      (ns, ["ip", "route", "add", "224.0.0.0/4", "dev", dev])]
        for ns, cmd in steps:
            res = run("ip", "netns", "exec", ns, *cmd)
            assert res.returncode == 0, f"{cmd}: {res.stderr}"
        for ns, dev in ((server, "srv0"), (client, "cli0")):
            deadline = time.monotonic() + 10
            while "tentative" in run("ip", "-n", ns, "-6", "addr", "show", "dev", dev).stdout:
                assert time.monotonic() < deadline, "IPv6 duplicate address detection did not finish"
                time.sleep(0.2)
        yield server, client
    finally:
        run("ip", "netns", "delete", server)
        run("ip", "netns", "delete", client)


class NsServer(RsmbdServer):
    """rsmbd serving [data] and the Time Machine share [tm] on port 445 of `address` in network namespace `ns`."""

    def __init__(self, ns, address, extra_global=""):
        """`address` None: listen on every address (the IPv6 wildcard)."""
        super().__init__(extra_global=extra_global)
        self.ns, self.host, self.port = ns, address, 445
        (self.tmp / "tm").mkdir()

    def _write_conf(self):
        self.conf.write_text(
            "[global]\n"
            f"netbios name = {NAME}\nworkgroup = TESTLAN\nfruit:model = MacSamba\n"
            + (f"interfaces = {self.host}\nbind interfaces only = yes\n" if self.host else "")
            + f"smb ports = {self.port}\n"
            f"passdb backend = smbpasswd:{self.tmp / 'smbpasswd'}\n{self._extra_global}\n"
            f"[data]\npath = {self.share}\n"
            f"[tm]\npath = {self.tmp / 'tm'}\nread only = no\nfruit:time machine = yes\n")

    def start(self):
        """Starts the server in its namespace and waits (bounded) until it has bound its listeners."""
        self._write_conf()
        self._add_user()
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(["ip", "netns", "exec", self.ns, str(rsmbd_binary()), "serve", "--config",
                                      str(self.conf)], stdin=subprocess.DEVNULL, stdout=self._log,
                                     stderr=subprocess.STDOUT)
        deadline = time.monotonic() + START_TIMEOUT
        while "listening on" not in self.log():
            assert self.alive() and time.monotonic() < deadline, self.log()
            time.sleep(0.1)
        time.sleep(0.5)
        return self


def in_client(lan, *args, timeout=60):
    return run("ip", "netns", "exec", lan[1], *args, timeout=timeout)


def browse(lan, seconds, *types):
    res = in_client(lan, "/usr/bin/python3", str(HERE / "discovery_client.py"), "browse", CLIENT_IP, str(seconds),
                    *types, timeout=seconds + 60)
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout.strip().splitlines()[-1])


class Wsdd:
    """Debian's wsdd in discovery mode (`-D`, no host of its own: `-o`) on cli0 in the client namespace; `-v` logs
    each message it receives and each device it discovers. (Its command socket, `-l`, does not start under
    Debian 12's Python 3.11.)"""

    def __init__(self, lan, family="-4"):
        self.proc = subprocess.Popen(["ip", "netns", "exec", lan[1], "/usr/bin/python3", WSDD, "-D", "-o", family,
                                      "-i", "cli0", "-v"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True)
        self.lines = []
        threading.Thread(target=lambda: self.lines.extend(self.proc.stdout), daemon=True).start()

    def output(self):
        return "".join(self.lines)

    def wait_for(self, text, seconds):
        return self.wait_until(lambda: text in self.output(), seconds)

    def wait_until(self, condition, seconds):
        deadline = time.monotonic() + seconds
        while not condition():
            if time.monotonic() > deadline or self.proc.poll() is not None:
                return False
            time.sleep(0.1)
        return True

    def hello_endpoints(self):
        return re.findall(r"Hello from (urn:uuid:[0-9a-f-]+)", self.output())

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        # `ip netns exec` execs wsdd itself, and in discovery-only mode wsdd has nothing to say goodbye to.
        self.proc.kill()
        self.proc.wait(timeout=10)


def wsdd_discovers(lan, seconds):
    """What wsdd -D logs within `seconds` (less once it has discovered something)."""
    with Wsdd(lan) as wsdd:
        wsdd.wait_for("discovered", seconds)
        return wsdd.output()


SMB, ADISK, DEVICE_INFO = "_smb._tcp.local.", "_adisk._tcp.local.", "_device-info._tcp.local."


def test_announced_to_finder_and_windows(lan):
    with NsServer(lan[0], SERVER_IP) as srv:
        res = in_client(lan, "smbclient", "-L", f"//{SERVER_IP}", "-U", f"{USER}%{PASSWORD}")
        assert res.returncode == 0 and "tm" in res.stdout, res.stdout + res.stderr

        found = browse(lan, 15, SMB, ADISK, DEVICE_INFO)
        assert [(s["name"], s["port"], s["addresses"]) for s in found.get(SMB, [])] == \
            [(f"{NAME}.{SMB}", 445, [SERVER_IP])], (found, srv.log())
        adisk = found[ADISK][0]["txt"]
        assert adisk["sys"] == "waMa=0,adVF=0x100", adisk
        assert adisk["dk0"] == "adVN=tm,adVF=0x82", adisk
        assert "dk1" not in adisk
        assert found[DEVICE_INFO][0]["txt"]["model"] == "MacSamba"

        out = wsdd_discovers(lan, 20)
        assert f"discovered {NAME} in Workgroup:TESTLAN on {SERVER_IP}" in out, out + srv.log()

        # On SIGTERM the records are withdrawn at once (goodbye packets, RFC 6762 section 10.1).
        watcher = subprocess.Popen(["ip", "netns", "exec", lan[1], "/usr/bin/python3", str(HERE / "discovery_client.py"),
                                    "watch", CLIENT_IP, "30", SMB], stdout=subprocess.PIPE, text=True)
        try:
            assert watcher.stdout.readline().startswith("found"), srv.log()
            stopped_at = time.monotonic()
            assert srv.stop() == 0
            assert watcher.stdout.readline().startswith("removed"), srv.log()
            assert time.monotonic() - stopped_at < 10
        finally:
            watcher.kill()
            watcher.wait(timeout=10)
        assert "network discovery is off" not in srv.log()


def test_hostile_input_is_refused_and_bounded(lan):
    with NsServer(lan[0], SERVER_IP) as srv:
        endpoints = re.findall(r"WS-Discovery: announcing \S+ as urn:uuid:([0-9a-f-]+)", srv.log())
        assert endpoints, srv.log()
        res = in_client(lan, "/usr/bin/python3", str(HERE / "discovery_client.py"), "hostile", SERVER_IP,
                        endpoints[0], timeout=120)
        assert res.returncode == 0, res.stderr
        answers = json.loads(res.stdout.strip().splitlines()[-1])
        assert answers["garbage"].startswith("HTTP/1.1 400"), answers
        assert answers["get"].startswith("HTTP/1.1 405"), answers
        assert answers["huge_length"].startswith("HTTP/1.1 413"), answers
        assert answers["huge_head"].startswith("HTTP/1.1 413") or "error" in answers["huge_head"], answers
        assert answers["laughs"].startswith("HTTP/1.1 400"), answers  # refused, not expanded
        assert answers["silent_seconds"] <= 10, answers
        assert answers["seventeenth"] == "closed" or answers["seventeenth"].startswith("error"), answers
        assert answers["seventeenth_seconds"] < 3, answers
        assert answers["after"].startswith("HTTP/1.1 405"), answers
        # Still announcing, still serving.
        assert srv.proc.poll() is None, srv.log()
        found = browse(lan, 15, SMB)
        assert found.get(SMB), srv.log()
        out = wsdd_discovers(lan, 20)
        assert f"discovered {NAME}" in out, out
        res = in_client(lan, "smbclient", "-L", f"//{SERVER_IP}", "-U", f"{USER}%{PASSWORD}")
        assert res.returncode == 0, res.stderr


def test_switched_off_nothing_is_announced(lan):
    with NsServer(lan[0], SERVER_IP, "multicast dns register = no\nwsd support = no") as srv:
        assert browse(lan, 5, SMB, ADISK) == {}
        assert "discovered" not in wsdd_discovers(lan, 6)
        assert in_client(lan, "/usr/bin/python3", "-c",
                         f"import socket; socket.create_connection(('{SERVER_IP}', 5357), timeout=3)").returncode != 0
        assert "network discovery is off" in srv.log()


def test_loopback_only_server_announces_nothing(lan):
    # The server's namespace also has the LAN address, but the server listens on loopback only.
    with NsServer(lan[0], "127.0.0.1") as srv:
        assert browse(lan, 5, SMB) == {}
        assert "discovered" not in wsdd_discovers(lan, 6)
        assert "network discovery is off" in srv.log() and "loopback only" in srv.log()


def test_hello_bye_and_a_stable_endpoint(lan):
    """A wsdd already listening learns of the server from its Hello, hears its Bye at SIGTERM, and sees the same
    endpoint after a restart."""
    with Wsdd(lan) as wsdd:
        assert wsdd.wait_for("joined multicast group", 10), wsdd.output()
        with NsServer(lan[0], SERVER_IP) as srv:
            assert wsdd.wait_for("Hello from urn:uuid:", 10), wsdd.output() + srv.log()
            assert wsdd.wait_for(f"discovered {NAME} in Workgroup:TESTLAN", 10), wsdd.output() + srv.log()
            assert srv.stop() == 0
            assert wsdd.wait_for(f'{SERVER_IP}:3702(cli0) - - "Bye urn:uuid:', 5), wsdd.output()
        with NsServer(lan[0], SERVER_IP):
            assert wsdd.wait_until(lambda: len(wsdd.hello_endpoints()) == 2, 10), wsdd.output()
            first, second = wsdd.hello_endpoints()
            assert first == second


def test_a_server_on_every_address_is_found_over_ipv4_and_ipv6(lan):
    """Listening on the IPv6 wildcard, the server also accepts link-local IPv6 connections, so WS-Discovery runs
    on ff02::c too; loopback is still never announced."""
    with NsServer(lan[0], None) as srv:
        with Wsdd(lan, "-6") as wsdd:
            assert wsdd.wait_for(f"discovered {NAME} in Workgroup:TESTLAN on [fe80:", 20), wsdd.output() + srv.log()
        assert f"discovered {NAME} in Workgroup:TESTLAN on {SERVER_IP}" in wsdd_discovers(lan, 20)
        found = browse(lan, 15, SMB)
        assert [(s["port"], s["addresses"]) for s in found.get(SMB, [])] == [(445, [SERVER_IP])], found
