"""The NTFS quota index name `$Extend\\$Quota:$Q:$INDEX_ALLOCATION`, which Windows' quota tools open: it opens
for reading as the share's root shown as the system index (hidden, system, directory, archive, no timestamps),
is never created, written or given write access, creates nothing on disk, and a quota query on it gets
STATUS_NOT_SUPPORTED because rsmbd keeps no user quotas (MS-SMB2 3.3.5.20.4)."""

import struct

import smb2raw as s

NAME = "$Extend\\$Quota:$Q:$INDEX_ALLOCATION"
FILE_GENERIC_READ = 0x00120089
INFO_QUOTA = 4
FILE_ACCESS_INFORMATION = 8
HIDDEN_SYSTEM_DIRECTORY_ARCHIVE = 0x2 | 0x4 | 0x10 | 0x20


def test_quota_index_opens_for_reading(server):
    with s.logged_on(server) as c:
        r, fid = c.create(NAME.upper(), access=FILE_GENERIC_READ, disposition=s.FILE_OPEN)
        assert r.status == s.SUCCESS, hex(r.status)
        times = struct.unpack_from("<QQQQ", r.body, 8)
        attributes = struct.unpack_from("<I", r.body, 56)[0]
        assert (times, attributes) == ((0, 0, 0, 0), HIDDEN_SYSTEM_DIRECTORY_ARCHIVE)
        q = c.call(s.QUERY_INFO, s.query_info_body(fid, INFO_QUOTA, 0x20))
        assert q.status == s.NOT_SUPPORTED, hex(q.status)
        assert c.close_file(fid).status == s.SUCCESS


def test_quota_index_is_never_written(server):
    with s.logged_on(server) as c:
        for access, disposition, expected in ((s.GENERIC_ALL, s.FILE_OPEN, s.ACCESS_DENIED),
                                              (FILE_GENERIC_READ, s.FILE_CREATE, s.OBJECT_NAME_COLLISION),
                                              (FILE_GENERIC_READ, s.FILE_OVERWRITE_IF, s.ACCESS_DENIED)):
            r, _ = c.create(NAME, access=access, disposition=disposition)
            assert r.status == expected, (hex(access), disposition, hex(r.status))
        # MAXIMUM_ALLOWED gets the reading part only (FileAccessInformation tells the granted access).
        r, fid = c.create(NAME, access=0x02000000, disposition=s.FILE_OPEN)
        assert r.status == s.SUCCESS, hex(r.status)
        q = c.call(s.QUERY_INFO, s.query_info_body(fid, 1, FILE_ACCESS_INFORMATION))
        assert q.status == s.SUCCESS, hex(q.status)
        assert struct.unpack_from("<I", q.body, 8)[0] == FILE_GENERIC_READ
    assert sorted(p.name for p in server.share.iterdir()) == []
