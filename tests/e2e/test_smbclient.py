"""File operations through Samba's smbclient at SMB 3.1.1, 3.0.2 (SMB3) and 2.1."""

import hashlib
import os
import re

import pytest

DIALECTS = ["SMB3_11", "SMB3", "SMB2_10"]
BIG_SIZE = 100 * 1024 * 1024
MANY_FILES = 20_000
# smbclient `ls` line: two spaces, name, attributes, size, then a date like "Mon Nov 23 16:57:51 2026".
LS_LINE = re.compile(r"^  (?P<name>.+?)\s+(?P<attr>[A-Za-z]*)\s+(?P<size>\d+)\s+\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}$")


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def ls_names(output):
    """Names listed by smbclient `ls`, without . and .."""
    names = []
    for line in output.splitlines():
        m = LS_LINE.match(line)
        if m and m.group("name") not in (".", ".."):
            names.append(m.group("name"))
    return names


def ok(res):
    """Assert an smbclient run succeeded and reported no NT_STATUS error."""
    out = res.stdout + res.stderr
    assert res.returncode == 0, f"smbclient exit {res.returncode}:\n{out}"
    assert "NT_STATUS_" not in out, out
    return out


@pytest.fixture(scope="module")
def big_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("big") / "big.bin"
    with open(path, "wb") as f:
        for _ in range(BIG_SIZE // (1 << 20)):
            f.write(os.urandom(1 << 20))
    return path, sha256_file(path)


@pytest.mark.parametrize("dialect", DIALECTS)
def test_file_lifecycle(server, smbclient, big_file, tmp_path, dialect):
    src, digest = big_file
    share = server.share

    ok(smbclient("mkdir d", protocol=dialect))
    assert (share / "d").is_dir()

    ok(smbclient(f"put {src} d\\big.bin", protocol=dialect))
    assert (share / "d" / "big.bin").stat().st_size == BIG_SIZE
    assert sha256_file(share / "d" / "big.bin") == digest

    back = tmp_path / "back.bin"
    ok(smbclient(f"get d\\big.bin {back}", protocol=dialect))
    assert sha256_file(back) == digest

    ok(smbclient("rename d\\big.bin d\\renamed.bin", protocol=dialect))
    assert (share / "d" / "renamed.bin").is_file()
    assert not (share / "d" / "big.bin").exists()

    names = ls_names(ok(smbclient("ls d\\*", protocol=dialect)))
    assert names == ["renamed.bin"]

    info = smbclient("allinfo d\\renamed.bin", protocol=dialect)
    assert info.returncode == 0, info.stdout + info.stderr
    assert str(BIG_SIZE) in info.stdout, info.stdout
    assert "attributes:" in info.stdout, info.stdout

    ok(smbclient("rm d\\renamed.bin", protocol=dialect))
    assert not (share / "d" / "renamed.bin").exists()

    ok(smbclient("rmdir d", protocol=dialect))
    assert not (share / "d").exists()


@pytest.mark.parametrize("dialect", DIALECTS)
def test_list_many_files(server, smbclient, dialect):
    many = server.share / "many"
    many.mkdir()
    for i in range(MANY_FILES):
        (many / f"file-{i:05d}.txt").touch()

    names = ls_names(ok(smbclient("ls many/*", protocol=dialect, timeout=600)))
    assert len(names) == MANY_FILES
    assert set(names) == {f"file-{i:05d}.txt" for i in range(MANY_FILES)}
