"""Multichannel: FSCTL_QUERY_NETWORK_INTERFACE_INFO (MS-SMB2 3.3.5.15.11) lists the server's real interfaces,
only the addresses it listens on, loopback ones only to a client that came over loopback.

The wildcard case runs in a network namespace of its own (a veth pair with link-local addresses), so the server
never listens on the machine's real addresses.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from interfaces_query import query

HERE = Path(__file__).resolve().parent


def ipv6_loopback_available():
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


@pytest.mark.skipif(not ipv6_loopback_available(), reason="this machine has no IPv6 loopback")
@pytest.mark.rsmbd_conf(extra_global="interfaces = 127.0.0.1 ::1")
def test_bound_addresses_are_listed_on_the_loopback_interface(server):
    infos = query(server.host, server.port, server.user, server.password, server.share_name)
    lo = socket.if_nametoindex("lo")
    assert sorted((i["index"], i["ip"]) for i in infos) == [(lo, "127.0.0.1"), (lo, "::1")]
    assert all(i["speed"] > 0 for i in infos)


def run(*args):
    return subprocess.run(args, capture_output=True, text=True, timeout=60)


@pytest.fixture
def netns():
    """A fresh network namespace with loopback and a veth pair (169.254.77.1/16 on v0)."""
    if os.geteuid() != 0 or shutil.which("ip") is None:
        pytest.skip("needs root and iproute2 to create a network namespace")
    name = f"rsmbd-if-{uuid.uuid4().hex[:8]}"
    if run("ip", "netns", "add", name).returncode != 0:
        pytest.skip("network namespaces are not available here")
    try:
        for cmd in (["ip", "link", "set", "lo", "up"],
                    ["ip", "link", "add", "v0", "type", "veth", "peer", "name", "v1"],
                    ["ip", "addr", "add", "169.254.77.1/16", "dev", "v0"],
                    ["ip", "link", "set", "v0", "up"],
                    ["ip", "link", "set", "v1", "up"]):
            res = run("ip", "netns", "exec", name, *cmd)
            assert res.returncode == 0, f"{cmd}: {res.stderr}"
        yield name
    finally:
        run("ip", "netns", "delete", name)


def test_wildcard_listener_lists_every_served_address(netns):
    res = subprocess.run(["ip", "netns", "exec", netns, sys.executable, str(HERE / "interfaces_query.py")],
                         capture_output=True, text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(HERE)})
    assert res.returncode == 0, res.stderr
    infos = json.loads(res.stdout.strip().splitlines()[-1])
    links = json.loads(run("ip", "-n", netns, "-j", "link", "show").stdout)
    index = {link["ifname"]: link["ifindex"] for link in links}
    got = {(i["index"], i["ip"]) for i in infos}
    assert (index["v0"], "169.254.77.1") in got
    assert (index["lo"], "127.0.0.1") in got  # the client came over loopback
    # v1 has only an IPv6 link-local address, which needs a zone and is not listed.
    assert not any(i["index"] == index["v1"] for i in infos)
    assert not any(i["ip"].startswith("fe80:") for i in infos)
    veth_speed = 10_000_000_000  # veth devices report 10000 Mb/s
    assert [i["speed"] for i in infos if i["index"] == index["v0"]] == [veth_speed]
