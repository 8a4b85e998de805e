"""`server max memory in flight`: requests being processed and responses not yet written, over all connections,
are bounded. Two clients that send READs and do not take their responses hold the whole budget; a third client's
ECHO then waits (TCP backpressure, no error), and is answered as soon as one of them reads what it asked for.
Every response arrives, whole."""

import os
import socket
import struct
import time

import pytest

import smb2raw as s
from rsmbd_server import RsmbdServer

MIB = 1 << 20
FILE_OPEN = 1
READS = 64  # of 1 MiB each: twice a connection's 32 MiB budget, more than the socket buffers hold


@pytest.fixture
def small_budget(tmp_path_factory):
    # 64 MiB is the smallest value: two connections' budgets.
    with RsmbdServer(extra_global="server max memory in flight = 64M\n",
                     tmp_root=tmp_path_factory.getbasetemp()) as srv:
        data = os.urandom(MIB)
        (srv.share / "big.bin").write_bytes(data)
        yield srv, data


def flood(srv):
    """A client that asked for READS reads of 1 MiB and reads none of the answers yet."""
    c = s.logged_on(srv)
    # A small, fixed receive buffer: loopback's autotuning would otherwise take in tens of MiB unread.
    c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 << 10)
    for _ in range(24):  # each ECHO grants 64 more credits: room for READS requests charged 16 each
        assert c.echo().status == s.SUCCESS
    r, fid = c.create("big.bin", access=s.GENERIC_READ, disposition=FILE_OPEN)
    assert r.status == s.SUCCESS, hex(r.status)
    for i in range(READS):
        c.send(c.pdu(s.READ, s.read_body(fid, 0, MIB), credit_charge=16))
    return c


def test_a_full_server_budget_holds_new_requests_back_until_memory_is_written(small_budget):
    srv, data = small_budget
    waiting = s.logged_on(srv)
    a, b = flood(srv), flood(srv)
    time.sleep(1)  # until the socket buffers are full and the responses left hold their memory
    waiting.send(waiting.pdu(s.ECHO, struct.pack("<HH", 4, 0)))
    waiting.sock.settimeout(2.0)
    with pytest.raises(socket.timeout):
        waiting.recv()
    a.sock.settimeout(30.0)
    got = [read_one(a) for _ in range(READS)]
    assert all(g == data for g in got)
    waiting.sock.settimeout(10.0)
    assert waiting.recv()[0].status == s.SUCCESS, "the ECHO is answered once memory came back"
    b.sock.settimeout(30.0)
    got = [read_one(b) for _ in range(READS)]
    assert all(g == data for g in got)
    s.still_serving(srv)


def read_one(c):
    """The data of the next READ response."""
    frame = c.recv_frame()
    (r,) = s.parse_pdus(frame)
    assert r.status == s.SUCCESS, hex(r.status)
    # READ response: StructureSize, DataOffset (from the header's start), Reserved, DataLength.
    off, length = frame[64 + 2], int.from_bytes(frame[64 + 4:64 + 8], "little")
    return frame[off:off + length]
