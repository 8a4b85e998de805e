#!/usr/bin/env python3
"""Soak test for bench/run.sh --only soak (issue 19): CLIENTS clients of mixed work against one server for SECONDS.

Each client has its own SMB connection (Python smbprotocol's smbclient module, SMB 3.1.1, signed) and its own
directory on the share, and loops over: create a file with random content, read it back and compare, append and
read back the whole file, rename it, list the directory, delete. Every failed operation counts as an error, every
read that returns other bytes than were written as a mismatch. The server's PSS (summed over its processes, as
bench/sessions.py counts it) is sampled every INTERVAL seconds. It prints, tab-separated:

    ops             operations completed
    errors          operations that failed
    mismatches      reads that returned other bytes than were written
    pss_start_kib   PSS before the clients start
    pss_max_kib     largest PSS sampled under load
    pss_end_kib     PSS SETTLE seconds after the load ended
    pss_series      the samples, comma-separated KiB

The password comes from the environment variable BENCH_PASSWORD.
"""

import argparse
import os
import random
import sys
import threading
import time

import smbclient
from smbprotocol.connection import Connection

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sessions import pss_kib, server_pids  # noqa: E402


class Counters:
    def __init__(self):
        self.lock = threading.Lock()
        self.ops = self.errors = self.mismatches = 0
        self.first_errors = []

    def add(self, ops=0, errors=0, mismatches=0, why=None):
        with self.lock:
            self.ops += ops
            self.errors += errors
            self.mismatches += mismatches
            if why and len(self.first_errors) < 10:
                self.first_errors.append(why)


def client(n, args, password, deadline, counters):
    rng = random.Random(n)
    cache = {}
    kw = {"port": args.port, "connection_cache": cache}
    root = rf"\\{args.host}\{args.share}\soak{n}"
    try:
        conn = Connection(__import__("uuid").uuid4(), args.host, args.port, require_signing=True)
        conn.connect(timeout=30)
        cache[f"{args.host}:{args.port}"] = conn
        smbclient.register_session(args.host, username=args.user, password=password, **kw)
        smbclient.makedirs(root, exist_ok=True, **kw)
    except Exception as e:  # noqa: BLE001 - any failure to start is one error for the report
        counters.add(errors=1, why=f"client {n} setup: {e!r}")
        return
    i = 0
    while time.monotonic() < deadline:
        i += 1
        name, moved = rf"{root}\f{i}.bin", rf"{root}\g{i}.bin"
        data = rng.randbytes(rng.choice([1, 4096, 65536, 1 << 20]))
        more = rng.randbytes(rng.randint(1, 8192))
        step = "create"
        try:
            with smbclient.open_file(name, mode="wb", **kw) as f:
                f.write(data)
            step = "read back"
            with smbclient.open_file(name, mode="rb", **kw) as f:
                if f.read() != data:
                    counters.add(mismatches=1, why=f"{name}: read back")
            step = "append"
            with smbclient.open_file(name, mode="ab", **kw) as f:
                f.write(more)
            with smbclient.open_file(name, mode="rb", **kw) as f:
                if f.read() != data + more:
                    counters.add(mismatches=1, why=f"{name}: after append")
            step = "rename"
            smbclient.rename(name, moved, **kw)
            step = "list"
            listed = smbclient.listdir(root, **kw)
            if f"g{i}.bin" not in listed:
                counters.add(mismatches=1, why=f"{moved}: not listed")
            step = "delete"
            smbclient.remove(moved, **kw)
            counters.add(ops=6)
        except Exception as e:  # noqa: BLE001 - counted, the loop goes on
            counters.add(errors=1, why=f"{name} {step}: {e!r}")
    smbclient.reset_connection_cache(connection_cache=cache)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--user", required=True)
    ap.add_argument("--share", required=True)
    ap.add_argument("--clients", type=int, default=32)
    ap.add_argument("--seconds", type=float, default=600)
    ap.add_argument("--interval", type=float, default=5)
    ap.add_argument("--settle", type=float, default=20)
    ap.add_argument("--server-pid", type=int, required=True)
    ap.add_argument("--marker", default="")
    args = ap.parse_args()
    password = os.environ.get("BENCH_PASSWORD", "")
    pss = lambda: pss_kib(server_pids(args.server_pid, args.marker))  # noqa: E731
    start_pss = pss()
    counters = Counters()
    deadline = time.monotonic() + args.seconds
    threads = [threading.Thread(target=client, args=(n, args, password, deadline, counters), daemon=True)
               for n in range(args.clients)]
    for t in threads:
        t.start()
    series = []
    while any(t.is_alive() for t in threads):
        series.append(pss())
        time.sleep(args.interval)
    for t in threads:
        t.join()
    time.sleep(args.settle)
    end_pss = pss()
    for why in counters.first_errors:
        print(f"# {why}", file=sys.stderr)
    print(f"ops\t{counters.ops}\nerrors\t{counters.errors}\nmismatches\t{counters.mismatches}")
    print(f"pss_start_kib\t{start_pss}\npss_max_kib\t{max(series, default=start_pss)}\npss_end_kib\t{end_pss}")
    print(f"pss_series\t{','.join(str(s) for s in series)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
