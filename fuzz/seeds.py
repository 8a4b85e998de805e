#!/usr/bin/env python3
"""Make the seed corpora of rsmbd's fuzz targets (fuzz/corpus/<target>/) from real client sessions.

Runs target/debug/rsmbd (guest share `[data]`, user alice/secret) behind a recording TCP proxy, restarted per
client so its ids count from 1 as in the fuzz target's server, and drives it with smbclient (SMB 2.0.2 to
3.1.1, guest, anonymous, SMB1-first, encrypted) and rpcclient (srvsvc, wkssvc, lsarpc, samr). What the
clients sent is cut into each target's input format (fuzz/src/<target>.rs); where clients send nothing
useful, well-formed inputs are built by hand (create contexts, information classes, EAs, SIDs). Each
target's directory is emptied and refilled; files are named by a 16-hex-digit prefix of their SHA-1.

Usage: python3 fuzz/seeds.py   (standard library only; needs smbclient and rpcclient; takes ~10 s)
"""

import contextlib
import hashlib
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import types
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / "fuzz" / "corpus"
RSMBD = REPO / "target" / "debug" / "rsmbd"
LIMIT, CONNECTION_LIMIT, MAX_INPUT = 120_000, 400_000, 65_536  # bytes; run.sh uses -max_len=65536
DEADLINE = 100.0  # seconds for all clients together

SMB2, SMB1, TRANSFORM = b"\xfeSMB", b"\xffSMB", b"\xfdSMB"
NEGOTIATE, SESSION_SETUP, TREE_CONNECT, CREATE, WRITE, IOCTL, SET_INFO = 0, 1, 3, 5, 9, 0x0B, 0x11
FLAG_RESPONSE, FLAG_ASYNC, FLAG_SIGNED = 0x1, 0x2, 0x8
FSCTL_PIPE_TRANSCEIVE, FSCTL_VALIDATE_NEGOTIATE_INFO = 0x0011C017, 0x00140204
# Where the FileId of a request sits (from the SMB2 header): CLOSE, FLUSH, READ ... OPLOCK_BREAK (MS-SMB2 2.2.x).
FILE_ID_AT = {6: 72, 7: 72, 8: 80, 9: 80, 10: 72, 11: 72, 14: 72, 15: 72, 16: 88, 17: 80, 18: 72}
PIPES = {  # abstract syntax of a BIND -> selector byte of the rpc target
    "4b324fc8-1670-01d3-1278-5a47bf6ee188": 0,  # srvsvc
    "6bffd098-a112-3610-9833-46c3f87e345a": 1,  # wkssvc
    "12345778-1234-abcd-ef00-0123456789ab": 2,  # lsarpc
    "12345778-1234-abcd-ef00-0123456789ac": 3,  # samr
}

# ---------------------------------------------------------------- the server and the recording proxy

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]

class Server:
    """rsmbd serving tmp/share as [data] (guest ok, from SMB 2.0.2) with user alice; restartable."""

    def __init__(self, tmp):
        self.tmp, self.conf, self.proc = tmp, tmp / "smb.conf", None
        (tmp / "share").mkdir()
        (tmp / "share").chmod(0o777)  # guest file access may run as the guest account
        self.log = open(tmp / "server.log", "ab")
        self._configure()
        subprocess.run([str(RSMBD), "user", "add", "alice", "--config", str(self.conf)], input="secret\n",
                       capture_output=True, text=True, timeout=30, check=True)

    def _configure(self):
        self.port = free_port()
        self.conf.write_text(
            f"[global]\nsmb ports = {self.port}\ninterfaces = 127.0.0.1\nbind interfaces only = yes\n"
            f"passdb backend = smbpasswd:{self.tmp / 'smbpasswd'}\nserver min protocol = SMB2_02\n"
            f"map to guest = bad user\nrestrict anonymous = 0\n"
            f"[data]\npath = {self.tmp / 'share'}\nread only = no\nguest ok = yes\n")

    def start(self):
        """Start on a new port and wait (bounded) until it accepts connections."""
        self._configure()
        self.proc = subprocess.Popen([str(RSMBD), "serve", "--config", str(self.conf)],
                                     stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT)
        end = time.monotonic() + 20
        while self.proc.poll() is None and time.monotonic() < end:
            with contextlib.suppress(OSError):
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            time.sleep(0.1)
        self.stop()
        sys.exit(f"rsmbd did not start; see {self.tmp / 'server.log'}")

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)

