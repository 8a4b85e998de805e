"""Nothing outside the share's directory is reachable: not through symlinks, `..` components or `cd ..`."""

import pytest

MARKER = "rsmbd-outside-marker-7f3a91"


@pytest.fixture
def outside(server):
    """A directory next to the share holding secret.txt, a secret.txt in the share's parent, and symlinks
    inside the share pointing at both."""
    out = server.tmp / "outside"
    out.mkdir()
    (out / "secret.txt").write_text(MARKER)
    (server.tmp / "secret.txt").write_text(MARKER)
    (server.share / "inside.txt").write_text("inside")
    (server.share / "dirlink").symlink_to(out)
    (server.share / "filelink").symlink_to(out / "secret.txt")
    (server.share / "abslink").symlink_to("/etc")
    return out


def fetch(smbclient, tmp_path, remote, *pre):
    """Run `get remote local` (after the commands in pre); return (result, local content or None)."""
    local = tmp_path / "fetched"
    if local.exists():
        local.unlink()
    res = smbclient("; ".join([*pre, f'get "{remote}" {local}']))
    return res, (local.read_text(errors="replace") if local.exists() else None)


def assert_no_leak(res, content=None):
    out = res.stdout + res.stderr
    assert MARKER not in out
    assert "root:x:0:0" not in out
    if content is not None:
        assert MARKER not in content
        assert "root:x:0:0" not in content


def test_symlinked_dir_not_listed(server, smbclient, outside):
    res = smbclient("ls dirlink\\*")
    assert_no_leak(res)
    assert "secret.txt" not in res.stdout
    assert "NT_STATUS_" in res.stdout + res.stderr


def test_symlinks_not_read(server, smbclient, outside, tmp_path):
    for remote in ("dirlink\\secret.txt", "filelink", "abslink\\passwd"):
        res, content = fetch(smbclient, tmp_path, remote)
        assert content is None or content == "", f"{remote}: got {content!r}"
        assert_no_leak(res, content)


def test_dotdot_get(server, smbclient, outside, tmp_path):
    for remote in (
        "..\\secret.txt",
        "../secret.txt",
        "..\\outside\\secret.txt",
        "..\\..\\..\\..\\..\\..\\etc\\passwd",
        "../../../../../../etc/passwd",
        "\\..\\secret.txt",
        "inside\\..\\..\\secret.txt",
    ):
        res, content = fetch(smbclient, tmp_path, remote)
        assert content is None or content == "", f"{remote}: got {content!r}"
        assert_no_leak(res, content)


def test_cd_up_stays_in_share(server, smbclient, outside, tmp_path):
    res = smbclient("cd ..; ls")
    out = res.stdout + res.stderr
    assert_no_leak(res)
    for name in ("smb.conf", "server.log", "outside", "secret.txt", "smbpasswd"):
        assert name not in out, out
    res, content = fetch(smbclient, tmp_path, "secret.txt", "cd ..", "cd ..")
    assert content is None or content == ""
    assert_no_leak(res, content)
    # The share itself is still reachable and intact.
    res = smbclient("ls")
    assert "inside.txt" in res.stdout
    assert (server.tmp / "secret.txt").read_text() == MARKER


def test_symlinks_not_in_listing_targets(server, smbclient, outside):
    """Listing the share root may show the link names, but never the target's contents."""
    res = smbclient("ls *")
    assert res.returncode == 0, res.stdout + res.stderr
    assert "inside.txt" in res.stdout
    assert "secret.txt" not in res.stdout
    assert_no_leak(res)


def test_unfollowable_symlinks_not_listed(server, smbclient, outside):
    """With `follow symlinks = no` (the default) links cannot be opened, so listings leave them out."""
    res = smbclient("ls")
    out = res.stdout + res.stderr
    assert res.returncode == 0, out
    assert "inside.txt" in out
    for link in ("dirlink", "filelink", "abslink"):
        assert link not in out
