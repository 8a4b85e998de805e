"""Kerberos logons (MS-KILE, RFC 4120/4121) with smbclient against a private MIT KDC (tests/e2e/kdc.py): the
keytab, realm and NTLM settings, and the refusals."""

import re
import subprocess
import uuid

import pytest

from kdc import REALM, Kdc
from rsmbd_server import USER, PASSWORD, RsmbdServer, rsmbd_binary

# The name clients use for the server: its service principal is cifs/nas.
HOST = "nas"


@pytest.fixture(scope="module")
def kdc():
    with Kdc() as k:
        k.add_user(USER, PASSWORD)
        k.add_service(f"cifs/{HOST}")
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