def pump(src, dst, record):
    with contextlib.suppress(OSError):
        while data := src.recv(65536):
            record += data
            dst.sendall(data)
    with contextlib.suppress(OSError):
        dst.shutdown(socket.SHUT_WR)  # pass the end of the stream on

class Proxy:
    """Forwards 127.0.0.1:self.port to the server; records each connection's client and bytes both ways."""

    def __init__(self):
        self.server_port, self.client, self.recordings = None, "?", []
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            try:
                s = socket.create_connection(("127.0.0.1", self.server_port))
            except OSError:
                c.close()
                continue
            rec = types.SimpleNamespace(client=self.client, c2s=bytearray(), s2c=bytearray(), threads=[])
            self.recordings.append(rec)
            for src, dst, buf in ((c, s, rec.c2s), (s, c, rec.s2c)):
                rec.threads.append(threading.Thread(target=pump, args=(src, dst, buf), daemon=True))
                rec.threads[-1].start()

    def settle(self):
        """Wait (bounded) until every recorded connection has ended in both directions."""
        for t in (t for rec in self.recordings for t in rec.threads):
            t.join(timeout=5)

# ---------------------------------------------------------------- the clients

def clients(tmp, port):
    """(name, argv) of every client run, in order."""
    smb = ["smbclient", "//127.0.0.1/data", "-p", str(port)]
    lst = ["smbclient", "-L", "//127.0.0.1", "-p", str(port)]
    guest, alice, enc = ["-U", "fuzz%fuzz"], ["-U", "alice%secret"], ["--client-protection=encrypt"]
    files = (f"lcd {tmp}; mkdir sub; cd sub; put seed.txt; ls; get seed.txt got.txt; allinfo seed.txt; "
             "setmode seed.txt +rh; setmode seed.txt -rh; utimes seed.txt 2020:01:02-03:04:05 -1 -1 -1; "
             "rename seed.txt moved.txt; scopy moved.txt copy.txt; hardlink moved.txt link.txt; showacls; "
             "ls; showacls; ls nothing*; volume; du; del copy.txt; del link.txt; del moved.txt; cd ..; rmdir sub")
    short = f"lcd {tmp}; put seed.txt s.txt; ls; get s.txt got.txt; allinfo s.txt; rename s.txt t.txt; del t.txt"
    rpc = ["rpcclient", "127.0.0.1", "-p", str(port), "-c",
           "srvinfo;netshareenumall;netsharegetinfo data;netshareenum;wkssvc_wkstagetinfo;lsaquery;"
           "lookupnames root;lookupnames alice;lookupsids S-1-5-32-544;lsaenumsid;getusername;enumdomusers;"
           "enumdomains;querydominfo;queryuser 0x3e8;enumalsgroups builtin"]
    ipc_auto = ["--option=client ipc signing=auto"]  # a guest session cannot sign IPC$, as it must by default
    return [
        ("smbclient guest SMB3_11", smb + guest + ["-c", files]),
        ("smbclient guest SMB2_02", smb + guest + ["-m", "SMB2_02", "-c", short]),
        ("smbclient guest SMB2_10", smb + guest + ["-m", "SMB2_10", "-c", short]),
        ("smbclient guest SMB3_00", smb + guest + ["-m", "SMB3_00", "-c", short]),
        ("smbclient guest SMB1 negotiate first", smb + guest + ["--option=client min protocol=NT1", "-c", "ls"]),
        ("smbclient -L guest", lst + guest),
        ("smbclient -L anonymous", lst + ["-N"]),
        ("rpcclient guest", rpc + guest + ipc_auto),
        ("rpcclient alice", rpc + alice),
        ("smbclient alice encrypted SMB3_11", smb + alice + enc + ["-c", short]),
        ("smbclient alice encrypted SMB3_00", smb + alice + enc + ["-m", "SMB3_00", "-c", "ls"]),
    ]

