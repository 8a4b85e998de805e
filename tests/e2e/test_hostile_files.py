"""Hostile file-operation requests on an authenticated tree connect: buffers whose offsets and lengths lie
(TREE_CONNECT path, WRITE data, CREATE name and contexts, EA lists, security descriptors), I/O and locks at the
edge of the 64-bit offset range, directory patterns, file-system queries on IPC$ and the number of pipes."""

import os
import struct
import time

import pytest

import smb2raw as s

IPC_FS_REFUSED = {s.INVALID_INFO_CLASS, s.INVALID_PARAMETER, s.NOT_SUPPORTED, s.INVALID_HANDLE, s.FILE_CLOSED}


def test_fs_query_info_on_ipc(server):
    """ksmbd class: a file-system QUERY_INFO on IPC$ dereferenced the share path IPC$ does not have. Every
    file-system class on a pipe, and a disk file id used through the IPC$ tree, get a clean error."""
    with s.logged_on(server) as disk:
        r, disk_fid = disk.create("on-disk.txt")
        assert r.status == s.SUCCESS
        ipc_tid = disk.tree_connect(f"\\\\{server.host}\\IPC$")
        assert ipc_tid.status == s.SUCCESS
        r = disk.call(s.QUERY_INFO, s.query_info_body(disk_fid, 2, 1))
        assert r.status in {s.FILE_CLOSED, s.INVALID_HANDLE}, hex(r.status)
        r, pipe = disk.create("srvsvc", access=0x12019F)
        assert r.status == s.SUCCESS
        for cls in range(0, 16):
            r = disk.call(s.QUERY_INFO, s.query_info_body(pipe, 2, cls))
            assert r.status in IPC_FS_REFUSED, (cls, hex(r.status))
        for info_type, cls in ((3, 0), (4, 0), (9, 1)):
            r = disk.call(s.QUERY_INFO, s.query_info_body(pipe, info_type, cls, additional=7))
            assert r.status in IPC_FS_REFUSED, (info_type, hex(r.status))
        r = disk.call(s.QUERY_INFO, s.query_info_body(s.FILE_ID_NONE, 2, 1))
        assert r.status == s.FILE_CLOSED, hex(r.status)
        assert disk.echo().status == s.SUCCESS
    s.still_serving(server)


@pytest.mark.parametrize("offset,length", [(0xFFFF, 20), (s.HEADER_LEN + 8, 0xFFFF), (0, 40), (s.HEADER_LEN, 20),
                                           (s.HEADER_LEN + 9, 7)])
def test_tree_connect_path_offsets(server, offset, length):
    """ksmbd class: TREE_CONNECT PathOffset/PathLength were trusted and the share name read outside the PDU.
    STATUS_INVALID_PARAMETER (or a bad-name refusal), never a tree."""
    path = f"\\\\{server.host}\\{server.share_name}".encode("utf-16-le")
    with s.Client(server.host, server.port) as c:
        assert c.negotiate().status == s.SUCCESS
        assert c.login(server.user, server.password).status == s.SUCCESS
        r = c.call(s.TREE_CONNECT, struct.pack("<HHHH", 9, 0, offset, length) + path, tree_id=0)
        assert r.status in {s.INVALID_PARAMETER, s.BAD_NETWORK_NAME}, hex(r.status)
        long_name = ("\\\\h\\" + "x" * 40000).encode("utf-16-le")[:65000]
        r = c.call(s.TREE_CONNECT, struct.pack("<HHHH", 9, 0, s.HEADER_LEN + 8, len(long_name)) + long_name)
        assert r.status in {s.INVALID_PARAMETER, s.BAD_NETWORK_NAME}, hex(r.status)
    s.still_serving(server)


def test_write_data_offset_and_length_lies(server):
    """ksmbd class: WRITE took DataOffset/Length from the request and copied from outside the received PDU.
    DataOffset 0 or inside the header, or a Length beyond the PDU: STATUS_INVALID_PARAMETER, nothing written."""
    with s.logged_on(server) as c:
        r, fid = c.create("lies.bin")
        assert r.status == s.SUCCESS
        data = b"D" * 100
        for data_offset, length in ((0, 100), (s.HEADER_LEN, 100), (s.HEADER_LEN + 48, 101),
                                    (s.HEADER_LEN + 48, 0xFFFFFFFF), (0xFFFF, 1), (s.HEADER_LEN + 140, 10)):
            r = c.call(s.WRITE, s.write_body(fid, 0, data, data_offset=data_offset, length=length))
            assert r.status == s.INVALID_PARAMETER, (data_offset, length, hex(r.status))
        assert (server.share / "lies.bin").read_bytes() == b""
        assert c.write(fid, 0, data).status == s.SUCCESS
    assert (server.share / "lies.bin").read_bytes() == data
    s.still_serving(server)


