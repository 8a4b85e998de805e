"""Durable handles over raw SMB2 through a TCP relay that can cut the line: a client holding a durable v2 open
with a read-handle lease and a byte-range lock loses its connection (both directions reset, as when a Wi-Fi link
drops), reconnects and reclaims the open with its lock; another user's reclaim is refused and leaves the open
for its owner; after the open's timeout nothing is left: the reclaim finds nothing and the file is free."""

import os
import socket
import struct
import subprocess
import threading
import time

import smb2raw as s
from rsmbd_server import rsmbd_binary

LEASE, BATCH = 0xFF, 9
R, H = 1, 2
LOCK_EXCLUSIVE, LOCK_UNLOCK, LOCK_FAIL_IMMEDIATELY = 0x2, 0x4, 0x10
GUID_A = b"durable-client-a"


class Relay:
    """A TCP relay on 127.0.0.1 between one client and the server; `cut()` resets both sides."""

    def __init__(self, server):
        self.upstream = (server.host, server.port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.sockets = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        self.listener.settimeout(10)
        client, _ = self.listener.accept()
        server = socket.create_connection(self.upstream, timeout=10)
        self.sockets = [client, server]
        for a, b in [(client, server), (server, client)]:
            threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(src, dst):
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass

    def cut(self):
        for sock in self.sockets:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            # shutdown() wakes the relay threads blocked on the socket, so close() really lets it go.
            sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        self.listener.close()


def connect(server, port=None, user=None, password=None, guid=GUID_A):
    c = s.Client(server.host, port or server.port)
    assert c.negotiate(client_guid=guid).status == s.SUCCESS
    r = c.login(user or server.user, password or server.password)
    assert r.status == s.SUCCESS, hex(r.status)
    assert c.tree_connect(f"\\\\{server.host}\\{server.share_name}").status == s.SUCCESS
    return c


def chain(*contexts):
    """Create contexts one after the other, each but the last padded to 8 bytes and pointing at the next."""
    out = b""
    for c in contexts[:-1]:
        c += b"\0" * (-len(c) % 8)
        out += struct.pack("<I", len(c)) + c[4:]
    return out + contexts[-1]


def lease(key):
    """A version 1 RqLs context asking for RH: other readers do not break it."""
    return s.create_context(b"RqLs", key + struct.pack("<IIQ", R | H, 0, 0))


def dh2q(create_guid, timeout_ms=0, with_lease=True):
    durable = s.create_context(b"DH2Q", struct.pack("<II8s16s", timeout_ms, 0, bytes(8), create_guid))
    return chain(durable, lease(create_guid)) if with_lease else durable


def dh2c(fid, create_guid, lease_key=None, with_lease=True):
    durable = s.create_context(b"DH2C", struct.pack("<16s16sI", fid, create_guid, 0))
    return chain(durable, lease(lease_key or create_guid)) if with_lease else durable


def lock(c, fid, flags, offset=0, length=10):
    return c.call(s.LOCK, s.lock_body(fid, [(offset, length, flags)]))


def durable_open_with_lock(server, name, create_guid, timeout_ms=0, with_lease=True):
    """Through a relay: a durable v2 open with an RH lease (keyed by its CreateGuid), or else a batch
    oplock, and bytes 0-9 locked. Returns (relay, fid)."""
    relay = Relay(server)
    c = connect(server, relay.port)
    caching = LEASE if with_lease else BATCH
    r, fid = c.create(name, oplock=caching, contexts=dh2q(create_guid, timeout_ms, with_lease))
    assert r.status == s.SUCCESS and r.body[2] == caching
    assert b"DH2Q" in r.pdu, "the durable v2 response context"
    assert lock(c, fid, LOCK_EXCLUSIVE | LOCK_FAIL_IMMEDIATELY).status == s.SUCCESS
    return relay, fid


def locked_by_someone(server, name):
    with connect(server, guid=b"durable-probe---") as other:
        r, fid = other.create(name, access=s.GENERIC_READ, disposition=s.FILE_OPEN)
        assert r.status == s.SUCCESS, hex(r.status)
        status = lock(other, fid, LOCK_EXCLUSIVE | LOCK_FAIL_IMMEDIATELY).status
        other.close_file(fid)
        return status == s.LOCK_NOT_GRANTED


def test_a_cut_connection_is_reclaimed_with_its_lock(server):
    relay, fid = durable_open_with_lock(server, "durable.bin", b"G" * 16)
    relay.cut()
    time.sleep(0.3)
    with connect(server) as c:
        r, again = c.create("durable.bin", contexts=dh2c(fid, b"G" * 16))
        assert r.status == s.SUCCESS, hex(r.status)
        assert again == fid and r.body[2] == LEASE
        assert struct.unpack_from("<I", r.body, 4)[0] == 1  # FILE_OPENED
        assert locked_by_someone(server, "durable.bin"), "the lock came back with the open"
        assert lock(c, fid, LOCK_UNLOCK).status == s.SUCCESS
        assert not locked_by_someone(server, "durable.bin")


def test_another_user_cannot_reclaim_and_the_owner_still_can(server):
    password = "Intruder-Pw1!"
    res = subprocess.run([str(rsmbd_binary()), "user", "add", "intruder", "--uid", str(os.getuid()),
                          "--config", str(server.conf)],
                         input=password + "\n", capture_output=True, text=True, timeout=30)
    assert res.returncode == 0, res.stderr
    relay, fid = durable_open_with_lock(server, "owned.bin", b"O" * 16)
    relay.cut()
    time.sleep(0.3)
    with connect(server, user="intruder", password=password) as intruder:
        r, _ = intruder.create("owned.bin", contexts=dh2c(fid, b"O" * 16))
        assert r.status == s.ACCESS_DENIED, hex(r.status)
    with connect(server) as c:
        # A wrong CreateGuid or lease key finds nothing, and leaves the open alone too.
        r, _ = c.create("owned.bin", contexts=dh2c(fid, b"X" * 16, lease_key=b"O" * 16))
        assert r.status == s.OBJECT_NAME_NOT_FOUND, hex(r.status)
        r, _ = c.create("owned.bin", contexts=dh2c(fid, b"O" * 16, lease_key=b"X" * 16))
        assert r.status == s.OBJECT_NAME_NOT_FOUND, hex(r.status)
        r, again = c.create("owned.bin", contexts=dh2c(fid, b"O" * 16))
        assert r.status == s.SUCCESS and again == fid, hex(r.status)


def test_after_the_timeout_the_open_is_gone_and_the_file_free(server):
    relay, fid = durable_open_with_lock(server, "expires.bin", b"T" * 16, timeout_ms=1000)
    relay.cut()
    time.sleep(0.3)
    assert locked_by_someone(server, "expires.bin"), "kept while disconnected"
    time.sleep(2)
    with connect(server) as c:
        r, _ = c.create("expires.bin", contexts=dh2c(fid, b"T" * 16))
        assert r.status == s.OBJECT_NAME_NOT_FOUND, hex(r.status)
        r = c.call(s.CREATE, s.create_body("expires.bin", disposition=s.FILE_OPEN, share=0))
        assert r.status == s.SUCCESS, hex(r.status)
        c.close_file(r.body[64:80])
    assert not locked_by_someone(server, "expires.bin")
    assert os.path.exists(server.share / "expires.bin")


def test_a_reclaim_racing_the_timeout_and_a_conflicting_open_has_one_winner(server):
    """The use-after-free class of CVE-2026-31718: a disconnected durable open whose timeout fires while
    several connections try to reclaim it at once and another client opens the file without sharing.
    Whatever the order, at most one reclaim succeeds while the others are still connected, every other
    attempt gets a clean status, and the server goes on serving."""
    for round_ in range(5):
        name, guid = f"race{round_}.bin", bytes([0x40 + round_]) * 16
        # A batch oplock: its break goes to the holder's connection only, which has read its answer.
        relay, fid = durable_open_with_lock(server, name, guid, timeout_ms=400, with_lease=False)
        relay.cut()
        time.sleep(0.35)
        results = []
        # Every reclaimer stays connected until all have tried: a reclaimer that disconnected would
        # leave the open disconnected, and so reclaimable, again.
        done = threading.Barrier(3, timeout=20)

        def reclaim():
            with connect(server) as c:
                results.append(c.create(name, contexts=dh2c(fid, guid, with_lease=False))[0].status)
                done.wait()

        def conflicting_open():
            with connect(server, guid=b"durable-rival---") as c:
                r = c.call(s.CREATE, s.create_body(name, disposition=s.FILE_OPEN, share=0))
                results.append(("rival", r.status))

        threads = [threading.Thread(target=reclaim) for _ in range(3)]
        threads.append(threading.Thread(target=conflicting_open))
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=20)
        reclaims = [r for r in results if not isinstance(r, tuple)]
        assert len(results) == 4, results
        assert reclaims.count(s.SUCCESS) <= 1, results
        assert set(reclaims) <= {s.SUCCESS, s.OBJECT_NAME_NOT_FOUND}, [hex(r) for r in reclaims]
        assert [r for r in results if isinstance(r, tuple)][0][1] in (s.SUCCESS, s.SHARING_VIOLATION)
    s.still_serving(server)


