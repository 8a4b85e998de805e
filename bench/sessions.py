#!/usr/bin/env python3
"""Server memory and logon rate for bench/run.sh (issue 5).

Opens COUNT authenticated SMB connections to one server, one after the other (TCP connect, NEGOTIATE, SESSION_SETUP
with NTLM inside SPNEGO), then a TREE_CONNECT on each, and holds them idle. It prints, tab-separated:

    setups_per_s        COUNT / wall time of the connect + negotiate + session setup loop
    pss_idle_kib        PSS of the server before the first connection
    pss_per_conn_kib    (PSS with COUNT connections open - pss_idle_kib) / COUNT
    server_processes    number of server processes counted with COUNT connections open
    new_client_ms       with the COUNT connections still open, the time one more client takes to connect,
                        log on, connect the share, write 64 KiB to a new file, read it back (compared) and
                        delete it

With --pss-only it prints only pss_idle_kib, without connecting.

PSS (proportional set size) is read from /proc/PID/smaps_rollup and summed over the server's processes: the
process given with --server-pid, all its descendants, and any other process whose command line contains
--marker (Samba forks one smbd per connection; rsmbd is one process). The password comes from the environment
variable BENCH_PASSWORD so that it does not appear in the process list.
"""

import argparse
import multiprocessing
import os
import sys
import time
import uuid
from pathlib import Path

from smbprotocol.connection import Connection
from smbprotocol.file_info import FileAttributes
from smbprotocol.open import (CreateDisposition, CreateOptions, FilePipePrinterAccessMask, ImpersonationLevel, Open,
                              ShareAccess)
from smbprotocol.session import Session
from smbprotocol.tree import TreeConnect


def parent_of(pid):
    """The parent pid of pid, or None if it is gone. The command name in /proc/PID/stat may contain spaces."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rpartition(")")[2].split()
    return int(fields[1]) if len(fields) > 1 else None


def cmdline_of(pid):
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def descendants(root, children):
    """root and every process below it."""
    found = set()
    todo = [root]
    while todo:
        pid = todo.pop()
        if pid not in found:
            found.add(pid)
            todo.extend(children.get(pid, []))
    return found


def server_pids(root, marker):
    """root, its descendants, and every process whose command line contains marker, except this script and the
    workers it forked (whose command lines contain the marker too)."""
    all_pids = [int(p) for p in os.listdir("/proc") if p.isdigit()]
    children = {}
    for pid in all_pids:
        children.setdefault(parent_of(pid), []).append(pid)
    found = descendants(root, children)
    if marker:
        ours = descendants(os.getpid(), children)
        found.update(pid for pid in all_pids if pid not in ours and marker in cmdline_of(pid))
    return found


def pss_kib(pids):
    """Sum of the Pss lines of /proc/PID/smaps_rollup over pids (processes that exited meanwhile count 0)."""
    total = 0
    for pid in pids:
        try:
            text = Path(f"/proc/{pid}/smaps_rollup").read_text()
        except OSError:
            continue
        for line in text.splitlines():
            if line.startswith("Pss:"):
                total += int(line.split()[1])
    return total


def open_session(host, port, user, password):
    # Signing stays on (smbprotocol's default): without it smbprotocol does not sign the SMB 3.1.1 TREE_CONNECT,
    # which MS-SMB2 3.3.5.7 requires and Samba enforces.
    conn = Connection(uuid.uuid4(), host, port)
    conn.connect(timeout=30)
    session = Session(conn, user, password, require_encryption=False)
    session.connect()
    return conn, session


def new_client_ms(host, port, user, password, unc):
    """Milliseconds for one more client to log on, write 64 KiB, read it back and delete the file."""
    data = os.urandom(65536)
    start = time.monotonic()
    conn, session = open_session(host, port, user, password)
    try:
        tree = TreeConnect(session, unc)
        tree.connect()
        f = Open(tree, f"late-{uuid.uuid4().hex}.bin")
        f.create(ImpersonationLevel.Impersonation, FilePipePrinterAccessMask.GENERIC_READ
                 | FilePipePrinterAccessMask.GENERIC_WRITE | FilePipePrinterAccessMask.DELETE,
                 FileAttributes.FILE_ATTRIBUTE_NORMAL, ShareAccess.FILE_SHARE_READ, CreateDisposition.FILE_CREATE,
                 CreateOptions.FILE_NON_DIRECTORY_FILE | CreateOptions.FILE_DELETE_ON_CLOSE)
        f.write(data, 0)
        if f.read(0, len(data)) != data:
            raise RuntimeError("the new client read back other bytes than it wrote")
        f.close()
        return (time.monotonic() - start) * 1000
    finally:
        conn.disconnect(close=True)


PER_PROCESS = 900


def hold(host, port, user, password, unc, count, pipe):
    """In a worker process: open count sessions, each with a tree connect; send the seconds the logons took (or
    an error text), keep them until told to release."""
    held = []
    try:
        start = time.monotonic()
        for _ in range(count):
            held.append(open_session(host, port, user, password))
        elapsed = time.monotonic() - start
        for _, session in held:
            TreeConnect(session, unc).connect()
        pipe.send(elapsed)
    except Exception as e:  # noqa: BLE001 - reported to the parent, which fails the row
        pipe.send(f"{type(e).__name__}: {e}")
    pipe.recv()
    for conn, _ in held:
        try:
            conn.disconnect(close=True)
        except Exception:  # noqa: BLE001 - a connection the server already dropped is not an error here
            pass


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int)
    ap.add_argument("--user")
    ap.add_argument("--share")
    ap.add_argument("--count", type=int, default=300)
    ap.add_argument("--server-pid", type=int, required=True)
    ap.add_argument("--marker", default="", help="also count processes whose command line contains this")
    ap.add_argument("--settle", type=float, default=2.0, help="seconds to wait before reading PSS")
    ap.add_argument("--pss-only", action="store_true", help="print pss_idle_kib and stop (no connection)")
    args = ap.parse_args()
    password = os.environ.get("BENCH_PASSWORD", "")

    before = pss_kib(server_pids(args.server_pid, args.marker))
    if args.pss_only:
        print(f"pss_idle_kib\t{before}")
        return 0
    if args.port is None or args.user is None or args.share is None:
        ap.error("--port, --user and --share are required unless --pss-only")
    unc = rf"\\{args.host}\{args.share}"
    holders = []
    try:
        # smbprotocol waits with select(), which takes no descriptor above 1023: the connections are held by
        # worker processes, PER_PROCESS each, started one after the other (so logons stay sequential).
        elapsed = 0.0
        for first in range(0, args.count, PER_PROCESS):
            n = min(PER_PROCESS, args.count - first)
            parent, child = multiprocessing.Pipe()
            proc = multiprocessing.Process(target=hold, args=(args.host, args.port, args.user, password, unc, n, child))
            proc.start()
            holders.append((proc, parent))
            took = parent.recv()
            if isinstance(took, str):
                raise RuntimeError(f"holding connections failed: {took}")
            elapsed += took
        time.sleep(args.settle)
        pids = server_pids(args.server_pid, args.marker)
        after = pss_kib(pids)
        late_ms = new_client_ms(args.host, args.port, args.user, password, unc)
    finally:
        for proc, parent in holders:
            parent.send("release")
        for proc, _ in holders:
            proc.join(60)
    print(f"setups_per_s\t{args.count / elapsed:.1f}")
    print(f"pss_idle_kib\t{before}")
    print(f"pss_per_conn_kib\t{(after - before) / args.count:.1f}")
    print(f"server_processes\t{len(pids)}")
    print(f"new_client_ms\t{late_ms:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