def ioctl_body(fid, code, data, in_offset=None, in_length=None, max_out=4096):
    return struct.pack("<HHI16sIIIIIIII", 57, 0, code, fid, s.HEADER_LEN + 56 if in_offset is None else in_offset,
                       len(data) if in_length is None else in_length, 0, 0, 0, max_out, 1, 0) + (data or b"\0")


def test_input_buffer_lies(server):
    """ksmbd class: input buffers of IOCTL (FSCTL_VALIDATE_NEGOTIATE_INFO with a DialectCount beyond its input),
    SET_INFO, QUERY_INFO and LOCK were read by the offsets and counts the client gave. Each lie is
    STATUS_INVALID_PARAMETER (or the class's length error) and the file is untouched."""
    validate = 0x00140204
    vni = struct.pack("<I16sHH", 0, b"g" * 16, 1, 1000) + struct.pack("<H", s.SMB3_0_2)
    with s.logged_on(server) as c:
        r, fid = c.create("inputs.bin")
        assert r.status == s.SUCCESS
        for body in (ioctl_body(s.FILE_ID_NONE, validate, vni), ioctl_body(s.FILE_ID_NONE, validate, vni[:10]),
                     ioctl_body(s.FILE_ID_NONE, validate, vni, in_length=5000),
                     ioctl_body(s.FILE_ID_NONE, validate, vni, in_offset=0),
                     ioctl_body(s.FILE_ID_NONE, validate, vni, in_offset=0xFFF0)):
            r = c.call(s.IOCTL, body)
            assert r.status == s.INVALID_PARAMETER, hex(r.status)
        basic = s.set_info_body(fid, 1, 4, b"\0" * 40)
        for body in (basic[:4] + struct.pack("<I", 5000) + basic[8:], basic[:8] + struct.pack("<H", 0) + basic[10:],
                     basic[:8] + struct.pack("<H", 0xFFF0) + basic[10:]):
            assert c.call(s.SET_INFO, body).status == s.INVALID_PARAMETER
        assert c.call(s.SET_INFO, s.set_info_body(fid, 1, 4, b"\0" * 10)).status == s.INFO_LENGTH_MISMATCH
        for offset, length in ((s.HEADER_LEN + 40, 5000), (0xFFFF, 8), (0, 8)):
            qi = struct.pack("<HBBIHHIII16s", 41, 1, 15, 4096, offset, 0, length, 0, 0, fid) + b"\0" * 8
            assert c.call(s.QUERY_INFO, qi).status == s.INVALID_PARAMETER, (offset, length)
        for count in (0, 2, 65535):
            body = struct.pack("<HHI16s", 48, count, 0, fid) + struct.pack("<QQII", 0, 1, 0x12, 0)
            assert c.call(s.LOCK, body).status == s.INVALID_PARAMETER, count
        assert c.write(fid, 0, b"fine").status == s.SUCCESS
    assert (server.share / "inputs.bin").read_bytes() == b"fine"
    s.still_serving(server)


def test_malformed_security_descriptor_set_then_query(server):
    """ksmbd class: a SET_INFO security descriptor whose owner/group/DACL offsets point outside the buffer was
    stored and then walked by the next QUERY_INFO. rsmbd decodes a descriptor completely before storing it:
    SET_INFO is refused with STATUS_INVALID_SECURITY_DESCR, nothing is stored, and QUERY_INFO still returns the
    well-formed descriptor synthesised from the file's owner and mode (owner S-1-22-1-uid at offset 20); the
    handle and connection keep working."""
    bad_sds = [
        struct.pack("<BBHIIII", 1, 0, 0x8004, 0xFFFF0, 0xFFFF0, 0, 0x14),
        struct.pack("<BBHIIII", 1, 0, 0x8004, 0, 0, 0, 0x14) + struct.pack("<BBHHH", 2, 0, 0xFFFF, 0xFFFF, 0),
        b"\x01",
    ]
    with s.logged_on(server) as c:
        r, fid = c.create("sd.txt")
        assert r.status == s.SUCCESS
        for sd in bad_sds:
            r = c.call(s.SET_INFO, s.set_info_body(fid, 3, 0, sd, additional=0x7))
            assert r.status == 0xC0000079, hex(r.status)  # STATUS_INVALID_SECURITY_DESCR
            r = c.call(s.QUERY_INFO, s.query_info_body(fid, 3, 0, out_len=65536, additional=0x7))
            assert r.status == s.SUCCESS, hex(r.status)
            sd = r.buffer("<HI", 2)
            assert sd[:4] == b"\x01\x00\x04\x80" and struct.unpack_from("<I", sd, 4)[0] == 20
            assert sd[20:24] == bytes([1, 2, 0, 0]) and sd[24:28] == b"\x00\x00\x00\x16"
            r = c.call(s.QUERY_INFO, s.query_info_body(fid, 3, 0, out_len=8, additional=0x7))
            assert r.status == 0xC0000023, hex(r.status)  # STATUS_BUFFER_TOO_SMALL, with the size needed
        assert c.write(fid, 0, b"ok").status == s.SUCCESS
    assert "security.NTACL" not in os.listxattr(server.share / "sd.txt")
    s.still_serving(server)


