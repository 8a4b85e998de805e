#!/usr/bin/env python3
"""Server memory and logon rate for bench/run.sh (issue 5).

Opens COUNT authenticated SMB connections to one server, one after the other (TCP connect, NEGOTIATE, SESSION_SETUP
with NTLM inside SPNEGO), then a TREE_CONNECT on each, and holds them idle. It prints, tab-separated:

    setups_per_s        COUNT / wall time of the connect + negotiate + session setup loop
    pss_idle_kib        PSS of the server before the first connection
    pss_per_conn_kib    (PSS with COUNT connections open - pss_idle_kib) / COUNT
    server_processes    number of server processes counted with COUNT connections open

With --pss-only it prints only pss_idle_kib, without connecting.

PSS (proportional set size) is read from /proc/PID/smaps_rollup and summed over the server's processes: the
process given with --server-pid, all its descendants, and any other process whose command line contains
--marker (Samba forks one smbd per connection; rsmbd is one process). The password comes from the environment
variable BENCH_PASSWORD so that it does not appear in the process list.
"""

import argparse
import os
import sys
import time
import uuid
from pathlib import Path

from smbprotocol.connection import Connection
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


def server_pids(root, marker):
    """root, its descendants, and every process whose command line contains marker."""
    all_pids = [int(p) for p in os.listdir("/proc") if p.isdigit()]
    children = {}
    for pid in all_pids:
        children.setdefault(parent_of(pid), []).append(pid)
    found = set()
    todo = [root]
    while todo:
        pid = todo.pop()
        if pid not in found:
            found.add(pid)
            todo.extend(children.get(pid, []))
    if marker:
        found.update(pid for pid in all_pids if pid != os.getpid() and marker in cmdline_of(pid))
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
    held = []
    try:
        start = time.monotonic()
        for _ in range(args.count):
            held.append(open_session(args.host, args.port, args.user, password))
        elapsed = time.monotonic() - start
        unc = rf"\\{args.host}\{args.share}"
        for _, session in held:
            TreeConnect(session, unc).connect()
        time.sleep(args.settle)
        pids = server_pids(args.server_pid, args.marker)
        after = pss_kib(pids)
    finally:
        for conn, _ in held:
            try:
                conn.disconnect(close=True)
            except Exception:  # noqa: BLE001 - a connection the server already dropped is not an error here
                pass
    print(f"setups_per_s\t{args.count / elapsed:.1f}")
    print(f"pss_idle_kib\t{before}")
    print(f"pss_per_conn_kib\t{(after - before) / args.count:.1f}")
    print(f"server_processes\t{len(pids)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
