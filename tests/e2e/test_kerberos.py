"""Kerberos logons (MS-KILE, RFC 4120/4121) with smbclient against a private MIT KDC (tests/e2e/kdc.py): the
keytab, realm and NTLM settings, and the refusals."""

import os
import re
import subprocess
import time
import uuid

import pytest

from kdc import REALM, Kdc
from rsmbd_server import USER, PASSWORD, RsmbdServer, rsmbd_binary

# The name clients use for the server: its service principal is cifs/nas. (smbclient never tries Kerberos
# for "localhost" or an IP address, so the tests name the server and give its address with -I.)
HOST = "nas"
# A uid no account on the machine is likely to have.
MAPPED_UID = 54321


@pytest.fixture(scope="module")
def kdc():
    with Kdc() as k:
        k.add_user(USER, PASSWORD)
        k.add_service(f"cifs/{HOST}")
        # impacket's AP-REQs (getKerberosType1) ask for host/<name>: the keytab holds that principal too.
        k.add_service(f"host/{HOST}")
        yield k


def plain(log):
    """The server log without its terminal colours."""
    return re.sub(r"\x1b\[[0-9;]*m", "", log)


def conf(kdc, extra=""):
    return (f"realm = {REALM}\nkerberos method = dedicated keytab\ndedicated keytab file = {kdc.keytab}\n"
            f"{extra}")


def smbclient(srv, env, commands, *extra):
    args = ["smbclient", f"//{HOST}/{srv.share_name}", "-I", "127.0.0.1", "-p", str(srv.port), *extra,
            "-c", commands]
    res = subprocess.run(args, capture_output=True, text=True, timeout=60, env=env, errors="replace")
    return res.returncode == 0, res.stdout + res.stderr


def kerberos(kdc, ccache):
    """The environment and smbclient option for a Kerberos-only logon from `ccache`."""
    return ({**kdc.env, "KRB5CCNAME": ccache}, f"--use-krb5-ccache={ccache}")


def test_kerberos_logon_signs_and_encrypts(kdc, tmp_path):
    ccache = kdc.kinit(USER, PASSWORD, tmp_path / "cc")
    (tmp_path / "up.txt").write_text("over kerberos\n")
    with RsmbdServer(extra_global=conf(kdc), tmp_root=tmp_path) as srv:
        env, cc = kerberos(kdc, ccache)
        ok, out = smbclient(srv, env, f"put {tmp_path / 'up.txt'} up.txt", cc, "--client-protection=encrypt")
        assert ok, out
        assert (srv.share / "up.txt").read_text() == "over kerberos\n"
        for dialect in ("SMB3_00", "SMB2_10"):
            ok, out = smbclient(srv, env, "ls", cc, "--client-protection=sign", "-m", dialect)
            assert ok and "up.txt" in out, out
        assert f'user="{USER}"' in plain(srv.log())
        # The NEGOTIATE response offered Kerberos before NTLMSSP, and NTLM still works beside it.
        ok, out = smbclient(srv, env, "ls", "-U", f"{USER}%{PASSWORD}", "--use-kerberos=disabled")
        assert ok, out


def test_a_principal_without_an_account_is_refused(kdc, tmp_path):
    stranger = f"krbonly{uuid.uuid4().hex[:8]}"
    kdc.add_user(stranger, "Str4nger-Pw1")
    ccache = kdc.kinit(stranger, "Str4nger-Pw1", tmp_path / "cc")
    with RsmbdServer(extra_global=conf(kdc), tmp_root=tmp_path) as srv:
        ok, out = smbclient(srv, *kerberos(kdc, ccache), "ls")
        assert not ok and "NT_STATUS_LOGON_FAILURE" in out, out


def test_a_client_of_another_realm_is_refused(kdc, tmp_path):
    ccache = kdc.kinit(USER, PASSWORD, tmp_path / "cc")
    other = conf(kdc).replace(f"realm = {REALM}", "realm = OTHER.TEST")
    with RsmbdServer(extra_global=other, tmp_root=tmp_path) as srv:
        ok, out = smbclient(srv, *kerberos(kdc, ccache), "ls")
        assert not ok and "NT_STATUS_LOGON_FAILURE" in out, out


def test_ntlm_auth_disabled_leaves_only_kerberos(kdc, tmp_path):
    ccache = kdc.kinit(USER, PASSWORD, tmp_path / "cc")
    with RsmbdServer(extra_global=conf(kdc, "ntlm auth = disabled"), tmp_root=tmp_path) as srv:
        ok, out = smbclient(srv, kdc.env, "ls", "-U", f"{USER}%{PASSWORD}", "--use-kerberos=disabled")
        assert not ok, out
        ok, out = smbclient(srv, *kerberos(kdc, ccache), "ls")
        assert ok, out