def ctx_chain(case):
    mxac = s.create_context(b"MxAc", b"")
    qfid = s.create_context(b"QFid", b"")
    if case == "next_loops_back":
        return _looping()
    if case == "next_inside_header":
        return s.create_context(b"MxAc", b"", next_offset=8) + mxac
    if case == "next_beyond":
        return s.create_context(b"MxAc", b"", next_offset=0x1000) + qfid
    if case == "next_misaligned":
        return s.create_context(b"MxAc", b"", next_offset=20) + b"\0" * 4 + qfid
    if case == "name_length_beyond":
        return s.create_context(b"MxAc", b"", name_length=0xFFFF)
    if case == "data_offset_zero":
        return s.create_context(b"AlSi", b"\0" * 8, data_offset=0)
    if case == "data_length_beyond":
        return s.create_context(b"AlSi", b"\0" * 8, data_length=0xFFFFFF)
    if case == "name_length_zero":
        return s.create_context(b"MxAc", b"", name_length=0)
    raise ValueError(case)


def _looping():
    """Two contexts where the second's Next points back before itself (a cycle if followed blindly)."""
    first = s.create_context(b"MxAc", b"", next_offset=24)
    first += b"\0" * (24 - len(first))
    second = struct.pack("<I", (-24) & 0xFFFFFFFF) + s.create_context(b"QFid", b"")[4:]
    return first + second


@pytest.mark.parametrize("case", ["next_loops_back", "next_inside_header", "next_beyond", "next_misaligned",
                                  "name_length_beyond", "data_offset_zero", "data_length_beyond",
                                  "name_length_zero"])
def test_create_context_chains(server, case):
    """ksmbd class: create-context chains were walked by their Next fields and length fields without bounds
    (loops, names and data outside the context). The CREATE fails with STATUS_INVALID_PARAMETER, quickly,
    and creates nothing."""
    with s.logged_on(server) as c:
        start = time.monotonic()
        r, _ = c.create(f"ctx-{case}.txt", disposition=s.FILE_CREATE, contexts=ctx_chain(case))
        assert r.status == s.INVALID_PARAMETER, hex(r.status)
        assert time.monotonic() - start < 5
        assert not (server.share / f"ctx-{case}.txt").exists()
        assert c.echo().status == s.SUCCESS
    s.still_serving(server)


def test_create_name_overlapping_contexts(server):
    """ksmbd class: the CREATE name and the create contexts were located independently, so a name running
    over the contexts (or past the PDU) was read out of bounds. Refused; nothing created."""
    ctx = s.create_context(b"MxAc", b"")
    name = "overlap.txt".encode("utf-16-le")
    name_off = s.HEADER_LEN + 56
    ctx_off = name_off + len(name) + (-len(name) % 8)
    with s.logged_on(server) as c:
        for nlen in (ctx_off - name_off + len(ctx), 0xFFFE, ctx_off - name_off + 8):
            body = s.create_body("overlap.txt", disposition=s.FILE_CREATE, contexts=ctx, name_length=nlen)
            r = c.call(s.CREATE, body)
            assert r.status in {s.INVALID_PARAMETER, s.OBJECT_NAME_INVALID}, (nlen, hex(r.status))
        body = s.create_body("overlap.txt", disposition=s.FILE_CREATE, contexts=ctx, ctx_offset=name_off)
        assert c.call(s.CREATE, body).status in {s.INVALID_PARAMETER, s.OBJECT_NAME_INVALID}
        body = s.create_body("overlap.txt", disposition=s.FILE_CREATE, name_offset=0xFFF0)
        assert c.call(s.CREATE, body).status == s.INVALID_PARAMETER
    assert list(server.share.iterdir()) == []
    s.still_serving(server)


