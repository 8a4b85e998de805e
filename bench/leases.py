#!/usr/bin/env python3
"""Re-opens under a lease for bench/run.sh (issue 13).

One client keeps a first handle on a small file open with a read-handle (RH) lease, then COUNT times opens the
same file under the same lease key, reads 4 KiB and closes it, the way a Windows client re-opens a document an
application keeps touching. The lease must be granted (and stay RH: nothing breaks it); the run fails otherwise.
Prints, tab-separated:

    opens_per_s     COUNT / wall time of the open + read + close loop
    lease_state     the lease state the last open was granted (3 = RH)

The password comes from the environment variable BENCH_PASSWORD so that it does not appear in the process list.
"""

import argparse
import os
import sys
import time
import uuid

from smbprotocol.connection import Connection
from smbprotocol.create_contexts import CreateContextName, SMB2CreateContextRequest, SMB2CreateRequestLease
from smbprotocol.open import (
    CreateDisposition,
    CreateOptions,
    FilePipePrinterAccessMask,
    ImpersonationLevel,
    Open,
    RequestedOplockLevel,
    ShareAccess,
)
from smbprotocol.session import Session
from smbprotocol.tree import TreeConnect

RH = 0x3


def lease_context(key):
    lease = SMB2CreateRequestLease()
    lease["lease_key"] = key
    lease["lease_state"] = RH
    ctx = SMB2CreateContextRequest()
    ctx["buffer_name"] = CreateContextName.SMB2_CREATE_REQUEST_LEASE
    ctx["buffer_data"] = lease
    return ctx


def open_leased(tree, name, key):
    f = Open(tree, name)
    resp = f.create(
        ImpersonationLevel.Impersonation,
        FilePipePrinterAccessMask.GENERIC_READ,
        0,
        ShareAccess.FILE_SHARE_READ | ShareAccess.FILE_SHARE_WRITE | ShareAccess.FILE_SHARE_DELETE,
        CreateDisposition.FILE_OPEN,
        CreateOptions.FILE_NON_DIRECTORY_FILE,
        create_contexts=[lease_context(key)],
        oplock_level=RequestedOplockLevel.SMB2_OPLOCK_LEVEL_LEASE,
    )
    # smbprotocol returns each response context's data, parsed (an SMB2CreateResponseLease for RqLs).
    state = 0
    for ctx in resp or []:
        if "lease_state" in getattr(ctx, "fields", {}):
            state = int(ctx["lease_state"].get_value())
    return f, state


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--host", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--user", required=True)
    ap.add_argument("--share", required=True)
    ap.add_argument("--file", required=True, help="an existing file of the share, at least 4 KiB")
    ap.add_argument("--count", type=int, default=2000)
    args = ap.parse_args()
    conn = Connection(uuid.uuid4(), args.host, args.port)
    conn.connect(timeout=30)
    session = Session(conn, args.user, os.environ["BENCH_PASSWORD"], require_encryption=False)
    session.connect()
    tree = TreeConnect(session, rf"\\{args.host}\{args.share}")
    tree.connect()
    key = uuid.uuid4().bytes
    holder, state = open_leased(tree, args.file, key)
    if state != RH:
        sys.exit(f"the first open was granted lease state {state}, not RH")
    started = time.monotonic()
    for _ in range(args.count):
        f, state = open_leased(tree, args.file, key)
        f.read(0, 4096)
        f.close()
    elapsed = time.monotonic() - started
    if state != RH:
        sys.exit(f"a re-open was granted lease state {state}, not RH")
    holder.close()
    conn.disconnect()
    print(f"{args.count / elapsed:.1f}\t{state}")


if __name__ == "__main__":
    main()