def test_an_unusable_keytab_stops_the_server_with_a_message(tmp_path):
    cfg = tmp_path / "smb.conf"
    cfg.write_text(f"[global]\nsmb ports = 1\npassdb backend = smbpasswd:{tmp_path / 'pw'}\n"
                   f"kerberos method = dedicated keytab\ndedicated keytab file = {tmp_path / 'missing.keytab'}\n"
                   f"[data]\npath = {tmp_path}\n")
    res = subprocess.run([str(rsmbd_binary()), "serve", "--config", str(cfg)], capture_output=True, text=True,
                         timeout=30)
    assert res.returncode != 0
    assert "cannot use keytab" in res.stderr + res.stdout
    (tmp_path / "empty.keytab").write_bytes(b"\x05\x02")
    cfg.write_text(cfg.read_text().replace("missing.keytab", "empty.keytab"))
    res = subprocess.run([str(rsmbd_binary()), "serve", "--config", str(cfg)], capture_output=True, text=True,
                         timeout=30)
    assert res.returncode != 0 and "no AES key" in res.stderr + res.stdout


def test_username_map_maps_a_principal_to_an_account(kdc, tmp_path):
    principal = f"ext{uuid.uuid4().hex[:8]}"
    kdc.add_user(principal, "Ext3rnal-Pw1")
    ccache = kdc.kinit(principal, "Ext3rnal-Pw1", tmp_path / "cc")
    (tmp_path / "users.map").write_text(f"# principals to accounts\nnobody-else = someone\n{USER} = {principal}\n")
    extra = f"username map = {tmp_path / 'users.map'}"
    with RsmbdServer(extra_global=conf(kdc, extra), tmp_root=tmp_path) as srv:
        ok, out = smbclient(srv, *kerberos(kdc, ccache), "ls")
        assert ok, out
        assert f'user="{USER}"' in plain(srv.log())


def test_files_belong_to_the_mapped_unix_user_on_an_encrypted_share(kdc, tmp_path):
    if os.geteuid() != 0:
        pytest.skip("file work runs as the mapped uid only when the server runs as root")
    ccache = kdc.kinit(USER, PASSWORD, tmp_path / "cc")
    (tmp_path / "mine.txt").write_text("mine\n")
    with RsmbdServer(extra_global=conf(kdc), extra_share="smb encrypt = required", tmp_root=tmp_path) as srv:
        res = subprocess.run([str(rsmbd_binary()), "user", "add", USER, "--uid", str(MAPPED_UID),
                              "--config", str(srv.conf)], input=PASSWORD + "\n", capture_output=True,
                             text=True, timeout=30)
        assert res.returncode == 0, res.stderr
        os.chmod(srv.share, 0o777)
        env, cc = kerberos(kdc, ccache)
        ok, out = smbclient(srv, env, f"put {tmp_path / 'mine.txt'} mine.txt", cc, "--client-protection=encrypt")
        assert ok, out
        assert (srv.share / "mine.txt").stat().st_uid == MAPPED_UID


def test_a_keytab_without_the_tickets_key_is_refused(kdc, tmp_path):
    """The service's key changed at the KDC (a new key version) but the server still has the old keytab."""
    old = tmp_path / "old.keytab"
    kdc.add_service("cifs/oldkeys", keytab=old)
    kdc.add_service_key("cifs/oldkeys", tmp_path / "new.keytab")
    ccache = kdc.kinit(USER, PASSWORD, tmp_path / "cc")
    stale = conf(kdc).replace(str(kdc.keytab), str(old))
    with RsmbdServer(extra_global=stale, tmp_root=tmp_path) as srv:
        env, cc = kerberos(kdc, ccache)
        args = ["smbclient", f"//oldkeys/{srv.share_name}", "-I", "127.0.0.1", "-p", str(srv.port), cc, "-c", "ls"]
        res = subprocess.run(args, capture_output=True, text=True, timeout=60, env=env, errors="replace")
        assert res.returncode != 0 and "NT_STATUS_LOGON_FAILURE" in res.stdout + res.stderr


def test_impacket_logs_on_with_its_own_kerberos(kdc, tmp_path):
    """impacket builds the AP-REQ itself (its own ASN.1 and crypto), from a service ticket in the cache."""
    from impacket.smbconnection import SMBConnection

    ccache = kdc.kinit(USER, PASSWORD, tmp_path / "cc")
    subprocess.run([kdc.tool("kvno"), f"cifs/{HOST}"], env={**kdc.env, "KRB5CCNAME": ccache}, check=True,
                   capture_output=True, timeout=30)
    with RsmbdServer(extra_global=conf(kdc), tmp_root=tmp_path) as srv:
        os.environ["KRB5CCNAME"] = ccache.removeprefix("FILE:")
        try:
            conn = SMBConnection(HOST, "127.0.0.1", sess_port=srv.port)
            conn.kerberosLogin(USER, "", domain=REALM, useCache=True)
            # (Its directory listing at SMB 3 trips over impacket's own directory-lease bookkeeping.)
            tid = conn.connectTree(srv.share_name)
            conn.disconnectTree(tid)
            conn.logoff()
        finally:
            del os.environ["KRB5CCNAME"]
        assert f'user="{USER}"' in plain(srv.log())