def ea_entry(name, value, next_offset=0, name_len=None, value_len=None):
    return struct.pack("<IBBH", next_offset, 0, len(name) if name_len is None else name_len,
                       len(value) if value_len is None else value_len) + name + b"\0" + value


EA_CHAINS = {
    "next_inside_entry": ea_entry(b"a", b"x", next_offset=4) + ea_entry(b"b", b"y"),
    "next_backwards": ea_entry(b"aa", b"xy", next_offset=12) + ea_entry(b"b", b"x", next_offset=0xFFFFFFF4),
    "next_beyond": ea_entry(b"a", b"x", next_offset=0x10000),
    "name_length_beyond": ea_entry(b"a", b"x", name_len=200),
    "value_length_beyond": ea_entry(b"a", b"x", value_len=0xFFFF),
    "truncated": b"\0\0\0",
    "misaligned": ea_entry(b"a", b"x", next_offset=13) + b"\0" * 3 + ea_entry(b"b", b"y"),
    "missing_nul": ea_entry(b"a", b"x")[:9] + b"!x",
}


@pytest.mark.parametrize("case", sorted(EA_CHAINS))
def test_ea_chains(server, case):
    """ksmbd class: FILE_FULL_EA_INFORMATION lists were walked by NextEntryOffset without checking it stays
    inside the buffer (loops, entries past the end). SET_INFO FileFullEaInformation and the ExtA create
    context refuse such a list with STATUS_EA_LIST_INCONSISTENT, as Windows does; the CREATE leaves no file
    behind, the file keeps no EA and the server stays up."""
    data = EA_CHAINS[case]
    with s.logged_on(server) as c:
        r, fid = c.create(f"ea-{case}.txt")
        assert r.status == s.SUCCESS
        r = c.call(s.SET_INFO, s.set_info_body(fid, 1, 15, data))
        assert r.status == s.EA_LIST_INCONSISTENT, hex(r.status)
        start = time.monotonic()
        r, _ = c.create(f"ea-ctx-{case}.txt", disposition=s.FILE_CREATE, contexts=s.create_context(b"ExtA", data))
        assert r.status == s.EA_LIST_INCONSISTENT, hex(r.status)
        assert time.monotonic() - start < 5
        assert not (server.share / f"ea-ctx-{case}.txt").exists()
        assert c.call(s.QUERY_INFO, s.query_ea_body(fid)).status == s.NO_EAS_ON_FILE
        # The same chains as FILE_GET_EA_INFORMATION name lists of a query.
        r = c.call(s.QUERY_INFO, s.query_ea_body(fid, names=data))
        assert r.status in {s.EA_LIST_INCONSISTENT, s.INVALID_EA_NAME, s.SUCCESS}, hex(r.status)
        assert c.echo().status == s.SUCCESS
    s.still_serving(server)


