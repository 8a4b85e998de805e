"""Streams move between rsmbd and Samba: a directory written through rsmbd, copied with its extended attributes,
is served by a private Samba smbd (`vfs objects = streams_xattr`, the `samba` fixture of test_ea_interop.py) with
the same streams, and the reverse, all read through Python smbprotocol."""


import smbclient

from test_ea_interop import SAMBA_PASSWORD, samba, session  # noqa: F401 (samba is a fixture)
from samba_server import copy_with_xattrs

STREAMS = {
    "Zone.Identifier": b"[ZoneTransfer]\r\nZoneId=3\r\n",
    "AFP_AfpInfo": bytes(range(60)),
    "empty": b"",
}


def write_streams(unc, kw):
    with smbclient.open_file(unc, "wb", **kw) as f:
        f.write(b"file data")
    for name, data in STREAMS.items():
        with smbclient.open_file(f"{unc}:{name}", "wb", **kw) as f:
            f.write(data)


def list_streams(unc, kw):
    """The stream names of `unc` through FileStreamInformation."""
    from smbprotocol.file_info import FileStreamInformation
    from smbprotocol.open import CreateOptions, FilePipePrinterAccessMask

    with smbclient._io.SMBRawIO(unc, mode="rb", share_access="rwd",
                                desired_access=FilePipePrinterAccessMask.FILE_READ_ATTRIBUTES,
                                create_options=CreateOptions.FILE_NON_DIRECTORY_FILE, **kw) as fd:
        with smbclient._io.SMBFileTransaction(fd) as transaction:
            smbclient._io.query_info(transaction, FileStreamInformation, output_buffer_length=65536)
    return sorted(i["stream_name"].get_value() for i in transaction.results[0])


def check_same(unc, kw):
    expected = sorted(["::$DATA"] + [f":{n}:$DATA" for n in STREAMS])
    assert list_streams(unc, kw) == expected
    for name, data in STREAMS.items():
        with smbclient.open_file(f"{unc}:{name}", "rb", **kw) as f:
            assert f.read() == data, name
    with smbclient.open_file(unc, "rb", **kw) as f:
        assert f.read() == b"file data"


def test_rsmbd_streams_read_by_samba(server, samba):
    port, samba_share, user = samba
    kw = session(server.host, server.port, server.user, server.password)
    write_streams(f"\\\\{server.host}\\{server.share_name}\\doc.txt", kw)
    smbclient.reset_connection_cache(connection_cache=kw["connection_cache"])
    copy_with_xattrs(server.share / "doc.txt", samba_share)

    skw = session("127.0.0.1", port, user, SAMBA_PASSWORD)
    check_same("\\\\127.0.0.1\\data\\doc.txt", skw)
    smbclient.reset_connection_cache(connection_cache=skw["connection_cache"])


def test_samba_streams_read_by_rsmbd(server, samba):
    port, samba_share, user = samba
    skw = session("127.0.0.1", port, user, SAMBA_PASSWORD)
    write_streams("\\\\127.0.0.1\\data\\from-samba.txt", skw)
    smbclient.reset_connection_cache(connection_cache=skw["connection_cache"])
    copy_with_xattrs(samba_share / "from-samba.txt", server.share)

    kw = session(server.host, server.port, server.user, server.password)
    check_same(f"\\\\{server.host}\\{server.share_name}\\from-samba.txt", kw)
    smbclient.reset_connection_cache(connection_cache=kw["connection_cache"])