def test_replayed_and_malformed_kerberos_tokens_are_refused(kdc, tmp_path):
    """A captured AP-REQ works once; replayed it is refused. Truncated, padded, mislabelled and oversized
    Kerberos tokens get STATUS_LOGON_FAILURE or STATUS_INVALID_PARAMETER, and the server keeps serving."""
    import smb2raw as s
    from impacket.spnego import SPNEGO_NegTokenInit, TypesMech

    ccache = kdc.kinit(USER, PASSWORD, tmp_path / "cc")
    token = ap_req_blob(kdc, ccache, f"host/{HOST}")

    def krb5_init(mech_token, mech="MS KRB5 - Microsoft Kerberos 5"):
        tok = SPNEGO_NegTokenInit()
        tok["MechTypes"] = [TypesMech[mech]]
        tok["MechToken"] = mech_token
        return tok.getData()

    ap_req = SPNEGO_NegTokenInit(token)["MechToken"]
    wrong_oid = ap_req.replace(bytes.fromhex("2a864886f712010202"), bytes.fromhex("2a864886f712010203"), 1)
    huge = bytes.fromhex("6083") + (60004).to_bytes(3, "big") + bytes.fromhex("06092a864886f712010202") + \
        b"\x01\x00" + bytes.fromhex("6e83") + (59980).to_bytes(3, "big") + b"\x30" * 59980
    hostile = [ap_req[:len(ap_req) // 2], ap_req[:-1], ap_req + b"\0", wrong_oid, huge,
               ap_req[:40] + b"\xff" * 8 + ap_req[48:]]
    with RsmbdServer(extra_global=conf(kdc, "logon failure delay = 0"), tmp_root=tmp_path) as srv:
        with s.Client(srv.host, srv.port, timeout=20) as c:
            assert c.negotiate().status == s.SUCCESS
            assert c.session_setup(token).status == s.SUCCESS
            assert c.session_setup(token).status == s.LOGON_FAILURE, "a replayed authenticator"
            for bad in hostile:
                status = c.session_setup(krb5_init(bad)).status
                assert status in (s.LOGON_FAILURE, s.INVALID_PARAMETER), hex(status)
        s.still_serving(srv)


def ap_req_blob(kdc, ccache, service):
    """A SPNEGO NegTokenInit with a fresh AP-REQ for `service` (host/<name>) from the tickets in `ccache`,
    built by impacket."""
    from impacket.krb5 import kerberosv5

    env = {**kdc.env, "KRB5CCNAME": ccache}
    subprocess.run([kdc.tool("kvno"), service], env=env, check=True, capture_output=True, timeout=30)
    os.environ["KRB5CCNAME"] = ccache.removeprefix("FILE:")
    try:
        _, _, blob = kerberosv5.getKerberosType1(USER, "", REALM, "", "", targetName=HOST, useCache=True)
    finally:
        del os.environ["KRB5CCNAME"]
    return blob if isinstance(blob, bytes) else blob.getData()


def test_the_session_expires_with_its_ticket_and_re_authentication_keeps_the_open(kdc, tmp_path):
    """MS-SMB2 3.3.5.2.9: past the ticket's end time requests get STATUS_NETWORK_SESSION_EXPIRED (CLOSE still
    works); a SESSION_SETUP with a new ticket on the same session renews it, and its open is still there."""
    import smb2raw as s

    short = kdc.kinit(USER, PASSWORD, tmp_path / "short", lifetime="8s")
    with RsmbdServer(extra_global=conf(kdc), tmp_root=tmp_path) as srv:
        with s.Client(srv.host, srv.port, timeout=20) as c:
            assert c.negotiate().status == s.SUCCESS
            r = c.session_setup(ap_req_blob(kdc, short, f"host/{HOST}"))
            assert r.status == s.SUCCESS, hex(r.status)
            c.session_id = r.session_id
            assert c.tree_connect(f"\\\\{HOST}\\{srv.share_name}").status == s.SUCCESS
            r, fid = c.create("kept.txt")
            assert r.status == s.SUCCESS
            time.sleep(10)
            assert c.write(fid, 0, b"late").status == 0xC000035C  # STATUS_NETWORK_SESSION_EXPIRED
            fresh = kdc.kinit(USER, PASSWORD, tmp_path / "fresh")
            r = c.session_setup(ap_req_blob(kdc, fresh, f"host/{HOST}"), session_id=c.session_id)
            assert r.status == s.SUCCESS, hex(r.status)
            assert c.write(fid, 0, b"again").status == s.SUCCESS, "the open survived the re-authentication"
            assert c.close_file(fid).status == s.SUCCESS
        assert (srv.share / "kept.txt").read_bytes() == b"again"
