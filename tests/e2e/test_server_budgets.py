"""Server-wide budgets: what all connections together may hold (sessions still authenticating, opens, byte-range
locks, pending operations), each refused with the status Windows uses once reached, while the per-connection
limits are far away."""

import struct
import time

import pytest

import smb2raw as s
from rsmbd_server import RsmbdServer

TOO_MANY_OPENED_FILES = 0xC000011F
EXCLUSIVE_FAIL_IMMEDIATELY = 0x2 | 0x10
DIRECTORY = 0x1


@pytest.fixture
def budgeted(tmp_path_factory):
    conf = ("server max authenticating sessions = 2\nserver max open files = 4\n"
            "server max byte range locks = 3\nserver max pending operations = 1\n")
    with RsmbdServer(extra_global=conf, tmp_root=tmp_path_factory.getbasetemp()) as srv:
        yield srv


def test_opens_are_bounded_over_all_connections(budgeted):
    a, b = s.logged_on(budgeted), s.logged_on(budgeted)
    fids = [a.create(f"a{i}")[1] for i in range(3)] + [b.create("b0")[1]]
    assert all(fids)
    r, _ = b.create("b1")
    assert r.status == TOO_MANY_OPENED_FILES, hex(r.status)
    a.close_file(fids[0])
    r, fid = b.create("b1")
    assert r.status == s.SUCCESS, "a closed open makes room for another connection"


def test_byte_range_locks_are_bounded_over_all_connections(budgeted):
    a, b = s.logged_on(budgeted), s.logged_on(budgeted)
    _, fa = a.create("la")
    _, fb = b.create("lb")
    for off in (0, 10):
        assert a.call(s.LOCK, s.lock_body(fa, [(off, 1, EXCLUSIVE_FAIL_IMMEDIATELY)])).status == s.SUCCESS
    assert b.call(s.LOCK, s.lock_body(fb, [(0, 1, EXCLUSIVE_FAIL_IMMEDIATELY)])).status == s.SUCCESS
    r = b.call(s.LOCK, s.lock_body(fb, [(10, 1, EXCLUSIVE_FAIL_IMMEDIATELY)]))
    assert r.status == s.INSUFFICIENT_RESOURCES, hex(r.status)
    a.close_file(fa)
    assert b.call(s.LOCK, s.lock_body(fb, [(10, 1, EXCLUSIVE_FAIL_IMMEDIATELY)])).status == s.SUCCESS


def notify(c, fid):
    """A CHANGE_NOTIFY on directory `fid` (it waits); returns the first answer (interim or final)."""
    body = struct.pack("<HHI16sII", 32, 0, 4096, fid, 0x1, 0)
    c.send(c.pdu(s.CHANGE_NOTIFY, body))
    return c.recv(skip_pending=False)[0]


def test_pending_operations_are_bounded_over_all_connections(budgeted):
    a, b = s.logged_on(budgeted), s.logged_on(budgeted)
    _, da = a.create("", options=DIRECTORY)
    _, db = b.create("", options=DIRECTORY)
    assert notify(a, da).status == s.PENDING
    r = notify(b, db)
    assert r.status == s.INSUFFICIENT_RESOURCES, hex(r.status)


def test_sessions_still_authenticating_are_bounded_over_all_connections(budgeted):
    from impacket import ntlm

    waiting = []
    for _ in range(2):
        c = s.Client(budgeted.host, budgeted.port)
        assert c.negotiate().status == s.SUCCESS
        type1, r = c.challenge()
        assert r.status == s.MORE_PROCESSING_REQUIRED
        waiting.append((c, type1, r))
    late = s.Client(budgeted.host, budgeted.port)
    assert late.negotiate().status == s.SUCCESS
    assert late.login(budgeted.user, budgeted.password).status == s.REQUEST_NOT_ACCEPTED
    # One of the waiting logons completes: its place comes back.
    c, type1, r = waiting[0]
    t3, _ = ntlm.getNTLMSSPType3(type1, s.spnego_inner(r), budgeted.user, budgeted.password, "", use_ntlmv2=True)
    assert c.session_setup(s.spnego_resp(t3.getData()), session_id=r.session_id).status == s.SUCCESS
    assert late.login(budgeted.user, budgeted.password).status == s.SUCCESS
    for c, _, _ in waiting:
        c.close()
    late.close()


def test_an_abandoned_session_setup_gives_its_place_back(tmp_path_factory):
    """A logged-on client starts another SESSION_SETUP and never finishes it: the half-done session holds
    the only place of `server max authenticating sessions` until `handshake timeout`, then it is removed."""
    conf = "server max authenticating sessions = 1\nhandshake timeout = 2\n"
    with RsmbdServer(extra_global=conf, tmp_root=tmp_path_factory.getbasetemp()) as srv:
        a = s.logged_on(srv)
        _, r = a.challenge()
        assert r.status == s.MORE_PROCESSING_REQUIRED
        late = s.Client(srv.host, srv.port)
        assert late.negotiate().status == s.SUCCESS
        assert late.login(srv.user, srv.password).status == s.REQUEST_NOT_ACCEPTED
        late.close()
        time.sleep(3)
        again = s.Client(srv.host, srv.port)
        assert again.negotiate().status == s.SUCCESS
        assert again.login(srv.user, srv.password).status == s.SUCCESS
        assert a.echo().status == s.SUCCESS, "the client's own logged-on session lives on"
        a.close()
        again.close()
        assert "session setup not completed in time" in srv.log()
