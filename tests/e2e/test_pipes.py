"""Named pipes and DCE/RPC on IPC$: share listing and server information for smbclient and rpcclient."""

import struct
import subprocess

import smb2raw as s
from rsmbd_server import RsmbdServer

EXTRA_SHARES = """
[visible]
path = {root}/visible
comment = A visible share
read only = yes
[hidden]
path = {root}/hidden
comment = Not listed
browseable = no
[sealed]
path = {root}/visible
comment = Encrypted only
smb encrypt = required
"""


def run(args):
    return subprocess.run(args, capture_output=True, text=True, timeout=60, errors="replace")


def listing_server(tmp_path_factory, extra_global=""):
    root = tmp_path_factory.mktemp("pipes")
    (root / "visible").mkdir()
    (root / "hidden").mkdir()
    return RsmbdServer(extra_share=EXTRA_SHARES.format(root=root), extra_global=extra_global,
                       tmp_root=tmp_path_factory.getbasetemp())


def test_smbclient_lists_shares(tmp_path_factory):
    with listing_server(tmp_path_factory) as srv:
        res = run(["smbclient", "-L", f"//{srv.host}", "-p", str(srv.port), "-U", f"{srv.user}%{srv.password}"])
        out = res.stdout + res.stderr
        assert res.returncode == 0, out
        assert "visible" in out and "A visible share" in out
        assert srv.share_name in out
        assert "IPC$" in out
        assert "hidden" not in out
        assert "sealed" in out, "an SMB3 session can encrypt, so it sees the encrypted share"
        res = run(["smbclient", "-L", f"//{srv.host}", "-p", str(srv.port), "-m", "SMB2_10",
                   "-U", f"{srv.user}%{srv.password}"])
        out = res.stdout + res.stderr
        assert res.returncode == 0 and "visible" in out and "sealed" not in out, out


def rpcclient(srv, command):
    args = ["rpcclient", "-p", str(srv.port), "-U", f"{srv.user}%{srv.password}", srv.host, "-c", command]
    res = run(args)
    return res.returncode, res.stdout + res.stderr


def test_rpcclient_srvsvc_and_wkssvc(tmp_path_factory):
    with listing_server(tmp_path_factory) as srv:
        code, out = rpcclient(srv, "srvinfo")
        assert code == 0, out
        assert "platform_id" in out and "10.0" in out, out
        code, out = rpcclient(srv, "netshareenumall")
        assert code == 0 and "netname: visible" in out and "remark:\tA visible share" in out, out
        assert "hidden" not in out
        # NetrShareEnumSticky: the configured shares, without IPC$.
        code, out = rpcclient(srv, "netshareenum 1")
        assert code == 0 and "netname: visible" in out and "IPC$" not in out, out
        code, out = rpcclient(srv, "netsharegetinfo visible")
        assert code == 0 and "netname: visible" in out, out
        code, out = rpcclient(srv, "netsharegetinfo nosuchshare")
        assert "WERR_NET_NAME_NOT_FOUND" in out or code != 0, out
        code, out = rpcclient(srv, "wkssvc_wkstagetinfo")
        assert code == 0, out


def test_rpcclient_lsarpc_and_samr(tmp_path_factory):
    with listing_server(tmp_path_factory) as srv:
        code, out = rpcclient(srv, "lsaquery")
        assert code == 0 and "Domain Name:" in out, out
        code, out = rpcclient(srv, f"lookupnames {srv.user}")
        assert code == 0 and "S-1-5-21-" in out and "(User: 1)" in out, out
        sid = next(w for w in out.split() if w.startswith("S-1-5-21-"))
        code, out = rpcclient(srv, f"lookupsids {sid}")
        assert code == 0 and f"\\{srv.user} (1)" in out, out
        code, out = rpcclient(srv, "enumdomusers")
        assert code == 0 and f"user:[{srv.user}]" in out, out
        # The machine SID is stable across restarts: it is stored beside the password database.
        assert (srv.tmp / "domain_sid").read_text().strip() == sid.rsplit("-", 1)[0]