def run_clients(tmp, server, proxy):
    """Run every client through the proxy against a freshly started server; returns [(name, ok, note)]."""
    (tmp / "seed.txt").write_bytes(b"seed corpus file\n" * 4)
    start, results = time.monotonic(), []
    for name, argv in clients(tmp, proxy.port):
        left = DEADLINE - (time.monotonic() - start)
        if left < 5:
            results.append((name, False, "skipped: out of time"))
            continue
        server.start()
        proxy.server_port, proxy.client = server.port, name
        try:
            res = subprocess.run(argv, capture_output=True, text=True, timeout=min(30, left), cwd=tmp,
                                 errors="replace")
            errors = [ln for ln in (res.stdout + res.stderr).splitlines() if "NT_STATUS" in ln or "rror" in ln]
            results.append((name, res.returncode == 0, f"rc={res.returncode} " + " | ".join(errors)))
        except (OSError, subprocess.TimeoutExpired) as e:
            results.append((name, False, type(e).__name__))
        proxy.settle()
        if server.proc.poll() is not None:  # it should still be serving
            results[-1] = (name, False, f"{results[-1][2]} | rsmbd exited with {server.proc.returncode}")
        server.stop()
    return results

# ---------------------------------------------------------------- parsing what was recorded

def get(buf, off, fmt):
    """struct.unpack_from(fmt, buf, off)[0], or None if that reads outside buf."""
    if off is None or off < 0 or off + struct.calcsize(fmt) > len(buf):
        return None
    return struct.unpack_from(fmt, buf, off)[0]

def field(buf, off, length):
    """buf[off:off+length] if it lies within buf, else None."""
    if off is None or length is None or off < 0 or off + length > len(buf):
        return None
    return bytes(buf[off:off + length])

def frames(stream):
    """The messages of a direct-TCP stream (MS-SMB2 2.1), without their 4-byte transport headers."""
    pos = 0
    while pos + 4 <= len(stream) and stream[pos] == 0:
        end = pos + 4 + int.from_bytes(stream[pos + 1:pos + 4], "big")
        if end > len(stream):
            return
        yield bytes(stream[pos + 4:end])
        pos = end

def pdus(frame):
    """(offset, pdu) of each SMB2 PDU of a plain frame, following NextCommand (MS-SMB2 3.3.5.2.7)."""
    off = 0
    while off + 64 <= len(frame) and frame[off:off + 4] == SMB2:
        nxt = get(frame, off + 20, "<I")
        end = off + nxt if nxt and off + nxt <= len(frame) else len(frame)
        yield off, frame[off:end]
        if end == len(frame):
            return
        off = end

def command(pdu):
    return get(pdu, 12, "<H")

def requests(stream):
    """Every SMB2 PDU of a stream (encrypted frames are skipped)."""
    return (pdu for f in frames(stream) for _, pdu in pdus(f))

def chunk(data):
    return struct.pack("<H", len(data)) + data

def transport(frame):
    return len(frame).to_bytes(4, "big") + frame

def negotiated_cipher(rec):
    """Index in transform.rs CIPHERS of the cipher the server chose (3.0/3.0.2: AES-128-CCM)."""
    pick = 1
    for pdu in requests(rec.s2c):
        if command(pdu) != NEGOTIATE or not get(pdu, 16, "<I") & FLAG_RESPONSE:
            continue
        if get(pdu, 68, "<H") in (0x300, 0x302):
            pick = 0
        off, count = get(pdu, 124, "<I"), get(pdu, 70, "<H") or 0
        for _ in range(count):  # NEGOTIATE_CONTEXTs, 8-byte aligned (MS-SMB2 2.2.4)
            ctype, length = get(pdu, off, "<H"), get(pdu, off + 2, "<H")
            if ctype is None or length is None:
                break
            if ctype == 2 and (cipher := get(pdu, off + 10, "<H")) in (1, 2, 3, 4):
                pick = cipher - 1
            off = (off + 8 + length + 7) & ~7
    return pick

# ---------------------------------------------------------------- inputs per target

def connection_inputs(recs):
    return [b"\x00" + bytes(r.c2s) for r in recs] + [x for r in recs if (x := logged_on(r.c2s))]

