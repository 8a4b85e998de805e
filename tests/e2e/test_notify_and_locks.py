"""Requests that wait, driven by Python smbprotocol: CHANGE_NOTIFY through its FileSystemWatcher (changes made by
another connection, on disk by another program, two directories down under WATCH_TREE; NOTIFY_CLEANUP on close;
CANCELLED on cancel) and blocking byte-range locks (interim response, granted after the holder unlocks,
cancelled), plus the `max pending operations` bound and what `rsmbd status` shows of pending operations."""

import struct
import subprocess
import threading
import time
import uuid

import pytest
from smbprotocol.change_notify import (
    ChangeNotifyFlags,
    CompletionFilter,
    FileAction,
    FileSystemWatcher,
    SMB2ChangeNotifyRequest,
)
from smbprotocol.connection import Connection
from smbprotocol.exceptions import Cancelled, NotifyCleanup, SMBResponseException
from smbprotocol.header import NtStatus
from smbprotocol.open import (
    CreateDisposition,
    CreateOptions,
    DirectoryAccessMask,
    FilePipePrinterAccessMask,
    ImpersonationLevel,
    LockFlags,
    Open,
    ShareAccess,
    SMB2LockElement,
)
from smbprotocol.session import Session
from smbprotocol.tree import TreeConnect

import smb2raw as s
from rsmbd_server import rsmbd_binary

WAIT = 10


class Client:
    """One connection, session and tree connect to the test share."""

    def __init__(self, server):
        self.conn = Connection(uuid.uuid4(), server.host, server.port, require_signing=True)
        self.conn.connect(timeout=WAIT)
        self.session = Session(self.conn, server.user, server.password, require_encryption=False)
        self.session.connect()
        self.tree = TreeConnect(self.session, f"\\\\{server.host}\\{server.share_name}")
        self.tree.connect()

    def open_dir(self, name=""):
        d = Open(self.tree, name)
        d.create(
            ImpersonationLevel.Impersonation,
            DirectoryAccessMask.FILE_LIST_DIRECTORY | DirectoryAccessMask.FILE_READ_ATTRIBUTES,
            0,
            ShareAccess.FILE_SHARE_READ | ShareAccess.FILE_SHARE_WRITE | ShareAccess.FILE_SHARE_DELETE,
            CreateDisposition.FILE_OPEN_IF,
            CreateOptions.FILE_DIRECTORY_FILE,
        )
        return d

    def open_file(self, name):
        f = Open(self.tree, name)
        f.create(
            ImpersonationLevel.Impersonation,
            FilePipePrinterAccessMask.GENERIC_READ | FilePipePrinterAccessMask.GENERIC_WRITE,
            0,
            ShareAccess.FILE_SHARE_READ | ShareAccess.FILE_SHARE_WRITE,
            CreateDisposition.FILE_OPEN_IF,
            CreateOptions.FILE_NON_DIRECTORY_FILE,
        )
        return f

    def close(self):
        self.conn.disconnect(True)


@pytest.fixture
def clients(server):
    made = []

    def make():
        c = Client(server)
        made.append(c)
        return c

    yield make
    for c in made:
        try:
            c.close()
        except Exception:
            pass


def names(actions):
    return [(a["action"].get_value(), a["file_name"].get_value()) for a in actions]


def watch(directory, filter_=CompletionFilter.FILE_NOTIFY_CHANGE_FILE_NAME, flags=0):
    w = FileSystemWatcher(directory)
    w.start(filter_, flags=flags)
    # The request has gone async once its interim response arrived.
    deadline = time.monotonic() + WAIT
    while w._request.async_id is None and w._request.response is None:
        assert time.monotonic() < deadline, "no interim response to CHANGE_NOTIFY"
        time.sleep(0.02)
    return w


def wait_for(w):
    w._t_on_response.join(WAIT)
    assert not w._t_on_response.is_alive(), "CHANGE_NOTIFY did not complete"
    return w.result


def test_file_created_by_another_connection(clients):
    a, b = clients(), clients()
    w = watch(a.open_dir())
    b.open_file("from-b.txt").close()
    assert names(wait_for(w)) == [(FileAction.FILE_ACTION_ADDED, "from-b.txt")]


def test_file_created_on_disk_by_another_program(server, clients):
    a = clients()
    w = watch(a.open_dir())
    (server.share / "local.txt").write_bytes(b"made outside SMB")
    assert names(wait_for(w)) == [(FileAction.FILE_ACTION_ADDED, "local.txt")]


