#!/usr/bin/env python3
"""Server-side copy for bench/run.sh (issue 15): copies SRC to DST inside one share with Python smbprotocol's
smbclient.copyfile, which asks the server to copy (FSCTL_SRV_COPYCHUNK_WRITE) instead of moving the data through
the client, and prints the seconds the copy took (connection and logon excluded). The password comes from the
environment variable BENCH_PASSWORD."""

import argparse
import os
import time
import uuid

import smbclient
from smbprotocol.connection import Connection


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--user", required=True)
    ap.add_argument("--share", required=True)
    ap.add_argument("src")
    ap.add_argument("dst")
    args = ap.parse_args()
    conn = Connection(uuid.uuid4(), args.host, args.port, require_signing=True)
    conn.connect(timeout=30)
    kw = {"port": args.port, "connection_cache": {f"{args.host}:{args.port}": conn}}
    smbclient.register_session(args.host, username=args.user, password=os.environ.get("BENCH_PASSWORD", ""), **kw)
    root = rf"\\{args.host}\{args.share}"
    start = time.monotonic()
    smbclient.copyfile(rf"{root}\{args.src}", rf"{root}\{args.dst}", **kw)
    print(f"{time.monotonic() - start:.6f}")
    smbclient.reset_connection_cache(connection_cache=kw["connection_cache"])


if __name__ == "__main__":
    main()