def logged_on(stream):
    """The stream as the odd-byte mode of `connection` expects it (None if encrypted): no NEGOTIATE,
    SESSION_SETUP or TREE_CONNECT (unsigned, it would drop a 3.1.1 connection), session 0x77, tree 1,
    unsigned, MessageIds from 0 (the target grants the credits a logon would have), and FileIds lowered by
    the ids the dropped logons took from the server's counter."""
    out, base, first_mid = bytearray(b"\x01"), 0, None
    for f in frames(stream):
        if f[:4] == TRANSFORM:
            return None
        if f[:4] == SMB1 or command(f) in (NEGOTIATE, SESSION_SETUP, TREE_CONNECT):
            if f[:4] == SMB2 and command(f) == SESSION_SETUP and get(f, 40, "<Q") == 0:
                base += 1  # a new session took an id
            continue
        f = bytearray(f)
        for off, pdu in pdus(f):
            flags = get(f, off + 16, "<I")
            struct.pack_into("<I", f, off + 16, flags & ~FLAG_SIGNED)
            if not flags & FLAG_ASYNC and get(f, off + 36, "<I"):
                struct.pack_into("<I", f, off + 36, 1)
            struct.pack_into("<Q16x", f, off + 40, 0x77)
            mid = get(f, off + 24, "<Q")
            first_mid = mid if first_mid is None else first_mid
            struct.pack_into("<Q", f, off + 24, max(mid - first_mid, 0))
            at = FILE_ID_AT.get(command(pdu))
            fid = get(pdu, at, "<Q") if at else None
            if fid and base < fid < 1 << 32 and get(pdu, at + 8, "<Q") == fid:
                struct.pack_into("<QQ", f, off + at, fid - base, fid - base)
        out += transport(bytes(f))
    return bytes(out) if len(out) > 1 else None

def request_inputs(recs):
    """Every plain frame; deduplicated on all but MessageId, TreeId/AsyncId, SessionId and Signature."""
    seen, out = set(), []
    for f in (f for r in recs for f in frames(r.c2s) if f[:4] != TRANSFORM):
        if (key := f[:24] + f[64:]) not in seen:
            seen.add(key)
            out.append(f)
    return out

def header_inputs(recs):
    """A frame start per SMB2 command (some with the transport header), the SMB1 NEGOTIATE, a TRANSFORM."""
    seen, out = set(), []
    for f in (f for r in recs for f in frames(r.c2s)):
        key = (f[:4], command(f) if f[:4] == SMB2 else None)
        if key not in seen:
            seen.add(key)
            out.append(f if f[:4] == SMB1 else f[:100])
            if f[:4] == SMB2 and len(seen) % 3 == 0:
                out.append(transport(f)[:68])
    return out

def negotiate_context_inputs(recs):
    out = []
    for pdu in (p for r in recs for p in requests(r.c2s) if command(p) == NEGOTIATE):
        off, count = get(pdu, 92, "<I"), get(pdu, 96, "<H")
        if count and off is not None:
            out.append(struct.pack("<HB", off & 0xFFFF, min(count, 255)) + pdu)
    return out

def create_context_inputs(recs):
    """The CREATE contexts clients sent (smbclient sends none), plus well-formed chains (MS-SMB2 2.2.13.2)."""
    creates = (p for r in recs for p in requests(r.c2s) if command(p) == CREATE)
    seen = [c for p in creates if (c := field(p, get(p, 112, "<I"), get(p, 116, "<I")))]
    key, guid = bytes(range(16)), bytes(range(16, 32))
    lease1 = key + struct.pack("<IIQ", 0x7, 0, 0)  # RqLs v1: read, handle and write caching
    lease2 = lease1 + guid + struct.pack("<HH", 1, 0)  # v2: ParentLeaseKey, Epoch
    posix = bytes.fromhex("93AD25509CB411E7B42383DE968BCD7C")
    sd = struct.pack("<BBHIIII", 1, 0, 0x8004, 0, 0, 0, 0)  # self-relative, DACL present but null
    single = [(b"MxAc", b""), (b"MxAc", struct.pack("<q", 0)), (b"QFid", b""), (b"DHnQ", bytes(16)),
              (b"DH2Q", struct.pack("<II8x", 0, 0) + guid), (b"DHnC", key), (b"DH2C", key + guid + bytes(4)),
              (b"RqLs", lease1), (b"RqLs", lease2), (b"ExtA", ea_list((b"user.x", b"1"))),
              (b"AlSi", struct.pack("<q", 4096)), (b"TWrp", struct.pack("<q", 132223104000000000)),
              (b"SecD", sd), (posix, struct.pack("<I", 0o644))]
    chains = [[c] for c in single] + [[single[0], single[2], single[8], single[4]], [single[9], single[10]]]
    return seen + [create_contexts(c) for c in chains]

