"""File operations through the Python smbprotocol package (its `smbclient` module) at SMB 3.1.1, unencrypted."""

import errno

import pytest
import smbclient
from smbprotocol.connection import Dialects


def test_dialect_is_311(smb):
    conn, _, _ = smb
    assert conn.dialect == Dialects.SMB_3_1_1


def test_file_operations(server, smb):
    _, root, kw = smb
    payload = bytes(range(256)) * 4096 + b"tail"

    smbclient.mkdir(f"{root}\\dir", **kw)
    assert (server.share / "dir").is_dir()

    with smbclient.open_file(f"{root}\\dir\\a.bin", mode="wb", **kw) as f:
        assert f.write(payload) == len(payload)
    assert (server.share / "dir" / "a.bin").read_bytes() == payload

    with smbclient.open_file(f"{root}\\dir\\a.bin", mode="rb", **kw) as f:
        assert f.read() == payload
    with smbclient.open_file(f"{root}\\dir\\a.bin", mode="rb", **kw) as f:
        f.seek(1000)
        assert f.read(10) == payload[1000:1010]

    assert smbclient.listdir(f"{root}\\dir", **kw) == ["a.bin"]

    st = smbclient.stat(f"{root}\\dir\\a.bin", **kw)
    assert st.st_size == len(payload)
    assert int(st.st_mtime) == int((server.share / "dir" / "a.bin").stat().st_mtime)

    smbclient.rename(f"{root}\\dir\\a.bin", f"{root}\\dir\\b.bin", **kw)
    assert sorted(p.name for p in (server.share / "dir").iterdir()) == ["b.bin"]
    assert smbclient.listdir(f"{root}\\dir", **kw) == ["b.bin"]

    smbclient.remove(f"{root}\\dir\\b.bin", **kw)
    assert list((server.share / "dir").iterdir()) == []
    with pytest.raises(OSError) as gone:
        smbclient.stat(f"{root}\\dir\\b.bin", **kw)
    assert gone.value.errno == errno.ENOENT

    smbclient.rmdir(f"{root}\\dir", **kw)
    assert not (server.share / "dir").exists()


def test_stat_directory_and_missing(server, smb):
    _, root, kw = smb
    (server.share / "sub").mkdir()
    (server.share / "sub" / "x.txt").write_bytes(b"12345")
    assert smbclient.path.isdir(f"{root}\\sub", **kw)
    assert smbclient.path.isfile(f"{root}\\sub\\x.txt", **kw)
    assert smbclient.stat(f"{root}\\sub\\x.txt", **kw).st_size == 5
    assert not smbclient.path.exists(f"{root}\\nope", **kw)
    with pytest.raises(OSError):
        smbclient.rmdir(f"{root}\\sub", **kw)  # not empty
    assert (server.share / "sub" / "x.txt").exists()