def test_watch_tree_sees_a_change_two_directories_down(server, clients):
    a = clients()
    (server.share / "one" / "two").mkdir(parents=True)
    w = watch(a.open_dir(), flags=ChangeNotifyFlags.SMB2_WATCH_TREE)
    (server.share / "one" / "two" / "deep.txt").write_bytes(b"x")
    assert names(wait_for(w)) == [(FileAction.FILE_ACTION_ADDED, "one\\two\\deep.txt")]


def test_smb_change_is_reported_once_despite_inotify(server, clients):
    a, b = clients(), clients()
    d = a.open_dir()
    w = watch(d)
    b.open_file("once.txt").close()
    assert names(wait_for(w)) == [(FileAction.FILE_ACTION_ADDED, "once.txt")]
    # Nothing else arrives for it: the next change is the next event.
    time.sleep(0.5)
    w2 = watch(d)
    b.open_file("second.txt").close()
    assert names(wait_for(w2)) == [(FileAction.FILE_ACTION_ADDED, "second.txt")]


def test_close_completes_with_notify_cleanup(clients):
    a = clients()
    d = a.open_dir()
    w = watch(d)
    d.close()
    with pytest.raises(NotifyCleanup):
        wait_for(w)


def test_cancel_completes_with_cancelled(clients):
    a = clients()
    w = watch(a.open_dir())
    w.cancel()
    w._t_on_response.join(WAIT)
    assert w.cancelled


def test_change_notify_on_a_file_is_invalid_parameter(clients):
    a = clients()
    f = a.open_file("plain.txt")
    req = SMB2ChangeNotifyRequest()
    req["file_id"] = f.file_id
    req["completion_filter"] = CompletionFilter.FILE_NOTIFY_CHANGE_FILE_NAME
    request = a.conn.send(req, a.session.session_id, a.tree.tree_connect_id)
    with pytest.raises(SMBResponseException) as e:
        a.conn.receive(request, timeout=WAIT)
    assert e.value.status == NtStatus.STATUS_INVALID_PARAMETER


def rsmbd_status(server):
    res = subprocess.run(
        [str(rsmbd_binary()), "status", "--config", str(server.conf)], capture_output=True, text=True, timeout=WAIT
    )
    assert res.returncode == 0, res.stderr
    return res.stdout


def lock_elem(offset, length, flags):
    e = SMB2LockElement()
    e["offset"] = offset
    e["length"] = length
    e["flags"] = flags
    return e


EXCL = LockFlags.SMB2_LOCKFLAG_EXCLUSIVE_LOCK


class Pending:
    """A request sent now whose final response is awaited in the background (smbprotocol forgets a
    request once receive() returns its interim response, so the wait must be for the final one)."""

    def __init__(self, client, msg):
        self.request = client.conn.send(msg, client.session.session_id, client.tree.tree_connect_id)
        self.response, self.error = None, None
        self.thread = threading.Thread(target=self._wait, args=(client,), daemon=True)
        self.thread.start()
        deadline = time.monotonic() + WAIT
        while self.request.async_id is None and self.thread.is_alive():
            assert time.monotonic() < deadline, "no interim response"
            time.sleep(0.02)

    def _wait(self, client):
        try:
            self.response = client.conn.receive(self.request, timeout=WAIT * 3)
        except Exception as e:  # noqa: BLE001 - the test inspects it
            self.error = e

    @property
    def went_async(self):
        return self.request.async_id is not None

    def result(self):
        self.thread.join(WAIT * 3)
        assert not self.thread.is_alive(), "no final response"
        return self.response, self.error


def send_lock(client, f, elems):
    msg, _ = f.lock(elems, send=False)
    return Pending(client, msg)


def test_blocking_lock_waits_then_is_granted_and_a_second_is_cancelled(clients):
    a, b, c = clients(), clients(), clients()
    fa, fb, fc = a.open_file("lock.bin"), b.open_file("lock.bin"), c.open_file("lock.bin")
    fa.lock([lock_elem(0, 10, EXCL | LockFlags.SMB2_LOCKFLAG_FAIL_IMMEDIATELY)])

    waiting = send_lock(b, fb, [lock_elem(0, 10, EXCL)])
    assert waiting.went_async
    second = send_lock(c, fc, [lock_elem(5, 10, EXCL)])
    assert second.went_async
    time.sleep(0.3)
    assert waiting.thread.is_alive(), "the conflicting lock did not wait"

    fa.lock([lock_elem(0, 10, LockFlags.SMB2_LOCKFLAG_UNLOCK)])
    granted, err = waiting.result()
    assert err is None and granted["status"].get_value() == NtStatus.STATUS_SUCCESS

    second.request.cancel()
    _, err = second.result()
    assert isinstance(err, Cancelled)