def create_contexts(items):
    """A chain of SMB2_CREATE_CONTEXTs: Next, NameOffset 16, NameLength, DataOffset, DataLength, name, data."""
    out = b""
    for i, (name, data) in enumerate(items):
        data_off = (16 + len(name) + 7) & ~7 if data else 0
        body = name.ljust(data_off - 16, b"\0") + data if data else name
        size = (16 + len(body) + 7) & ~7 if i < len(items) - 1 else 0
        out += (struct.pack("<IHHHHI", size, 16, len(name), 0, data_off, len(data)) + body).ljust(size, b"\0")
    return out

def auth_inputs(recs):
    """Per logon (a SESSION_SETUP with SessionId 0 starts one), its security buffers as chunks."""
    out = []
    for r in recs:
        legs = None
        for pdu in (p for p in requests(r.c2s) if command(p) == SESSION_SETUP):
            if (token := field(pdu, get(pdu, 76, "<H"), get(pdu, 78, "<H"))) is None:
                continue
            if legs is None or get(pdu, 40, "<Q") == 0:
                legs = bytearray(b"\x03")  # anonymous allowed, unknown users mapped to guest
                out.append(legs)
            legs += chunk(token)
    return out

def transform_inputs(recs):
    return [bytes([negotiated_cipher(r)]) + f for r in recs for f in frames(r.c2s) if f[:4] == TRANSFORM]

def pipe_writes(stream):
    """(FileId, data) of each WRITE and FSCTL_PIPE_TRANSCEIVE input of a client's stream."""
    for pdu in requests(stream):
        if command(pdu) == WRITE:
            yield field(pdu, 80, 16), field(pdu, get(pdu, 66, "<H"), get(pdu, 68, "<I"))
        elif command(pdu) == IOCTL and get(pdu, 68, "<I") == FSCTL_PIPE_TRANSCEIVE:
            yield field(pdu, 72, 16), field(pdu, get(pdu, 88, "<I"), get(pdu, 92, "<I"))

def rpc_inputs(recs):
    """Per BIND of a known interface: the selector byte, then what was written to that pipe, as chunks."""
    out = []
    for r in recs:
        groups = {}
        for fid, data in ((fid, d) for fid, d in pipe_writes(r.c2s) if d is not None):
            if len(data) >= 48 and data[0] == 5 and data[2] == 11:  # DCE/RPC BIND (C706 12.6.4.3)
                pick = PIPES.get(str(uuid.UUID(bytes_le=data[32:48])))
                groups[fid] = None if pick is None else bytearray([pick])
                out += [groups[fid]] if groups[fid] else []
            if groups.get(fid) is not None:
                groups[fid] += chunk(data)
    return out

def ea_list(*entries):
    """FILE_FULL_EA_INFORMATION entries (MS-FSCC 2.4.15), chained at 4-byte aligned offsets."""
    out = b""
    for i, (name, value) in enumerate(entries):
        body = struct.pack("<BBH", 0, len(name), len(value)) + name + b"\0" + value
        size = (4 + len(body) + 3) & ~3 if i < len(entries) - 1 else 0
        out += (struct.pack("<I", size) + body).ljust(size, b"\0")
    return out

def ea_inputs():
    return [ea_list((b"user.seed", b"value")), ea_list((b"a", b"1"), (b"user.second", b"xy")),
            ea_list((b"empty", b"")), ea_list((b"A", b"xxx"), (b"B", b""), (b"C", b"zz"))]

