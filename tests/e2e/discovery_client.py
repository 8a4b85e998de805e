"""Client side of tests/e2e/test_discovery.py, run inside the client network namespace.

  browse ADDR SECONDS TYPE...   python-zeroconf on the interface with ADDR: JSON {type: [{name, port, addresses, txt}]}
  watch ADDR SECONDS TYPE       prints "found NAME" when TYPE appears and "removed NAME" when it is withdrawn
  hostile SERVER_ADDR UUID      garbage, oversized and billion-laughs datagrams to mDNS (5353) and WS-Discovery
                                (3702, unicast and multicast) and hostile HTTP requests to 5357; JSON of HTTP answers
"""

import json
import socket
import sys
import time

from zeroconf import IPVersion, ServiceBrowser, Zeroconf


def browse(addr, seconds, types):
    zc = Zeroconf(interfaces=[addr], ip_version=IPVersion.V4Only)
    found = {}

    class Listener:
        def add_service(self, zc, type_, name):
            found.setdefault(type_, set()).add(name)

        def update_service(self, zc, type_, name):
            self.add_service(zc, type_, name)

        def remove_service(self, zc, type_, name):
            pass

    browsers = [ServiceBrowser(zc, t, Listener()) for t in types]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not all(t in found for t in types):
        time.sleep(0.2)
    out = {}
    for type_, names in found.items():
        for name in sorted(names):
            info = zc.get_service_info(type_, name, timeout=3000)
            if info is None:
                continue
            txt = {k.decode(): (v.decode() if v is not None else None) for k, v in info.properties.items()}
            out.setdefault(type_, []).append(
                {"name": name, "port": info.port, "addresses": info.parsed_addresses(), "txt": txt})
    for b in browsers:
        b.cancel()
    zc.close()
    print(json.dumps(out))


def watch(addr, seconds, type_):
    zc = Zeroconf(interfaces=[addr], ip_version=IPVersion.V4Only)
    done = []

    class Listener:
        def add_service(self, zc, type_, name):
            print("found", name, flush=True)

        def update_service(self, zc, type_, name):
            pass

        def remove_service(self, zc, type_, name):
            print("removed", name, flush=True)
            done.append(name)

    browser = ServiceBrowser(zc, type_, Listener())
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not done:
        time.sleep(0.1)
    browser.cancel()
    zc.close()


def billion_laughs():
    ents = ['<!ENTITY lol "lol">'] + [
        f'<!ENTITY lol{i} "{("&lol%s;" % (i - 1 if i > 1 else "")) * 10}">' for i in range(1, 10)]
    return ('<?xml version="1.0"?><!DOCTYPE lolz [' + "".join(ents) + ']>'
            '<Envelope><Header><Action>&lol9;</Action></Header></Envelope>').encode()


def http(server, payload, timeout=8):
    """Sends payload to server:5357 and returns the status line, or what happened."""
    try:
        with socket.create_connection((server, 5357), timeout=timeout) as s:
            try:
                s.sendall(payload)
            except OSError as e:
                return f"error: send failed, {e.__class__.__name__}"
            data = s.recv(4096)
            return data.split(b"\r\n", 1)[0].decode(errors="replace") or "closed"
    except OSError as e:
        return f"error: {e.__class__.__name__}"


def hostile(server, endpoint):
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
    payloads = [b"", b"\x00" * 12, b"\xff" * 512, bytes(range(256)) * 40, b"<" * 9000, billion_laughs(),
                b"<a>" * 5000, b"\x00\x00\x84\x00\x00\x01\x00\x01\x00\x00\x00\x00" + b"\xc0\x0c" * 200]
    for p in payloads:
        for dest in [(server, 5353), ("224.0.0.251", 5353), (server, 3702), ("239.255.255.250", 3702)]:
            try:
                udp.sendto(p, dest)
            except OSError:
                pass
    try:
        udp.sendto(b"x" * 65000, (server, 3702))
    except OSError:
        pass
    answers = {
        "garbage": http(server, b"\x16\x03\x01garbage\r\n\r\n"),
        "get": http(server, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
        "huge_length": http(server, b"POST /x HTTP/1.1\r\nContent-Length: 100000000\r\n\r\n"),
        "huge_head": http(server, b"POST /x HTTP/1.1\r\nX: " + b"a" * 20000),
        "laughs": http(server, f"POST /{endpoint} HTTP/1.1".encode() + b"\r\nContent-Length: %d\r\n\r\n" % len(billion_laughs())
                       + billion_laughs()),
    }
    # 16 metadata connections at once: one more is closed at once, and a slot frees when a client leaves.
    idle = [socket.create_connection((server, 5357), timeout=5) for _ in range(16)]
    time.sleep(0.5)
    t = time.monotonic()
    answers["seventeenth"] = http(server, b"GET / HTTP/1.1\r\n\r\n")
    answers["seventeenth_seconds"] = round(time.monotonic() - t)
    for s in idle:
        s.close()
    time.sleep(0.5)
    answers["after"] = http(server, b"GET / HTTP/1.1\r\n\r\n")
    # A client that sends nothing is dropped after the server's timeout.
    t = time.monotonic()
    answers["silent"] = http(server, b"", timeout=15)
    answers["silent_seconds"] = round(time.monotonic() - t)
    print(json.dumps(answers))


if __name__ == "__main__":
    if sys.argv[1] == "browse":
        browse(sys.argv[2], float(sys.argv[3]), sys.argv[4:])
    elif sys.argv[1] == "watch":
        watch(sys.argv[2], float(sys.argv[3]), sys.argv[4])
    elif sys.argv[1] == "hostile":
        hostile(sys.argv[2], sys.argv[3])