@pytest.mark.rsmbd_conf(extra_global="max pending operations = 8")
def test_past_max_pending_operations_insufficient_resources(server, clients):
    a = clients()
    d = a.open_dir()
    def notify():
        req = SMB2ChangeNotifyRequest()
        req["file_id"] = d.file_id
        req["output_buffer_length"] = 1024
        req["completion_filter"] = CompletionFilter.FILE_NOTIFY_CHANGE_FILE_NAME
        return req

    waiting = [Pending(a, notify()) for _ in range(8)]
    assert all(p.went_async for p in waiting)
    req = SMB2ChangeNotifyRequest()
    req["file_id"] = d.file_id
    req["output_buffer_length"] = 1024
    req["completion_filter"] = CompletionFilter.FILE_NOTIFY_CHANGE_FILE_NAME
    r = a.conn.send(req, a.session.session_id, a.tree.tree_connect_id)
    with pytest.raises(SMBResponseException) as e:
        a.conn.receive(r, timeout=WAIT)
    assert e.value.status == NtStatus.STATUS_INSUFFICIENT_RESOURCES
    status = rsmbd_status(server)
    assert status.count("CHANGE_NOTIFY") == 8
    a.conn.disconnect(False)
    deadline = time.monotonic() + WAIT
    while "CHANGE_NOTIFY" in rsmbd_status(server):
        assert time.monotonic() < deadline, "pending operations outlived their connection"
        time.sleep(0.1)


def flood(c, bodies, command):
    """Send every body as its own request, as fast as the granted credits allow; returns the statuses of the
    first response to each (the interim STATUS_PENDING of a request that went async)."""
    statuses, avail, sent = [], 1, 0
    while sent < len(bodies):
        batch = bodies[sent:sent + min(avail, 512)]
        c.send_raw(b"".join(s.netbios(c.pdu(command, b, credits=64)) for b in batch))
        sent += len(batch)
        avail -= len(batch)
        for _ in batch:
            r = c.recv(skip_pending=False)[0]
            statuses.append(r.status)
            avail += r.credits
    return statuses


@pytest.mark.parametrize("kind", ["change_notify", "blocking_lock"])
def test_ten_thousand_waiting_requests_are_refused_past_the_limit(server, kind):
    """10,000 CHANGE_NOTIFY or conflicting blocking LOCK requests on one connection: the first 1,024 (`max
    pending operations`' default) go async, every later one fails with STATUS_INSUFFICIENT_RESOURCES, memory
    stays bounded, and dropping the connection leaves no pending operation behind."""
    rss_before = s.rss_kib(server.proc.pid)
    c = s.logged_on(server)
    try:
        if kind == "change_notify":
            r, fid = c.create("", access=s.GENERIC_READ, disposition=s.FILE_OPEN, options=s.DIRECTORY_FILE)
            assert r.status == s.SUCCESS
            body = struct.pack("<HHI16sII", 32, 0, 1024, fid, CompletionFilter.FILE_NOTIFY_CHANGE_FILE_NAME, 0)
            command, listed = s.CHANGE_NOTIFY, "CHANGE_NOTIFY"
        else:
            r, fid = c.create("flood.bin", options=s.NON_DIRECTORY_FILE)
            assert r.status == s.SUCCESS
            exclusive = 0x2
            assert c.call(s.LOCK, s.lock_body(fid, [(0, 1, exclusive | 0x10)])).status == s.SUCCESS
            body = s.lock_body(fid, [(0, 1, exclusive)])
            command, listed = s.LOCK, "LOCK"
        statuses = flood(c, [body] * 10_000, command)
        assert statuses.count(s.PENDING) == 1024
        assert statuses.count(s.INSUFFICIENT_RESOURCES) == 10_000 - 1024
        assert s.rss_kib(server.proc.pid) - rss_before < 64 * 1024
        assert rsmbd_status(server).count(listed) >= 1024
    finally:
        c.close()
    deadline = time.monotonic() + WAIT
    while listed in rsmbd_status(server):
        assert time.monotonic() < deadline, "pending operations outlived their connection"
        time.sleep(0.1)
    s.still_serving(server)