def info_class_inputs(recs):
    """SET_INFO file-class buffers and VALIDATE_NEGOTIATE_INFO inputs seen, plus one of each class."""
    out = []
    for pdu in (p for r in recs for p in requests(r.c2s)):
        if command(pdu) == SET_INFO and pdu[66:67] == b"\x01":  # SMB2_0_INFO_FILE
            buf = field(pdu, get(pdu, 72, "<H"), get(pdu, 68, "<I"))
            out += [bytes([pdu[67]]) + buf] if buf is not None else []
        elif command(pdu) == IOCTL and get(pdu, 68, "<I") == FSCTL_VALIDATE_NEGOTIATE_INFO:
            buf = field(pdu, get(pdu, 88, "<I"), get(pdu, 92, "<I"))
            out += [b"\x00" + buf] if buf is not None else []
    t, name = 132223104000000000, "dir\\new name.txt".encode("utf-16-le")  # 2020-01-01 as a FILETIME
    synthetic = {
        4: struct.pack("<qqqqII", t, t + 1, t + 2, -1, 0x20, 0),  # basic
        10: struct.pack("<B7xQI", 1, 0, len(name)) + name,  # rename, replacing
        11: struct.pack("<B7xQI", 0, 0, len(name)) + name,  # link
        13: b"\x01", 14: struct.pack("<q", 4096), 16: struct.pack("<I", 0x2),  # disposition, position, mode
        19: struct.pack("<q", 1 << 20), 20: struct.pack("<q", 12345),  # allocation, end of file
        64: struct.pack("<I", 0x3),  # disposition ex: DELETE | POSIX_SEMANTICS
        65: struct.pack("<I4xQI", 0x43, 0, len(name)) + name,  # rename ex
        15: ea_list((b"user.seed", b"value"), (b"x", b"")),  # full EA
    }
    vni = struct.pack("<I16sHH4H", 0x7F, b"G" * 16, 1, 4, 0x202, 0x210, 0x300, 0x302)
    return out + [bytes([c]) + b for c, b in synthetic.items()] + [b"\x00" + vni]

def sid_ndr(authority, *subs):
    """RPC_SID as NDR puts it on the wire (MS-DTYP 2.4.2.3): conformance, revision, count, authority, subs."""
    head = struct.pack("<IBB", len(subs), 1, len(subs)) + authority.to_bytes(6, "big")
    return head + struct.pack(f"<{len(subs)}I", *subs)

def sid_inputs():
    text = [b"S-1-5-21-1-2-3-1000", b"S-1-1-0", b"S-1-5-32-544", b"S-1-0x123456789ABC-7"]
    return text + [sid_ndr(5, 21, 1, 2, 3, 1000), sid_ndr(1, 0), sid_ndr(5, 32, 544), sid_ndr(5)]

def sid_bin(authority, *subs):
    """A SID in its binary form (MS-DTYP 2.4.2.2)."""
    return struct.pack("<BB", 1, len(subs)) + authority.to_bytes(6, "big") + struct.pack(f"<{len(subs)}I", *subs)

def ace_bin(ace_type, flags, mask, sid):
    return struct.pack("<BBHI", ace_type, flags, 8 + len(sid), mask) + sid

def acl_bin(*aces):
    body = b"".join(aces)
    return struct.pack("<BBHHH", 2, 0, 8 + len(body), len(aces), 0) + body

def sd_bin(control, owner=b"", group=b"", sacl=b"", dacl=b""):
    """A self-relative descriptor (MS-DTYP 2.4.6): header, then owner, group, SACL, DACL."""
    offsets, body, at = [], b"", 20
    for part in (owner, group, sacl, dacl):
        offsets.append(at + len(body) if part else 0)
        body += part
    return struct.pack("<BBHIIII", 1, 0, control | 0x8000, *offsets) + body

def security_descriptor_inputs():
    user, world, creator = sid_bin(22, 1, 1000), sid_bin(1, 0), sid_bin(3, 0)
    dacl = acl_bin(ace_bin(1, 0, 0x1, user), ace_bin(0, 0x3, 0x1F01FF, world), ace_bin(0, 0xB, 0x10000000, creator))
    sacl = acl_bin(ace_bin(2, 0xC0, 0x1F01FF, world))
    sds = [sd_bin(0x4, user, sid_bin(22, 2, 100), b"", dacl), sd_bin(0x14, user, b"", sacl, dacl),
           sd_bin(0x4), sd_bin(0x1404, b"", b"", b"", acl_bin()), sd_bin(0)]
    ntacl_v4 = struct.pack("<HHII", 4, 4, 0x20000, 0x20004) + b"\x01\x00" + bytes(64) + b"seed\x00" + bytes(1 + 72)
    return [b"\x00" + sd for sd in sds] + [b"\x01" + ntacl_v4 + in_blob(sd, len(ntacl_v4)) for sd in sds[:2]]

def in_blob(sd, at):
    """`sd` as security.NTACL holds it at `at`: its offsets are NDR relative pointers from the blob's start."""
    offsets = [o + at if o else 0 for o in struct.unpack_from("<4I", sd, 4)]
    return sd[:4] + struct.pack("<4I", *offsets) + sd[20:]