APP_INSTANCE_ID = bytes.fromhex("45BCA66AEFA7F74A9008FA462E144D74")


def app_instance(guid):
    return s.create_context(APP_INSTANCE_ID, struct.pack("<HH16s", 20, 0, guid))


def test_same_application_instance_from_another_client_closes_the_earlier_open(server):
    """MS-SMB2 3.3.5.9.13: a cluster node reopening a file with the AppInstanceId of an open another client
    (ClientGuid) still holds gets the file; the earlier handle is closed, with no oplock break sent to it."""
    with connect(server, guid=b"cluster-node-one") as one, connect(server, guid=b"cluster-node-two") as two:
        r, first = one.create("vm.vhdx", oplock=BATCH, share=0,
                              contexts=chain(dh2q(b"A" * 16, with_lease=False), app_instance(b"I" * 16)))
        assert r.status == s.SUCCESS and r.body[2] == BATCH, hex(r.status)
        # No break goes to the first node: a break would hold this CREATE until the socket times out.
        r, second = two.create("vm.vhdx", oplock=BATCH, share=0,
                               contexts=chain(dh2q(b"C" * 16, with_lease=False), app_instance(b"I" * 16)))
        assert r.status == s.SUCCESS and r.body[2] == BATCH, hex(r.status)
        assert one.close_file(first).status == s.FILE_CLOSED
        assert two.close_file(second).status == s.SUCCESS
