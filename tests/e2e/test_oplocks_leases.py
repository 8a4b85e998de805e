"""Oplocks and leases over raw SMB2, two connections acting as two clients with their own ClientGuid: a batch
oplock broken to level II by a second open (interim response, break notification, acknowledgment, then the
second CREATE completes), a break nobody acknowledges (the CREATE goes on at `oplock break timeout`, the late
acknowledgment is refused), a lease break with ACK_REQUIRED, what `rsmbd status` shows, `oplocks = no`, and
hostile acknowledgments: for breaks never sent, at wrong levels, for unknown lease keys, and a flood of them."""

import struct
import subprocess
import time

import pytest

import smb2raw as s
from rsmbd_server import rsmbd_binary

OPLOCK_BREAK = 18
NONE, LEVEL_II, BATCH, LEASE = 0, 1, 9, 0xFF
R, H, W = 1, 2, 4
ACK_REQUIRED = 1
UNSOLICITED = 0xFFFFFFFFFFFFFFFF
FILE_DIRECTORY_FILE = 0x1


def client(server, name):
    return s.logged_on(server, client_guid=name.ljust(16, "-").encode()[:16])


def lease_context(key, state):
    """A version 1 RqLs context (MS-SMB2 2.2.13.2.8)."""
    return s.create_context(b"RqLs", key + struct.pack("<IIQ", state, 0, 0))


def lease_v2_context(key, state, epoch=0):
    """A version 2 RqLs context (MS-SMB2 2.2.13.2.10), without a parent lease key."""
    return s.create_context(b"RqLs", key + struct.pack("<IIQ16sHH", state, 0, 0, bytes(16), epoch, 0))


def create_async(c, name, **kw):
    """Send a CREATE and return its interim response (the CREATE waits on a break)."""
    c.send(c.pdu(s.CREATE, s.create_body(name, **kw)))
    interim = c.recv(skip_pending=False)[0]
    assert interim.status == s.PENDING and interim.flags & s.FLAG_ASYNC, hex(interim.status)
    return interim


def notification(c):
    """The next message, which must be a break notification."""
    r = c.recv()[0]
    assert (r.command, r.message_id, r.session_id) == (OPLOCK_BREAK, UNSOLICITED, 0), r
    return r


def oplock_ack(c, fid, level):
    return c.call(OPLOCK_BREAK, struct.pack("<HBBI16s", 24, level, 0, 0, fid))


def lease_ack(c, key, state):
    return c.call(OPLOCK_BREAK, struct.pack("<HHI16sIQ", 36, 0, 0, key, state, 0))


def status(server):
    res = subprocess.run([str(rsmbd_binary()), "status", "--config", str(server.conf)], capture_output=True,
                         text=True, timeout=10)
    assert res.returncode == 0, res.stderr
    return res.stdout


def test_second_client_breaks_a_batch_oplock_to_level_ii(server):
    a, b = client(server, "client-a"), client(server, "client-b")
    try:
        r, fid = a.create("batch.bin", oplock=BATCH)
        assert r.status == s.SUCCESS and r.body[2] == BATCH
        assert "batch" in status(server)
        create_async(b, "batch.bin")
        n = notification(a)
        assert struct.unpack_from("<HB", n.body) == (24, LEVEL_II) and n.body[8:24] == fid
        ack = oplock_ack(a, fid, LEVEL_II)
        assert ack.status == s.SUCCESS and ack.body[2] == LEVEL_II
        final = b.recv()[0]
        assert final.status == s.SUCCESS and final.body[2] == NONE
        assert "level II" in status(server)
    finally:
        a.close()
        b.close()


@pytest.mark.rsmbd_conf(extra_global="oplock break timeout = 2")
def test_unacknowledged_break_times_out_and_the_late_ack_is_refused(server):
    a, b = client(server, "client-a"), client(server, "client-b")
    try:
        r, fid = a.create("slow.bin", oplock=BATCH)
        assert r.body[2] == BATCH
        started = time.monotonic()
        create_async(b, "slow.bin")
        notification(a)
        final = b.recv()[0]
        assert final.status == s.SUCCESS
        assert time.monotonic() - started >= 1.5
        assert oplock_ack(a, fid, LEVEL_II).status == s.INVALID_OPLOCK_PROTOCOL
    finally:
        a.close()
        b.close()


def test_lease_break_needs_an_acknowledgment(server):
    a, b = client(server, "client-a"), client(server, "client-b")
    k1, k2 = b"K" * 16, b"L" * 16
    try:
        r, _ = a.create("leased.bin", oplock=LEASE, contexts=lease_context(k1, R | H | W))
        assert r.status == s.SUCCESS and r.body[2] == LEASE
        assert "lease RWH" in status(server)
        create_async(b, "leased.bin", oplock=LEASE, contexts=lease_context(k2, R | H | W))
        n = notification(a)
        size, epoch, flags, key, current, new = struct.unpack_from("<HHI16sII", n.body)
        assert (size, flags, key, current, new) == (44, ACK_REQUIRED, k1, R | H | W, R | H)
        # More than the break offers is refused; the offered state is accepted once.
        assert lease_ack(a, k1, R | H | W).status == s.REQUEST_NOT_ACCEPTED
        ack = lease_ack(a, k1, R | H)
        assert ack.status == s.SUCCESS and struct.unpack_from("<I", ack.body, 24)[0] == R | H
        assert lease_ack(a, k1, R | H).status == s.UNSUCCESSFUL
        final = b.recv()[0]
        assert final.status == s.SUCCESS and final.body[2] == LEASE
    finally:
        a.close()
        b.close()


