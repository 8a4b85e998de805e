"""8.3 short names: a directory listing (FileIdBothDirectoryInformation) shows the same generated short name as
FileAlternateNameInformation for a long name, and none for a name that already is an 8.3 name (Windows and Samba
leave the field empty then)."""

import struct

import smb2raw as s

FILE_ID_BOTH_DIRECTORY_INFORMATION = 0x25
FILE_ALTERNATE_NAME_INFORMATION = 21


def listing(c, fid):
    r = c.call(s.QUERY_DIRECTORY, s.query_directory_body(fid, "*", FILE_ID_BOTH_DIRECTORY_INFORMATION))
    assert r.status == s.SUCCESS, hex(r.status)
    offset, length = struct.unpack_from("<HI", r.body, 2)
    buf, pos, out = r.body[offset - s.HEADER_LEN:][:length], 0, {}
    while True:
        nxt, name_len = struct.unpack_from("<I", buf, pos)[0], struct.unpack_from("<I", buf, pos + 60)[0]
        short_len = buf[pos + 68]
        short = buf[pos + 70:pos + 70 + short_len].decode("utf-16-le")
        out[buf[pos + 104:pos + 104 + name_len].decode("utf-16-le")] = short
        if nxt == 0:
            return out
        pos += nxt


def alternate_name(c, name):
    r, fid = c.create(name, disposition=s.FILE_OPEN)
    assert r.status == s.SUCCESS, hex(r.status)
    q = c.call(s.QUERY_INFO, s.query_info_body(fid, 1, FILE_ALTERNATE_NAME_INFORMATION))
    assert q.status == s.SUCCESS, hex(q.status)
    length = struct.unpack_from("<I", q.body, 8)[0]
    c.close_file(fid)
    return q.body[12:12 + length].decode("utf-16-le")


def test_listing_and_alternate_name_agree(server):
    for name in ("Long File Name.txt", "README.TXT", "notes.md"):
        (server.share / name).write_text(name)
    with s.logged_on(server) as c:
        r, dir_fid = c.create("", options=s.DIRECTORY_FILE, disposition=s.FILE_OPEN)
        assert r.status == s.SUCCESS, hex(r.status)
        shown = listing(c, dir_fid)
        long_short = alternate_name(c, "Long File Name.txt")
        assert long_short.startswith("LONGF~") and long_short.endswith(".TXT"), long_short
        assert shown["Long File Name.txt"] == long_short
        assert (shown["README.TXT"], shown["notes.md"]) == ("", "")
        assert alternate_name(c, "notes.md") == "NOTES.MD"