def stream_name_inputs():
    """CREATE names with stream parts and stream rename targets (MS-FSCC 2.1.5), in UTF-16LE."""
    names = ["f.txt:Zone.Identifier:$DATA", "d\\f::$DATA", "f:s:$FOO", "f:", ":s", "f:\x05Stream\n One",
             "f:a\\b", "..:s", "f:s:$DATA:x", ":new:$DATA", "::$DATA", "f:?Stream*", "a\\b\\c:" + "s" * 240]
    return [n.encode("utf-16-le") for n in names]

def aapl_context():
    """An AAPL create context with a server query (Apple's SMB extension, as macOS sends it)."""
    data = struct.pack("<IIQQ", 1, 0, 7, 0xD)
    return struct.pack("<IHHHHI", 0, 16, 4, 0, 24, len(data)) + b"AAPL" + bytes(4) + data

def apple_double_inputs():
    """AppleDouble headers as Samba writes them (netatalk metadata xattr, `._` file) and an AfpInfo."""
    def header(filler, entries):
        out = struct.pack(">II16sH", 0x00051607, 0x00020000, filler, len(entries))
        return out + b"".join(struct.pack(">III", *e) for e in entries)
    meta = header(bytes(16), [(4, 154, 0), (8, 354, 16), (9, 122, 32), (14, 370, 4)])
    meta = (meta + bytes(122 - len(meta)) + b"TESTSLOW").ljust(402, b"\0")
    adouble = header(b"Netatalk        ", [(2, 82, 10), (9, 50, 32)]).ljust(82, b"\0") + b"rsrc-bytes"
    afpinfo = b"AFP\0\0\0\1\0" + bytes(4) + b"\x80\0\0\0" + b"TESTSLOW".ljust(32, b"\0") + bytes(12)
    return [meta, adouble, afpinfo]

# ---------------------------------------------------------------- writing the corpora

def write_corpus(target, inputs, limit):
    """Replace corpus/<target>/ with the distinct inputs, smallest first, up to `limit` bytes in all."""
    unique = sorted({bytes(x) for x in inputs if 0 < len(x) <= MAX_INPUT}, key=lambda x: (len(x), x))
    d = CORPUS / target
    shutil.rmtree(d, ignore_errors=True)
    d.mkdir(parents=True)
    total = count = 0
    for data in unique:
        if total + len(data) > limit:
            break
        (d / hashlib.sha1(data).hexdigest()[:16]).write_bytes(data)
        total, count = total + len(data), count + 1
    print(f"  {target:18} {count:4} files {total:8} bytes (of {len(unique)} distinct)")

def main():
    if not RSMBD.is_file():
        sys.exit(f"{RSMBD} is missing: run `cargo build -p rsmbd` first")
    tmp = Path(tempfile.mkdtemp(prefix="rsmbd-seeds-"))
    server, proxy = Server(tmp), Proxy()
    try:
        results = run_clients(tmp, server, proxy)
    finally:
        server.stop()
    for name, ok, note in results:
        conns = sum(r.client == name for r in proxy.recordings)
        print(f"{'ok  ' if ok else 'FAIL'} {name:38} {conns} connection(s)  {note}")
    recs = proxy.recordings
    print(f"corpora in {CORPUS}:")
    write_corpus("connection", connection_inputs(recs), CONNECTION_LIMIT)
    for target, inputs in [
        ("request", request_inputs(recs)), ("header", header_inputs(recs)),
        ("negotiate_context", negotiate_context_inputs(recs)), ("create_context", create_context_inputs(recs) + [aapl_context()]),
        ("auth", auth_inputs(recs)), ("transform", transform_inputs(recs)), ("rpc", rpc_inputs(recs)),
        ("info_class", info_class_inputs(recs)), ("ea", ea_inputs()), ("sid", sid_inputs()),
        ("security_descriptor", security_descriptor_inputs()),
        ("stream_name", stream_name_inputs()),
        ("apple_double", apple_double_inputs()),
    ]:
        write_corpus(target, inputs, LIMIT)
    log = (tmp / "server.log").read_text(errors="replace")
    for line in sorted({ln.split("Z", 1)[-1] for ln in log.splitlines() if "WARN" in ln or "ERROR" in ln}):
        print("rsmbd:", line.strip())
    if "panicked at" in log:
        print(f"rsmbd panicked: see {tmp / 'server.log'}")
    else:
        shutil.rmtree(tmp, ignore_errors=True)

if __name__ == "__main__":
    main()