@pytest.mark.rsmbd_conf(extra_share="oplocks = no")
def test_oplocks_no_grants_none(server):
    with client(server, "client-a") as a:
        r, _ = a.create("plain.bin", oplock=BATCH)
        assert r.status == s.SUCCESS and r.body[2] == NONE
        r, _ = a.create("plain2.bin", oplock=LEASE, contexts=lease_context(b"M" * 16, R | H | W))
        assert r.status == s.SUCCESS and r.body[2] == NONE


def test_hostile_acknowledgments_get_windows_statuses_and_cannot_grow_the_server(server):
    """Acknowledgments for breaks never sent, at levels never offered, for unknown lease keys and closed
    handles, and 3,000 of them pipelined on one connection: each gets its status, memory stays flat, and the
    server goes on serving."""
    with client(server, "client-a") as a:
        r, fid = a.create("ack.bin", oplock=BATCH)
        assert r.body[2] == BATCH
        assert oplock_ack(a, fid, LEVEL_II).status == s.INVALID_OPLOCK_PROTOCOL
        assert oplock_ack(a, fid, 0x42).status == s.INVALID_OPLOCK_PROTOCOL
        assert lease_ack(a, b"?" * 16, R).status == s.OBJECT_NAME_NOT_FOUND
        assert oplock_ack(a, b"\x07" * 16, NONE).status == s.FILE_CLOSED
        # A malformed acknowledgment (neither 24 nor 36 bytes) is an invalid parameter.
        assert a.call(OPLOCK_BREAK, struct.pack("<HH", 30, 0) + b"\0" * 28).status == s.INVALID_PARAMETER
        rss_before = s.rss_kib(server.proc.pid)
        bodies = [struct.pack("<HBBI16s", 24, LEVEL_II, 0, 0, fid),
                  struct.pack("<HHI16sIQ", 36, 0, 0, b"?" * 16, R, 0)] * 1500
        for start in range(0, len(bodies), 50):
            batch = bodies[start:start + 50]
            a.send_raw(b"".join(s.netbios(a.pdu(OPLOCK_BREAK, body)) for body in batch))
            statuses = {a.recv()[0].status for _ in batch}
            assert statuses <= {s.INVALID_OPLOCK_PROTOCOL, s.OBJECT_NAME_NOT_FOUND}, statuses
        assert s.rss_kib(server.proc.pid) - rss_before < 16 * 1024
    s.still_serving(server)


def test_a_directory_lease_breaks_when_another_program_changes_the_directory(server):
    """A directory's RH lease (version 2) is broken to none when a program on the server, not an SMB client,
    adds an entry to it (`kernel change notify`); writing to an existing file there keeps the lease."""
    (server.share / "watched").mkdir()
    (server.share / "watched" / "existing.txt").write_text("x")
    key = b"D" * 16
    with client(server, "client-a") as a:
        r, _ = a.create("watched", access=s.GENERIC_READ, disposition=s.FILE_OPEN, options=FILE_DIRECTORY_FILE,
                        oplock=LEASE, contexts=lease_v2_context(key, R | H))
        assert r.status == s.SUCCESS and r.body[2] == LEASE
        assert "lease RH" in status(server)
        (server.share / "watched" / "existing.txt").write_text("changed")
        time.sleep(0.5)
        assert "lease RH" in status(server)
        (server.share / "watched" / "added-elsewhere.txt").write_text("new")
        n = notification(a)
        size, _epoch, flags, got_key, current, new = struct.unpack_from("<HHI16sII", n.body)
        assert (size, got_key, current, new) == (44, key, R | H, NONE)
        assert flags == ACK_REQUIRED
        assert lease_ack(a, key, NONE).status == s.SUCCESS
        assert "lease none" in status(server)


def test_smbtorture_hold_oplock_gives_up_its_oplocks_on_break(server):
    """smbtorture's smb2.hold-oplock is a real client that holds batch oplocks on four files and answers
    breaks (closing `*_close`, acknowledging `*_noclose`): another client's opens complete right after the
    break (not at the break timeout), and the share mode of the kept `notshared_noclose` still refuses them."""
    hold = subprocess.Popen(
        ["smbtorture", server.unc, "-p", str(server.port), "-U", f"{server.user}%{server.password}",
         "smb2.hold-oplock"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=server.tmp)
    try:
        deadline = time.monotonic() + 20
        while status(server).count("batch") < 4:
            assert hold.poll() is None, hold.stderr.read()
            assert time.monotonic() < deadline, "smbtorture did not take its four batch oplocks"
            time.sleep(0.2)
        b = client(server, "client-b")
        try:
            for name, expected in [("shared_close", s.SUCCESS), ("shared_noclose", s.SUCCESS),
                                   ("notshared_close", s.SUCCESS),
                                   ("notshared_noclose", s.SHARING_VIOLATION)]:
                started = time.monotonic()
                r, _ = b.create(f"oplock_test\\{name}", access=s.GENERIC_READ, disposition=s.FILE_OPEN)
                assert r.status == expected, (name, hex(r.status))
                assert time.monotonic() - started < 10, f"{name}: the break was not answered"
        finally:
            b.close()
    finally:
        hold.kill()
        hold.wait(timeout=10)
