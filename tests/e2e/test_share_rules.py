"""Per-share rules end to end with smbclient and smbprotocol: `read list`, `write list`, `read only`,
`force user` / `force group`, `create mask` / `directory mask` / `force create mode`, `hide files`,
`veto files`, `hide dot files` and `max connections`."""

import os
import subprocess
import uuid

import pytest
from smbprotocol.connection import Connection
from smbprotocol.exceptions import SMBResponseException
from smbprotocol.session import Session
from smbprotocol.tree import TreeConnect

from rsmbd_server import RsmbdServer

STATUS_REQUEST_NOT_ACCEPTED = 0xC00000D0


def smbclient(srv, commands):
    cmd = ["smbclient", srv.unc, "-p", str(srv.port), "-U", f"{srv.user}%{srv.password}", "-c", commands]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=60, errors="replace")
    return res.returncode, res.stdout + res.stderr


def serve(tmp_path_factory, share_conf):
    return RsmbdServer(extra_share=share_conf, tmp_root=tmp_path_factory.getbasetemp())


def test_read_list_refuses_writes_and_writes_nothing(tmp_path_factory, tmp_path):
    src = tmp_path / "in.txt"
    src.write_text("data")
    with serve(tmp_path_factory, "read list = nobody tester") as srv:
        code, out = smbclient(srv, f"put {src} new.txt; mkdir newdir")
        assert "NT_STATUS_ACCESS_DENIED" in out, out
        assert not (srv.share / "new.txt").exists() and not (srv.share / "newdir").exists()
        (srv.share / "there.txt").write_text("x")
        code, out = smbclient(srv, "get there.txt /dev/null")
        assert code == 0, out


def test_read_only_share_refuses_writes(tmp_path_factory, tmp_path):
    src = tmp_path / "in.txt"
    src.write_text("data")
    with serve(tmp_path_factory, "read only = yes") as srv:
        (srv.share / "keep.txt").write_text("original")
        code, out = smbclient(srv, f"put {src} new.txt; put {src} keep.txt; rm keep.txt")
        assert out.count("NT_STATUS_ACCESS_DENIED") >= 3, out
        assert not (srv.share / "new.txt").exists()
        assert (srv.share / "keep.txt").read_text() == "original"


def test_write_list_opens_a_read_only_share(tmp_path_factory, tmp_path):
    src = tmp_path / "in.txt"
    src.write_text("data")
    with serve(tmp_path_factory, "read only = yes\nwrite list = tester\nread list = tester") as srv:
        code, out = smbclient(srv, f"put {src} new.txt")
        assert code == 0, out
        assert (srv.share / "new.txt").read_text() == "data"


def test_masks_and_forced_modes(tmp_path_factory, tmp_path):
    src = tmp_path / "in.txt"
    src.write_text("data")
    conf = "create mask = 0640\nforce create mode = 0004\ndirectory mask = 0750\nforce directory mode = 0005"
    with serve(tmp_path_factory, conf) as srv:
        code, out = smbclient(srv, f"put {src} f.txt; mkdir d")
        assert code == 0, out
        assert (srv.share / "f.txt").stat().st_mode & 0o7777 == 0o644
        assert (srv.share / "d").stat().st_mode & 0o7777 == 0o755


@pytest.mark.skipif(os.geteuid() != 0, reason="force user needs the daemon to run as root")
def test_force_user_and_group_own_new_files(tmp_path_factory, tmp_path):
    src = tmp_path / "in.txt"
    src.write_text("data")
    with serve(tmp_path_factory, "force user = nobody\nforce group = nogroup") as srv:
        os.chmod(srv.share, 0o777)
        code, out = smbclient(srv, f"put {src} owned.txt")
        assert code == 0, out
        st = (srv.share / "owned.txt").stat()
        assert (st.st_uid, st.st_gid) == (65534, 65534)


def test_hide_and_veto_files(tmp_path_factory, tmp_path):
    src = tmp_path / "in.txt"
    src.write_text("data")
    with serve(tmp_path_factory, "veto files = /*.secret/private/\nhide files = /draft*/\nhide dot files = no") as srv:
        for name in ["a.secret", "draft1", "plain", ".dot"]:
            (srv.share / name).write_text(name)
        (srv.share / "private").mkdir()
        (srv.share / "private" / "inner").write_text("x")
        code, out = smbclient(srv, "ls")
        assert code == 0, out
        lines = {line.split()[0]: line.split()[1] for line in out.splitlines() if line.startswith("  ")}
        assert "a.secret" not in lines and "private" not in lines, out
        assert "H" in lines["draft1"] and "H" not in lines["plain"] and "H" not in lines[".dot"], out
        code, out = smbclient(srv, "get a.secret /dev/null")
        assert "NT_STATUS_OBJECT_NAME_NOT_FOUND" in out, out
        code, out = smbclient(srv, "get private\\inner /dev/null")
        assert "NT_STATUS_OBJECT_PATH_NOT_FOUND" in out, out
        code, out = smbclient(srv, f"put {src} new.secret; rename plain renamed.secret")
        assert not (srv.share / "new.secret").exists() and (srv.share / "plain").exists(), out


def test_max_connections_limits_tree_connects(tmp_path_factory):
    with serve(tmp_path_factory, "max connections = 1") as srv:
        conn = Connection(uuid.uuid4(), srv.host, srv.port, require_signing=True)
        conn.connect(timeout=20)
        try:
            session = Session(conn, srv.user, srv.password, require_encryption=False)
            session.connect()
            unc = f"\\\\{srv.host}\\{srv.share_name}"
            first = TreeConnect(session, unc)
            first.connect()
            with pytest.raises(SMBResponseException) as refused:
                TreeConnect(session, unc).connect()
            assert refused.value.status == STATUS_REQUEST_NOT_ACCEPTED
            first.disconnect()
            again = TreeConnect(session, unc)
            again.connect()
            again.disconnect()
        finally:
            conn.disconnect()


def test_delete_veto_files(tmp_path_factory):
    with serve(tmp_path_factory, "veto files = /.DS_Store/\ndelete veto files = yes") as srv:
        (srv.share / "d").mkdir()
        (srv.share / "d" / ".DS_Store").write_text("x")
        code, out = smbclient(srv, "rmdir d")
        assert code == 0 and not (srv.share / "d").exists(), out
    with serve(tmp_path_factory, "veto files = /.DS_Store/") as srv:
        (srv.share / "d").mkdir()
        (srv.share / "d" / ".DS_Store").write_text("x")
        code, out = smbclient(srv, "rmdir d")
        assert "NT_STATUS_DIRECTORY_NOT_EMPTY" in out and (srv.share / "d" / ".DS_Store").exists(), out
