"""Raw SMB2 over a plain socket for the hostile-input tests: build PDUs with `struct` (NetBIOS session header,
64-byte SMB2 header, command body), send them alone or as compound chains, parse the responses (status, command,
ids, credits, body), and log on with NTLMv2 (impacket's NTLM helpers wrapped in SPNEGO) on an unsigned
SMB 2.1/3.0.2 session. Also: process memory (VmRSS) and a "still serving" probe."""

import socket
import struct
import time
from dataclasses import dataclass

from impacket import ntlm
from impacket.spnego import SPNEGO_NegTokenInit, SPNEGO_NegTokenResp, TypesMech

HEADER = struct.Struct("<4sHHIHHIIQIIQ16s")
PROTOCOL_ID = b"\xfeSMB"
HEADER_LEN = 64

(NEGOTIATE, SESSION_SETUP, LOGOFF, TREE_CONNECT, TREE_DISCONNECT, CREATE, CLOSE, FLUSH, READ, WRITE, LOCK, IOCTL,
 CANCEL, ECHO, QUERY_DIRECTORY, CHANGE_NOTIFY, QUERY_INFO, SET_INFO) = range(18)

FLAG_RESPONSE = 0x1
FLAG_ASYNC = 0x2
FLAG_RELATED = 0x4

SMB2_1, SMB3_0_2, SMB3_1_1 = 0x0210, 0x0302, 0x0311

# NTSTATUS values the tests compare against.
SUCCESS = 0
PENDING = 0x103
BUFFER_OVERFLOW = 0x80000005
NO_MORE_FILES = 0x80000006
INVALID_EA_NAME = 0x80000013
EA_LIST_INCONSISTENT = 0x80000014
BUFFER_TOO_SMALL = 0xC0000023
EAS_NOT_SUPPORTED = 0xC000004F
EA_TOO_LARGE = 0xC0000050
NONEXISTENT_EA_ENTRY = 0xC0000051
NO_EAS_ON_FILE = 0xC0000052
INVALID_INFO_CLASS = 0xC0000003
INFO_LENGTH_MISMATCH = 0xC0000004
INVALID_HANDLE = 0xC0000008
INVALID_PARAMETER = 0xC000000D
NO_SUCH_FILE = 0xC000000F
END_OF_FILE = 0xC0000011
MORE_PROCESSING_REQUIRED = 0xC0000016
ACCESS_DENIED = 0xC0000022
OBJECT_NAME_INVALID = 0xC0000033
OBJECT_NAME_NOT_FOUND = 0xC0000034
OBJECT_NAME_COLLISION = 0xC0000035
OBJECT_PATH_NOT_FOUND = 0xC000003A
OBJECT_PATH_SYNTAX_BAD = 0xC000003B
EA_CORRUPT_ERROR = 0xC0000053
LOCK_NOT_GRANTED = 0xC0000055
SHARING_VIOLATION = 0xC0000043
LOGON_FAILURE = 0xC000006D
INSUFFICIENT_RESOURCES = 0xC000009A
INVALID_SECURITY_DESCR = 0xC0000079
NOT_SUPPORTED = 0xC00000BB
NETWORK_NAME_DELETED = 0xC00000C9
BAD_NETWORK_NAME = 0xC00000CC
REQUEST_NOT_ACCEPTED = 0xC00000D0
INVALID_OPLOCK_PROTOCOL = 0xC00000E3
UNSUCCESSFUL = 0xC0000001
NOT_SAME_DEVICE = 0xC00000D4
CANCELLED = 0xC0000120
FILE_CLOSED = 0xC0000128
INVALID_LOCK_RANGE = 0xC00001A1
USER_SESSION_DELETED = 0xC0000203

# CREATE values.
GENERIC_ALL = 0x10000000
GENERIC_READ = 0x80000000
FILE_READ_DATA, FILE_WRITE_DATA, DELETE = 0x1, 0x2, 0x10000
SHARE_ALL = 0x7
FILE_OPEN, FILE_CREATE, FILE_OPEN_IF, FILE_OVERWRITE_IF = 1, 2, 3, 5
DIRECTORY_FILE, NON_DIRECTORY_FILE = 0x1, 0x40

FILE_ID_NONE = b"\xff" * 16


@dataclass
class Response:
    status: int
    command: int
    flags: int
    credits: int
    message_id: int
    async_id: int
    tree_id: int
    session_id: int
    body: bytes
    pdu: bytes

    def field(self, fmt, offset):
        """Unpack `fmt` at `offset` in the body."""
        return struct.unpack_from(fmt, self.body, offset)

    def buffer(self, off_fmt, at):
        """A (offset from the header, length) pair at body offset `at`, resolved to bytes."""
        off, length = struct.unpack_from(off_fmt, self.body, at)
        return self.pdu[off:off + length]