def test_impacket_srvsvc_and_lsat(tmp_path_factory):
    from impacket.dcerpc.v5 import lsad, lsat, srvs, transport
    from impacket.dcerpc.v5.dtypes import MAXIMUM_ALLOWED

    # impacket 0.13.1's create() fails on a server that offers directory leasing (see README).
    with listing_server(tmp_path_factory, "smb3 directory leases = no") as srv:

        def bound(pipe, uuid):
            t = transport.SMBTransport(srv.host, srv.port, filename=pipe, username=srv.user, password=srv.password)
            dce = t.get_dce_rpc()
            dce.connect()
            dce.bind(uuid)
            return dce

        dce = bound(r"\srvsvc", srvs.MSRPC_UUID_SRVS)
        shares = srvs.hNetrShareEnum(dce, 1)["InfoStruct"]["ShareInfo"]["Level1"]["Buffer"]
        names = [s["shi1_netname"][:-1] for s in shares]
        assert "visible" in names and "IPC$" in names and "hidden" not in names
        dce = bound(r"\lsarpc", lsat.MSRPC_UUID_LSAT)
        policy = lsad.hLsarOpenPolicy2(dce, MAXIMUM_ALLOWED | lsat.POLICY_LOOKUP_NAMES)["PolicyHandle"]
        sids = lsat.hLsarLookupNames(dce, policy, (srv.user,))["TranslatedSids"]["Sids"]
        assert sids[0]["Use"] == 1  # SidTypeUser


SRVSVC = "4b324fc8-1670-01d3-1278-5a47bf6ee188"
NDR = "8a885d04-1ceb-11c9-9fe8-08002b104860"
PIPE_BROKEN = 0xC000014B


def bind_pdu():
    """A DCE/RPC bind to srvsvc 3.0 with the NDR transfer syntax (C706 12.6.4.3)."""
    import uuid

    context = (struct.pack("<HBB", 0, 1, 0) + uuid.UUID(SRVSVC).bytes_le + struct.pack("<HH", 3, 0)
               + uuid.UUID(NDR).bytes_le + struct.pack("<I", 2))
    body = struct.pack("<HHIB3s", 4280, 4280, 0, 1, b"\0\0\0") + context
    return struct.pack("<BBBB4sHHI", 5, 0, 11, 3, b"\x10\0\0\0", 16 + len(body), 0, 1) + body


def test_a_read_on_an_empty_pipe_waits_for_the_reply(server):
    """A READ before its WRITE (clients pipeline several RPC calls) goes async and completes with the reply
    the WRITE queues; a READ still waiting when the handle closes gets STATUS_PIPE_BROKEN."""
    with s.logged_on(server, share="IPC$") as c:
        r, fid = c.create("srvsvc", access=0x0012019F, disposition=s.FILE_OPEN)
        assert r.status == s.SUCCESS, hex(r.status)
        c.send(c.pdu(s.READ, s.read_body(fid, 0, 4280)))
        interim = c.recv(skip_pending=False)
        assert interim[0].status == s.PENDING and interim[0].flags & s.FLAG_ASYNC
        c.send(c.pdu(s.WRITE, s.write_body(fid, 0, bind_pdu())))
        done = {r.command: r for r in c.recv() + c.recv()}
        assert done[s.WRITE].status == s.SUCCESS
        assert done[s.READ].status == s.SUCCESS and done[s.READ].body[16:19] == b"\x05\x00\x0c"  # bind_ack
        c.send(c.pdu(s.READ, s.read_body(fid, 0, 4280)))
        assert c.recv(skip_pending=False)[0].status == s.PENDING
        c.send(c.pdu(s.CLOSE, struct.pack("<HHI16s", 24, 0, 0, fid)))
        done = {r.command: r.status for r in c.recv() + c.recv()}
        assert done == {s.READ: PIPE_BROKEN, s.CLOSE: s.SUCCESS}
