"""FSCTL_QUERY_NETWORK_INTERFACE_INFO through Python smbprotocol's low-level API, for
test_multichannel_interfaces.py. Run as a script (inside a network namespace) it starts an rsmbd listening on
every address and prints what the server reports as JSON.
"""

import ipaddress
import json
import sys
import uuid
from pathlib import Path

from smbprotocol.connection import Connection, Dialects
from smbprotocol.ioctl import CtlCode, IOCTLFlags, SMB2IOCTLRequest, SMB2IOCTLResponse, SMB2NetworkInterfaceInfo
from smbprotocol.session import Session
from smbprotocol.tree import TreeConnect

sys.path.insert(0, str(Path(__file__).resolve().parent))

from rsmbd_server import RsmbdServer  # noqa: E402


def query(host, port, user, password, share):
    """[{index, capability, speed, ip}] as the server answers the FSCTL."""
    conn = Connection(uuid.uuid4(), host, port)
    conn.connect(dialect=Dialects.SMB_3_1_1, timeout=20)
    try:
        session = Session(conn, user, password, require_encryption=False)
        session.connect()
        tree = TreeConnect(session, rf"\\{host}\{share}")
        tree.connect()
        req = SMB2IOCTLRequest()
        req["ctl_code"] = CtlCode.FSCTL_QUERY_NETWORK_INTERFACE_INFO
        req["file_id"] = b"\xff" * 16
        req["max_output_response"] = 65536
        req["flags"] = IOCTLFlags.SMB2_0_IOCTL_IS_FSCTL
        msg = conn.send(req, sid=session.session_id, tid=tree.tree_connect_id)
        resp = conn.receive(msg)
        ioctl = SMB2IOCTLResponse()
        ioctl.unpack(resp["data"].get_value())
        out = []
        for info in SMB2NetworkInterfaceInfo.unpack_multiple(ioctl["buffer"].get_value()):
            addr = info["sock_addr_storage"].get_value()["buffer"].get_value()
            out.append({
                "index": info["if_index"].get_value(),
                "capability": int(info["capability"].get_value()),
                "speed": info["link_speed"].get_value(),
                "ip": str(ipaddress.ip_address(addr.get_ipaddress())),
            })
        return out
    finally:
        conn.disconnect()


if __name__ == "__main__":
    with RsmbdServer(extra_global="bind interfaces only = no") as srv:
        print(json.dumps(query(srv.host, srv.port, srv.user, srv.password, srv.share_name)))
