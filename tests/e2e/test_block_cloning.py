"""Block cloning (FSCTL_DUPLICATE_EXTENTS_TO_FILE, MS-SMB2 3.3.5.15.17, MS-FSA 2.1.5.10.4): on a share on an
XFS file system made with reflinks (a loop mount the test makes, so it needs root), a clone shares the
source's extents (FIEMAP_EXTENT_SHARED) and reads back byte for byte; hostile requests get Windows' statuses.
On the ordinary test share (no reflinks) the request is STATUS_INVALID_DEVICE_REQUEST and the share does not
claim FILE_SUPPORTS_BLOCK_REFCOUNTING."""

import os
import shutil
import struct
import subprocess

import pytest

import smb2raw as s
from rsmbd_server import RsmbdServer

DUPLICATE_EXTENTS_TO_FILE = 0x00098344
INVALID_DEVICE_REQUEST = 0xC0000010
FILE_LOCK_CONFLICT = 0xC0000054
SUPPORTS_BLOCK_REFCOUNTING = 0x08000000
FILE_READ_DATA, FILE_WRITE_DATA, READ_ATTRIBUTES, SYNCHRONIZE = 0x1, 0x2, 0x80, 0x100000
READ_ONLY = FILE_READ_DATA | READ_ATTRIBUTES | SYNCHRONIZE
FS_INFO, FS_SIZE, FS_ATTRIBUTE = 2, 3, 5
FILE_INFO, END_OF_FILE_INFO = 1, 20
LOCK_EXCLUSIVE_FAIL_IMMEDIATELY = 0x2 | 0x10
IMAGE_SIZE = "400M"


def run(*args):
    return subprocess.run(args, capture_output=True, text=True, timeout=120)


@pytest.fixture
def xfs_server(tmp_path):
    """An rsmbd whose share (and everything else of the server's) is on a loop-mounted XFS with reflinks.
    The mount goes away even when the test fails."""
    if os.geteuid() != 0:
        pytest.skip("needs root to loop-mount an XFS image")
    assert shutil.which("mkfs.xfs"), "mkfs.xfs not installed: tests/run installs xfsprogs"
    image, mnt = tmp_path / "xfs.img", tmp_path / "mnt"
    mnt.mkdir()
    run("truncate", "-s", IMAGE_SIZE, str(image))
    made = run("mkfs.xfs", "-q", "-m", "reflink=1", str(image))
    assert made.returncode == 0, made.stderr
    mounted = run("mount", "-o", "loop", str(image), str(mnt))
    if mounted.returncode != 0:
        pytest.skip(f"cannot loop-mount here: {mounted.stderr.strip()}")
    srv = None
    try:
        srv = RsmbdServer(tmp_root=mnt, extra_shares={"other": ""})
        srv.start()
        yield srv
        crashed = not srv.alive()
        code = srv.stop()
        assert not crashed, f"rsmbd died during the test (exit code {code})"
        assert code == 0, f"rsmbd exited with {code} after SIGTERM"
        assert "panicked at" not in srv.log(), "rsmbd logged a panic"
    finally:
        if srv is not None:
            srv.stop()
        run("umount", "-l", str(mnt))
        image.unlink(missing_ok=True)


def ioctl(c, fid, data, code=DUPLICATE_EXTENTS_TO_FILE):
    body = struct.pack("<HHI16sIIIIIIII", 57, 0, code, fid, s.HEADER_LEN + 56, len(data), 0, 0, 0, 0, 1, 0)
    return c.call(s.IOCTL, body + (data or b"\0")).status


def dup(source_fid, source_offset, target_offset, byte_count):
    """SMB2_DUPLICATE_EXTENTS_DATA (MS-FSCC 2.3.7.2)."""
    return struct.pack("<16sQQQ", source_fid, source_offset, target_offset, byte_count)


def fs_info(c, fid, info_class):
    r = c.call(s.QUERY_INFO, s.query_info_body(fid, FS_INFO, info_class))
    assert r.status == s.SUCCESS, hex(r.status)
    return r.buffer("<HI", 2)


def fs_attributes(c, fid):
    return struct.unpack_from("<I", fs_info(c, fid, FS_ATTRIBUTE))[0]