def test_ea_private_names_counts_and_sizes(server):
    """EAs are `user.<name>` xattrs, so rsmbd's own `user.DOSATTRIB` (and Samba's stream and ACL attributes)
    must not be reachable through them: writing one is STATUS_ACCESS_DENIED (what Samba answers), reading one
    by name gives an empty value and listings leave it out. Names Windows forbids are STATUS_INVALID_EA_NAME,
    a list of thousands of entries or of values past 64 KiB in all is STATUS_EA_TOO_LARGE, and nothing of a
    refused list is applied."""
    with s.logged_on(server) as c:
        r, fid = c.create("private.txt")
        assert r.status == s.SUCCESS
        hidden = struct.pack("<QQQQII", 0, 0, 0, 0, 0x2, 0)
        assert c.call(s.SET_INFO, s.set_info_body(fid, 1, 4, hidden)).status == s.SUCCESS
        dosattrib = os.getxattr(server.share / "private.txt", "user.DOSATTRIB")
        for name in (b"DOSATTRIB", b"dosattrib", b"DosStream.evil:$DATA", b"DosStream.evil", b"SAMBA_PAI"):
            body = s.set_info_body(fid, 1, 15, s.full_ea([(b"innocent", b"1"), (name, b"forged")]))
            r = c.call(s.SET_INFO, body)
            expected = s.INVALID_EA_NAME if b":" in name else s.ACCESS_DENIED
            assert r.status == expected, (name, hex(r.status))
            r, _ = c.create(f"ctx-{name[:4].decode()}.txt", disposition=s.FILE_CREATE,
                            contexts=s.create_context(b"ExtA", s.full_ea([(name, b"forged")])))
            assert r.status == expected, (name, hex(r.status))
        r = c.call(s.QUERY_INFO, s.query_ea_body(fid, names=s.get_ea([b"DOSATTRIB"])))
        assert r.status == s.SUCCESS
        assert s.parse_full_ea(r.buffer("<HI", 2)) == [(b"DOSATTRIB", b"")]
        assert c.call(s.QUERY_INFO, s.query_ea_body(fid, flags=1)).status == s.NO_EAS_ON_FILE
        for name in (b"a*b", b"a\x01b", b"a\\b", b"a|b", b""):
            r = c.call(s.SET_INFO, s.set_info_body(fid, 1, 15, s.full_ea([(name, b"v")])))
            assert r.status == s.INVALID_EA_NAME, (name, hex(r.status))
        many = s.full_ea([(b"e%d" % i, b"x") for i in range(5000)])
        assert c.call(s.SET_INFO, s.set_info_body(fid, 1, 15, many)).status == s.EA_TOO_LARGE
        big = s.full_ea([(b"big1", b"v" * 40000), (b"big2", b"v" * 40000)])
        assert c.call(s.SET_INFO, s.set_info_body(fid, 1, 15, big)).status == s.EA_TOO_LARGE
        assert c.call(s.QUERY_INFO, s.query_ea_body(fid, flags=1)).status == s.NO_EAS_ON_FILE
        # A query whose output buffer is larger than the server allows is refused before any work.
        r = c.call(s.QUERY_INFO, s.query_ea_body(fid, out_len=0xFFFFFFFF))
        assert r.status == s.INVALID_PARAMETER, hex(r.status)
        assert c.echo().status == s.SUCCESS
    assert os.getxattr(server.share / "private.txt", "user.DOSATTRIB") == dosattrib
    assert [n for n in os.listxattr(server.share / "private.txt")] == ["user.DOSATTRIB"]
    s.still_serving(server)


@pytest.mark.parametrize("offset,length", [(2 ** 64 - 1, 3), (2 ** 64 - 2, 6), (2 ** 63, 3), (2 ** 63 - 2, 3),
                                           (2 ** 62, 3)])
def test_io_at_huge_offsets(server, offset, length):
    """ksmbd class: READ/WRITE offsets near u64::MAX, or offset + length overflowing, reached the file system as
    negative or wrapped positions. WRITE is STATUS_INVALID_PARAMETER and writes nothing; READ is
    STATUS_INVALID_PARAMETER (or END_OF_FILE for a representable offset past the end)."""
    with s.logged_on(server) as c:
        r, fid = c.create("huge.bin")
        assert r.status == s.SUCCESS
        assert c.write(fid, 0, b"base").status == s.SUCCESS
        r = c.write(fid, offset, b"W" * length)
        assert r.status == s.INVALID_PARAMETER, hex(r.status)
        r = c.read(fid, offset, 4096)
        assert r.status in {s.INVALID_PARAMETER, s.END_OF_FILE}, hex(r.status)
        if offset >= 2 ** 63:
            assert r.status == s.INVALID_PARAMETER
        # The same through a named stream (an extended attribute of at most 64 KiB): refused, nothing written.
        r, sid = c.create("huge.bin:stream")
        assert r.status == s.SUCCESS, hex(r.status)
        r = c.write(sid, offset, b"W" * length)
        assert r.status in {s.INVALID_PARAMETER, 0xC000007F}, hex(r.status)  # DISK_FULL below 2**63
        r = c.read(sid, offset, 4096)
        assert r.status in {s.INVALID_PARAMETER, s.END_OF_FILE}, hex(r.status)
    st = (server.share / "huge.bin").stat()
    assert st.st_size == 4 and st.st_blocks <= 16
    assert os.getxattr(server.share / "huge.bin", "user.DosStream.stream:$DATA") == b"\0"
    s.still_serving(server)


