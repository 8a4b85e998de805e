"""Failed logons are slowed down, never answered with a lockout by default (ksmbd CVE-2023-32251 class, and the
lockout an attacker could once trigger for any user name); the opt-in lockout still works when configured."""

import struct
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

from impacket import ntlm

import smb2raw as s
from rsmbd_server import RsmbdServer

# Two client addresses on one machine: IPv4 and IPv6 loopback.
TWO_ADDRESSES = "interfaces = 127.0.0.1 ::1\n"
LOCKOUT = TWO_ADDRESSES + "max logon failures = 3\nlogon failure window = 60"


def login(srv, address, user, password):
    cmd = ["smbclient", f"//localhost/{srv.share_name}", "-I", address, "-p", str(srv.port)]
    cmd += ["-U", f"{user}%{password}", "-c", "ls"]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=60, errors="replace")
    return res.returncode == 0, res.stdout + res.stderr


def timed_login(srv, address, user, password):
    start = time.monotonic()
    ok, out = login(srv, address, user, password)
    return ok, out, time.monotonic() - start


def test_wrong_passwords_are_slowed_but_never_lock_the_user_out(tmp_path_factory):
    conf = TWO_ADDRESSES + "logon failure delay = 700"
    with RsmbdServer(extra_global=conf, tmp_root=tmp_path_factory.getbasetemp()) as srv:
        for _ in range(6):
            ok, out, took = timed_login(srv, "127.0.0.1", srv.user, "wrong")
            assert not ok and "NT_STATUS_LOGON_FAILURE" in out, out
            assert took >= 0.7, f"a failed logon was answered after {took:.2f}s"
        # Right after the burst the right password works, from the same address and from another.
        for address in ("127.0.0.1", "::1"):
            ok, out = login(srv, address, srv.user, srv.password)
            assert ok, out
        assert "too many failures" not in srv.log()


def test_twenty_pipelined_wrong_passwords_then_the_right_one_at_once(tmp_path_factory):
    """20 wrong passwords for the real user, pipelined on one connection, are all refused; the right password
    is accepted within 5 seconds of the last refusal."""
    with RsmbdServer(extra_global="logon failure delay = 250", tmp_root=tmp_path_factory.getbasetemp()) as srv:
        with s.Client(srv.host, srv.port, timeout=60) as c:
            assert c.negotiate().status == s.SUCCESS
            rounds = [c.challenge() for _ in range(20)]
            for i, (type1, r) in enumerate(rounds):
                t3, _ = ntlm.getNTLMSSPType3(type1, s.spnego_inner(r), srv.user, f"wrong{i}", "", use_ntlmv2=True)
                tok = s.spnego_resp(t3.getData())
                body = struct.pack("<HBBIIHHQ", 25, 0, 1, 0, 0, s.HEADER_LEN + 24, len(tok), 0) + tok
                c.send(c.pdu(s.SESSION_SETUP, body, session_id=r.session_id))
            statuses = []
            while len(statuses) < 20:
                statuses += [x.status for x in c.recv()]
            last_answer = time.monotonic()
        assert statuses == [s.LOGON_FAILURE] * 20, [hex(x) for x in statuses]
        ok, out = login(srv, "127.0.0.1", srv.user, srv.password)
        assert ok, out
        assert time.monotonic() - last_answer < 5


def test_waiting_failures_are_bounded_per_address(tmp_path_factory):
    """More parallel wrong guesses than the bound (16 per address) get their connections ended instead of
    answers, and the right password is still accepted while they wait."""
    conf = TWO_ADDRESSES + "logon failure delay = 4000"
    with RsmbdServer(extra_global=conf, tmp_root=tmp_path_factory.getbasetemp()) as srv:
        with ThreadPoolExecutor(max_workers=24) as pool:
            guesses = [pool.submit(login, srv, "127.0.0.1", srv.user, f"wrong{i}") for i in range(24)]
            time.sleep(1.0)
            ok, out = login(srv, "127.0.0.1", srv.user, srv.password)
            assert ok, out
            results = [g.result() for g in guesses]
        answered = sum("NT_STATUS_LOGON_FAILURE" in out for _, out in results)
        assert not any(ok for ok, _ in results)
        assert 1 <= answered <= 16, f"{answered} wrong guesses were answered"
        assert "connection ended" in srv.log()


def test_opt_in_lockout_refuses_the_guessing_address_without_stalling_others(tmp_path_factory):
    with RsmbdServer(extra_global=LOCKOUT, tmp_root=tmp_path_factory.getbasetemp()) as srv:
        for _ in range(3):
            ok, out = login(srv, "127.0.0.1", "mallory", "guess")
            assert not ok and "NT_STATUS_LOGON_FAILURE" in out
        # The guessing address is now refused even for a valid account...
        ok, out = login(srv, "127.0.0.1", srv.user, srv.password)
        assert not ok and "NT_STATUS_LOGON_FAILURE" in out, out
        # ...while another address logs on at once.
        start = time.monotonic()
        ok, out = login(srv, "::1", srv.user, srv.password)
        assert ok, out
        assert time.monotonic() - start < 5
        assert "too many failures" in srv.log()


def test_opt_in_lockout_protects_a_guessed_user_from_every_address(tmp_path_factory):
    with RsmbdServer(extra_global=LOCKOUT, tmp_root=tmp_path_factory.getbasetemp()) as srv:
        for _ in range(3):
            ok, out = login(srv, "::1", srv.user, "wrong")
            assert not ok
        ok, out = login(srv, "127.0.0.1", srv.user, srv.password)
        assert not ok and "NT_STATUS_LOGON_FAILURE" in out, out