def cluster_size(c, fid):
    _, _, sectors, bytes_per_sector = struct.unpack_from("<QQII", fs_info(c, fid, FS_SIZE))
    return sectors * bytes_per_sector


def set_size(c, fid, size):
    r = c.call(s.SET_INFO, s.set_info_body(fid, FILE_INFO, END_OF_FILE_INFO, struct.pack("<Q", size)))
    assert r.status == s.SUCCESS, hex(r.status)


def read_all(c, fid, size):
    data = b""
    while len(data) < size:
        r = c.read(fid, len(data), min(65536, size - len(data)))
        assert r.status == s.SUCCESS, hex(r.status)
        data += r.buffer("<BxI", 2)
    return data


def test_clone_shares_extents_on_reflink_xfs(xfs_server):
    payload = os.urandom(1024 * 1024 + 3 * 4096 + 123)  # more than 1 MiB, the last cluster partial
    (xfs_server.share / "src.bin").write_bytes(payload)
    with s.logged_on(xfs_server) as c:
        _, src = c.create("src.bin", disposition=s.FILE_OPEN)
        _, dst = c.create("dst.bin", disposition=s.FILE_CREATE)
        assert fs_attributes(c, dst) & SUPPORTS_BLOCK_REFCOUNTING
        cluster = cluster_size(c, dst)
        assert cluster == 4096
        whole = -(-len(payload) // cluster) * cluster  # the source's allocation
        set_size(c, dst, whole)  # Windows clients extend the target first; a clone never does
        assert ioctl(c, dst, dup(src, 0, 0, whole)) == s.SUCCESS
        assert read_all(c, dst, whole) == payload + bytes(whole - len(payload))
        # Ranges apart within one file.
        assert ioctl(c, src, dup(src, 0, 8 * cluster, 4 * cluster)) == s.SUCCESS
        assert read_all(c, src, 12 * cluster)[8 * cluster:] == payload[:4 * cluster]
        assert ioctl(c, dst, dup(src, 0, 0, 0)) == s.SUCCESS  # nothing to do
    assert (xfs_server.share / "dst.bin").read_bytes()[:len(payload)] == payload
    frag = run("filefrag", "-v", str(xfs_server.share / "dst.bin"))
    assert frag.returncode == 0, frag.stderr
    assert "shared" in frag.stdout, frag.stdout  # FIEMAP_EXTENT_SHARED: the extents are the source's
    s.still_serving(xfs_server)


def test_clone_from_another_share_of_the_session(xfs_server):
    """MS-SMB2 3.3.5.15.17 looks the source up among all the session's opens: a share on the same file
    system clones from another."""
    payload = os.urandom(5 * 4096)
    (xfs_server.share / "src.bin").write_bytes(payload)
    with s.logged_on(xfs_server) as c:
        _, src = c.create("src.bin", disposition=s.FILE_OPEN)
        assert c.tree_connect(f"\\\\{xfs_server.host}\\other").status == s.SUCCESS
        _, dst = c.create("copy.bin", disposition=s.FILE_CREATE)
        set_size(c, dst, len(payload))
        assert ioctl(c, dst, dup(src, 4096, 0, 4 * 4096)) == s.SUCCESS
    assert (xfs_server.tmp / "other" / "copy.bin").read_bytes() == payload[4096:] + bytes(4096)


def test_hostile_clone_requests(xfs_server):
    """Each refusal is Windows' status; the target keeps its bytes."""
    (xfs_server.share / "src.bin").write_bytes(b"S" * 3 * 4096)
    (xfs_server.share / "dst.bin").write_bytes(b"D" * 2 * 4096)
    with s.logged_on(xfs_server) as c, s.logged_on(xfs_server) as other:
        _, src = c.create("src.bin", disposition=s.FILE_OPEN)
        _, dst = c.create("dst.bin", disposition=s.FILE_OPEN)
        _, dst_read_only = c.create("dst.bin", access=READ_ONLY, disposition=s.FILE_OPEN)
        _, src_write_only = c.create("src.bin", access=FILE_WRITE_DATA | SYNCHRONIZE, disposition=s.FILE_OPEN)
        _, other_src = other.create("src.bin", disposition=s.FILE_OPEN)
        cases = [
            # MS-SMB2 3.3.5.15.17: input shorter than the structure.
            (dst, dup(src, 0, 0, 4096)[:39], s.INVALID_PARAMETER),
            (dst, b"", s.INVALID_PARAMETER),
            # MS-SMB2 3.3.5.15.17: a source FileId not in this session's opens.
            (dst, dup(other_src, 0, 0, 4096), s.INVALID_HANDLE),
            (dst, dup(b"\x42" * 16, 0, 0, 4096), s.INVALID_HANDLE),
            (dst, dup(s.FILE_ID_NONE, 0, 0, 4096), s.INVALID_HANDLE),
            # Not multiples of the cluster size, negative, beyond the largest offset.
            (dst, dup(src, 512, 0, 4096), s.INVALID_PARAMETER),
            (dst, dup(src, 0, 512, 4096), s.INVALID_PARAMETER),
            (dst, dup(src, 0, 0, 100), s.INVALID_PARAMETER),
            (dst, dup(src, 2**64 - 4096, 0, 4096), s.INVALID_PARAMETER),
            (dst, dup(src, 0, 2**63 - 4096, 8192), s.INVALID_PARAMETER),
            # Access: FILE_WRITE_DATA on the target, FILE_READ_DATA on the source.
            (dst_read_only, dup(src, 0, 0, 4096), s.ACCESS_DENIED),
            (dst, dup(src_write_only, 0, 0, 4096), s.ACCESS_DENIED),
            # Overlapping ranges of one file.
            (src, dup(src, 0, 4096, 8192), s.NOT_SUPPORTED),
            (src, dup(src, 4096, 4096, 4096), s.NOT_SUPPORTED),
            # Beyond the source's allocation, beyond the target's end of file.
            (dst, dup(src, 2 * 4096, 0, 2 * 4096), s.NOT_SUPPORTED),
            (dst, dup(src, 0, 4096, 2 * 4096), s.NOT_SUPPORTED),
        ]
        for fid, data, status in cases:
            got = ioctl(c, fid, data)
            assert got == status, (data.hex(), hex(got), hex(status))
        assert (xfs_server.share / "dst.bin").read_bytes() == b"D" * 2 * 4096
        # Another open's lock on the target range does not stop a clone, as on Windows (smbtorture
        # smb2.ioctl.dup_extents_dest_lock), though it stops a WRITE.
        _, locker = other.create("dst.bin", disposition=s.FILE_OPEN)
        r = other.call(s.LOCK, s.lock_body(locker, [(4096, 4096, LOCK_EXCLUSIVE_FAIL_IMMEDIATELY)]))
        assert r.status == s.SUCCESS, hex(r.status)
        assert c.write(dst, 4096, b"x").status == FILE_LOCK_CONFLICT
        assert ioctl(c, dst, dup(src, 0, 0, 2 * 4096)) == s.SUCCESS
        # A target FileId that names no open: as for any request.
        assert ioctl(c, b"\x42" * 16, dup(src, 0, 0, 4096)) == s.FILE_CLOSED
    assert (xfs_server.share / "dst.bin").read_bytes() == b"S" * 2 * 4096
    s.still_serving(xfs_server)


def test_no_block_cloning_without_reflinks(server):
    """The ordinary test share's file system cannot clone: the status Windows gives, and no
    FILE_SUPPORTS_BLOCK_REFCOUNTING."""
    kind = run("stat", "-f", "-c", "%T", str(server.share)).stdout.strip()
    if kind in ("btrfs", "xfs", "bcachefs"):
        pytest.skip(f"the test share is on {kind}, which may clone")
    (server.share / "src.bin").write_bytes(b"S" * 8192)
    (server.share / "dst.bin").write_bytes(b"D" * 8192)
    with s.logged_on(server) as c:
        _, src = c.create("src.bin", disposition=s.FILE_OPEN)
        _, dst = c.create("dst.bin", disposition=s.FILE_OPEN)
        assert not fs_attributes(c, dst) & SUPPORTS_BLOCK_REFCOUNTING
        assert ioctl(c, dst, dup(src, 0, 0, cluster_size(c, dst))) == INVALID_DEVICE_REQUEST
    assert (server.share / "dst.bin").read_bytes() == b"D" * 8192