def test_zero_length_lock_at_end_of_range(server):
    """ksmbd class: lock ranges were compared with offset + length computed without overflow checks, so a
    range at the very end of the 64-bit space (or wrapping past it) corrupted the lock list. Zero-length and
    one-byte locks ending exactly at u64::MAX are valid; wrapping ranges are STATUS_INVALID_LOCK_RANGE."""
    top = 2 ** 64 - 1
    excl_now = 0x2 | 0x10
    with s.logged_on(server) as c:
        r, fid = c.create("locks.bin")
        assert r.status == s.SUCCESS
        r2, fid2 = c.create("locks.bin")
        assert r2.status == s.SUCCESS
        for lock in ((top, 0), (top, 1), (top - 5, 5)):
            assert c.call(s.LOCK, s.lock_body(fid, [(*lock, excl_now)])).status == s.SUCCESS, lock
        assert c.call(s.LOCK, s.lock_body(fid2, [(top, 1, excl_now)])).status == s.LOCK_NOT_GRANTED
        for lock in ((top, 2), (2, top), (top, top), (2 ** 63, 2 ** 63 + 1)):
            r = c.call(s.LOCK, s.lock_body(fid, [(*lock, excl_now)]))
            assert r.status == s.INVALID_LOCK_RANGE, (lock, hex(r.status))
        for lock in ((top, 0), (top, 1), (top - 5, 5)):
            assert c.call(s.LOCK, s.lock_body(fid, [(*lock, 0x4)])).status == s.SUCCESS, lock
        assert c.call(s.LOCK, s.lock_body(fid, [(top, 0, 0x4)])).status == 0xC000007E
        assert c.call(s.LOCK, s.lock_body(fid2, [(top, 1, excl_now)])).status == s.SUCCESS
    s.still_serving(server)


def test_query_directory_patterns(server):
    """ksmbd class: QUERY_DIRECTORY patterns were matched with unbounded work and unchecked lengths. A pattern
    matching nothing is STATUS_NO_SUCH_FILE on the first call and STATUS_NO_MORE_FILES after (MS-FSA
    2.1.5.6.3); an absurdly long pattern and a pathological
    wildcard pattern are answered quickly with an error."""
    (server.share / ("a" * 200)).write_text("x")
    with s.logged_on(server) as c:
        r, d = c.create("", access=s.GENERIC_READ, disposition=s.FILE_OPEN, options=s.DIRECTORY_FILE)
        assert r.status == s.SUCCESS
        r = c.call(s.QUERY_DIRECTORY, s.query_directory_body(d, "nothing-here*.zz"))
        assert r.status == s.NO_SUCH_FILE, hex(r.status)
        r = c.call(s.QUERY_DIRECTORY, s.query_directory_body(d, "nothing-here*.zz"))
        assert r.status == s.NO_MORE_FILES, hex(r.status)
        for pattern in ("x" * 32000, "*a" * 4000 + "b", "?" * 30000, "<" * 5000 + "\"b"):
            start = time.monotonic()
            r = c.call(s.QUERY_DIRECTORY, s.query_directory_body(d, pattern, flags=0x1))
            assert r.status in {s.NO_SUCH_FILE, s.OBJECT_NAME_INVALID, s.INVALID_PARAMETER}, hex(r.status)
            assert time.monotonic() - start < 3
        # Pattern length beyond the PDU.
        body = s.query_directory_body(d, "abc", flags=0x1)
        body = body[:26] + struct.pack("<H", 0xFFF0) + body[28:]
        assert c.call(s.QUERY_DIRECTORY, body).status == s.INVALID_PARAMETER
        r = c.call(s.QUERY_DIRECTORY, s.query_directory_body(d, "*", flags=0x1))
        assert r.status == s.SUCCESS
    s.still_serving(server)


def test_pipe_opens_are_bounded(server):
    """ksmbd class: unbounded allocation from one connection. Pipe handles hold buffered RPC data, so a
    connection may hold 32 of them; the 33rd CREATE is STATUS_INSUFFICIENT_RESOURCES, and closing one makes
    room again."""
    with s.logged_on(server) as c:
        assert c.tree_connect(f"\\\\{server.host}\\IPC$").status == s.SUCCESS
        pipes = []
        for _ in range(32):
            r, fid = c.create("srvsvc", access=0x12019F)
            assert r.status == s.SUCCESS, hex(r.status)
            pipes.append(fid)
        assert c.create("lsarpc", access=0x12019F)[0].status == s.INSUFFICIENT_RESOURCES
        assert c.close_file(pipes.pop()).status == s.SUCCESS
        assert c.create("lsarpc", access=0x12019F)[0].status == s.SUCCESS
    s.still_serving(server)