def header(command, message_id, session_id=0, tree_id=0, flags=0, credits=64, credit_charge=1, next_command=0,
           protocol=PROTOCOL_ID, structure_size=HEADER_LEN, status=0):
    return HEADER.pack(protocol, structure_size, credit_charge, status, command, credits, flags, next_command,
                       message_id, 0xFEFF, tree_id, session_id, b"\0" * 16)


def netbios(payload, length=None):
    n = len(payload) if length is None else length
    return struct.pack(">I", n & 0xFFFFFF) + payload


def parse_pdus(frame):
    """Split one response frame into Responses (following NextCommand)."""
    out, pos = [], 0
    while True:
        pdu_all = frame[pos:]
        (_, _, _, status, command, credits, flags, nxt, mid, reserved, tree_id, session_id, _) = \
            HEADER.unpack_from(pdu_all)
        async_id = 0
        if flags & FLAG_ASYNC:
            async_id = struct.unpack_from("<Q", pdu_all, 32)[0]
            tree_id = 0
        pdu = pdu_all[:nxt] if nxt else pdu_all
        out.append(Response(status, command, flags, credits, mid, async_id, tree_id, session_id,
                            pdu[HEADER_LEN:], pdu))
        if not nxt:
            return out
        pos += nxt


class Client:
    """One TCP connection speaking raw SMB2. Tracks MessageIds, session and tree ids."""

    def __init__(self, host, port, timeout=5.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.settimeout(timeout)
        self.mid = 0
        self.session_id = 0
        self.tree_id = 0
        self.dialect = None

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- framing -------------------------------------------------------------------------------------------

    def send_raw(self, data):
        self.sock.sendall(data)

    def recv_exact(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise ConnectionError("connection closed by the server")
            buf += chunk
        return buf

    def recv_frame(self):
        length = struct.unpack(">I", self.recv_exact(4))[0] & 0xFFFFFF
        return self.recv_exact(length)

    def recv(self, skip_pending=True):
        """The next response frame's PDUs; interim STATUS_PENDING responses are skipped unless asked for."""
        while True:
            pdus = parse_pdus(self.recv_frame())
            if skip_pending and len(pdus) == 1 and pdus[0].status == PENDING and pdus[0].flags & FLAG_ASYNC:
                continue
            return pdus

    def closed_by_server(self, timeout=5.0):
        """True if the server closes the connection (EOF or reset) within `timeout`; responses are discarded."""
        self.sock.settimeout(timeout)
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                if not self.sock.recv(65536):
                    return True
        except ConnectionError:
            return True
        except socket.timeout:
            return False
        return False

    def next_mid(self, charge=1):
        mid = self.mid
        self.mid += max(charge, 1)
        return mid

    def pdu(self, command, body, session_id=None, tree_id=None, flags=0, credits=64, credit_charge=1, mid=None):
        """One request PDU (header + body) with the connection's ids unless given."""
        mid = self.next_mid(credit_charge) if mid is None else mid
        sid = self.session_id if session_id is None else session_id
        tid = self.tree_id if tree_id is None else tree_id
        return header(command, mid, sid, tid, flags, credits, credit_charge) + body

    def compound(self, pdus):
        """Chain PDUs: pad each but the last to 8 bytes and set its NextCommand. Returns the frame payload."""
        out = b""
        for i, p in enumerate(pdus):
            if i < len(pdus) - 1:
                p = p + b"\0" * (-len(p) % 8)
                p = p[:20] + struct.pack("<I", len(p)) + p[24:]
            out += p
        return out

    def send(self, payload):
        self.send_raw(netbios(payload))

    def call(self, command, body, **kw):
        """Send one request and return its (final) response."""
        self.send(self.pdu(command, body, **kw))
        return self.recv()[0]

    # -- commands ------------------------------------------------------------------------------------------

    def negotiate(self, dialects=(SMB2_1, SMB3_0_2), security_mode=1, client_guid=b"rsmbd-hostile-ts"):
        body = struct.pack("<HHHHI16sIHH", 36, len(dialects), security_mode, 0, 0, client_guid, 0, 0, 0)
        body += b"".join(struct.pack("<H", d) for d in dialects)
        r = self.call(NEGOTIATE, body, session_id=0, tree_id=0, credit_charge=0)
        if r.status == SUCCESS:
            self.dialect = r.field("<H", 4)[0]
        return r

    def session_setup(self, token, session_id=None, **kw):
        body = struct.pack("<HBBIIHHQ", 25, 0, 1, 0, 0, HEADER_LEN + 24, len(token), 0) + token
        return self.call(SESSION_SETUP, body, session_id=session_id, **kw)

    def login(self, user, password, domain=""):
        """NTLMv2 through SPNEGO; returns the final response and sets session_id on success."""
        type1 = ntlm.getNTLMSSPType1("", "", signingRequired=False, use_ntlmv2=True)
        r = self.session_setup(spnego_init(type1.getData()), session_id=0)
        if r.status != MORE_PROCESSING_REQUIRED:
            return r
        type3, _ = ntlm.getNTLMSSPType3(type1, spnego_inner(r), user, password, domain, use_ntlmv2=True)
        r = self.session_setup(spnego_resp(type3.getData()), session_id=r.session_id)
        if r.status == SUCCESS:
            self.session_id = r.session_id
        return r

    def challenge(self):
        """Round one of a logon: returns (type1, response) with the server's challenge in the response."""
        type1 = ntlm.getNTLMSSPType1("", "", signingRequired=False, use_ntlmv2=True)
        return type1, self.session_setup(spnego_init(type1.getData()), session_id=0)

    def tree_connect(self, unc):
        r = self.call(TREE_CONNECT, tree_connect_body(unc), tree_id=0)
        if r.status == SUCCESS:
            self.tree_id = r.tree_id
        return r

    def create(self, name, access=GENERIC_ALL, disposition=FILE_OPEN_IF, options=0, contexts=b"", oplock=0,
               share=SHARE_ALL, **kw):
        r = self.call(CREATE, create_body(name, access, disposition, options, contexts, oplock=oplock, share=share),
                      **kw)
        return r, (r.body[64:80] if r.status == SUCCESS else None)

    def close_file(self, fid):
        return self.call(CLOSE, struct.pack("<HHI16s", 24, 0, 0, fid))

    def write(self, fid, offset, data):
        return self.call(WRITE, write_body(fid, offset, data))

    def read(self, fid, offset, length):
        return self.call(READ, read_body(fid, offset, length))

    def echo(self):
        return self.call(ECHO, struct.pack("<HH", 4, 0), session_id=0, tree_id=0)


# -- bodies -------------------------------------------------------------------------------------------------


def tree_connect_body(unc):
    path = unc.encode("utf-16-le")
    return struct.pack("<HHHH", 9, 0, HEADER_LEN + 8, len(path)) + path


def create_body(name, access=GENERIC_ALL, disposition=FILE_OPEN_IF, options=0, contexts=b"", name_offset=None,
                name_length=None, ctx_offset=None, ctx_length=None, oplock=0, share=SHARE_ALL):
    raw = name.encode("utf-16-le") if isinstance(name, str) else name
    name_off = HEADER_LEN + 56
    padded = raw + b"\0" * (-len(raw) % 8) if contexts else raw
    c_off = name_off + len(padded) if contexts else 0
    body = struct.pack("<HBBIQQIIIIIHHII", 57, 0, oplock, 2, 0, 0, access, 0x80, share, disposition, options,
                       name_off if name_offset is None else name_offset,
                       len(raw) if name_length is None else name_length,
                       c_off if ctx_offset is None else ctx_offset,
                       len(contexts) if ctx_length is None else ctx_length)
    rest = padded + contexts
    return body + (rest if rest else b"\0")


def create_context(name, data, next_offset=0, name_length=None, data_offset=None, data_length=None):
    """One create context: header, name at 16, data 8-aligned after it."""
    data_off = 16 + len(name) + (-(16 + len(name)) % 8)
    ctx = struct.pack("<IHHHHI", next_offset, 16, len(name) if name_length is None else name_length, 0,
                      data_off if data_offset is None else data_offset,
                      len(data) if data_length is None else data_length)
    ctx += name + b"\0" * (data_off - 16 - len(name)) + data
    return ctx


def write_body(fid, offset, data, data_offset=None, length=None):
    return struct.pack("<HHIQ16sIIHHI", 49, HEADER_LEN + 48 if data_offset is None else data_offset,
                       len(data) if length is None else length, offset, fid, 0, 0, 0, 0, 0) + data


def read_body(fid, offset, length):
    return struct.pack("<HBBIQ16sIIIHHB", 49, 0, 0, length, offset, fid, 0, 0, 0, 0, 0, 0)


def lock_body(fid, locks):
    """locks: (offset, length, flags) triples."""
    body = struct.pack("<HHI16s", 48, len(locks), 0, fid)
    return body + b"".join(struct.pack("<QQII", o, n, f, 0) for o, n, f in locks)


def query_directory_body(fid, pattern, info_class=0x25, flags=0, out_len=65536):
    raw = pattern.encode("utf-16-le")
    return struct.pack("<HBBI16sHHI", 33, info_class, flags, 0, fid, HEADER_LEN + 32, len(raw), out_len) + (
        raw or b"\0")


def query_info_body(fid, info_type, info_class, out_len=4096, additional=0):
    return struct.pack("<HBBIHHIII16s", 41, info_type, info_class, out_len, 0, 0, 0, additional, 0, fid) + b"\0"


def query_ea_body(fid, names=b"", out_len=4096, flags=0, index=0):
    """QUERY_INFO FileFullEaInformation with an optional FILE_GET_EA_INFORMATION list, Flags and EA index."""
    return struct.pack("<HBBIHHIII16s", 41, 1, 15, out_len, HEADER_LEN + 40 if names else 0, 0, len(names),
                       index, flags, fid) + (names or b"\0")


def full_ea(entries):
    """A FILE_FULL_EA_INFORMATION list of (name, value) pairs, 4-byte aligned (MS-FSCC 2.4.15)."""
    out = b""
    for i, (name, value) in enumerate(entries):
        entry = struct.pack("<IBBH", 0, 0, len(name), len(value)) + name + b"\0" + value
        if i + 1 < len(entries):
            entry += b"\0" * (-len(entry) % 4)
            entry = struct.pack("<I", len(entry)) + entry[4:]
        out += entry
    return out


def get_ea(names):
    """A FILE_GET_EA_INFORMATION list (MS-FSCC 2.4.15.1)."""
    out = b""
    for i, name in enumerate(names):
        entry = struct.pack("<IB", 0, len(name)) + name + b"\0"
        if i + 1 < len(names):
            entry += b"\0" * (-len(entry) % 4)
            entry = struct.pack("<I", len(entry)) + entry[4:]
        out += entry
    return out


def parse_full_ea(buf):
    """(name, value) pairs of a FILE_FULL_EA_INFORMATION list."""
    out, pos = [], 0
    while True:
        nxt, _, nlen, vlen = struct.unpack_from("<IBBH", buf, pos)
        name = buf[pos + 8:pos + 8 + nlen]
        out.append((name, buf[pos + 9 + nlen:pos + 9 + nlen + vlen]))
        if nxt == 0:
            return out
        pos += nxt


def set_info_body(fid, info_type, info_class, data, additional=0):
    return struct.pack("<HBBIHHI16s", 33, info_type, info_class, len(data), HEADER_LEN + 32, 0, additional,
                       fid) + data


def rename_info(target, replace=False):
    """FILE_RENAME_INFORMATION (class 10) for SMB2: ReplaceIfExists, reserved, RootDirectory, length, name."""
    raw = target.encode("utf-16-le")
    return struct.pack("<B7sQI", int(replace), b"\0" * 7, 0, len(raw)) + raw


def spnego_init(mech_token):
    tok = SPNEGO_NegTokenInit()
    tok["MechTypes"] = [TypesMech["NTLMSSP - Microsoft NTLM Security Support Provider"]]
    tok["MechToken"] = mech_token
    return tok.getData()


def spnego_resp(mech_token):
    tok = SPNEGO_NegTokenResp()
    tok["ResponseToken"] = mech_token
    return tok.getData()


def spnego_inner(resp):
    """The NTLMSSP token inside a SESSION_SETUP response's SPNEGO blob."""
    blob = resp.buffer("<HH", 4)
    tok = SPNEGO_NegTokenResp(blob)
    return tok["ResponseToken"]


# -- test support -------------------------------------------------------------------------------------------


def rss_kib(pid):
    """VmRSS of a process in KiB."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def still_serving(srv, host=None):
    """A fresh connection negotiates, logs on, connects the share and echoes: the server is still usable."""
    with Client(host or srv.host, srv.port) as c:
        assert c.negotiate().status == SUCCESS
        r = c.login(srv.user, srv.password)
        assert r.status == SUCCESS, hex(r.status)
        assert c.tree_connect(f"\\\\{srv.host}\\{srv.share_name}").status == SUCCESS
        assert c.echo().status == SUCCESS


def logged_on(srv, share=None, client_guid=b"rsmbd-hostile-ts"):
    """A Client logged on and connected to the share (SMB 3.0.2, unsigned)."""
    c = Client(srv.host, srv.port)
    assert c.negotiate(client_guid=client_guid).status == SUCCESS
    r = c.login(srv.user, srv.password)
    assert r.status == SUCCESS, hex(r.status)
    r = c.tree_connect(f"\\\\{srv.host}\\{share or srv.share_name}")
    assert r.status == SUCCESS, hex(r.status)
    return c
