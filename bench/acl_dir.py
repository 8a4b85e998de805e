#!/usr/bin/env python3
"""Gives a directory an inheritable NT ACL for the bench's ACL row: writes its `security.NTACL` (Samba's
xattr_NTACL version 4 with zero hashes, as rsmbd writes it and as Samba takes it with `acl_xattr:ignore system
acls = yes`) holding a DACL of Everyone and CREATOR OWNER, both full control, object and container inherit.
Every file created below then inherits two ACEs. Needs root (security.* attributes).

Usage: acl_dir.py DIR"""

import os
import struct
import sys


def sid(authority, *subs):
    return struct.pack("<BB", 1, len(subs)) + authority.to_bytes(6, "big") + struct.pack(f"<{len(subs)}I", *subs)


def descriptor(base):
    """A self-relative descriptor whose offsets count from `base` (NDR relative pointers in the blob)."""
    full, oi_ci = 0x1F01FF, 0x3
    aces = b"".join(struct.pack("<BBHI", 0, oi_ci, 8 + len(s), full) + s for s in (sid(1, 0), sid(3, 0)))
    dacl = struct.pack("<BBHHH", 2, 0, 8 + len(aces), 2, 0) + aces
    owner = sid(22, 1, os.stat(os.path.dirname(os.path.abspath(sys.argv[1]))).st_uid)
    return struct.pack("<BBHIIII", 1, 0, 0x8004, base + 20, 0, 0, base + 20 + len(owner)) + owner + dacl


def ntacl_blob():
    head = struct.pack("<HHIIH", 4, 4, 0x20000, 0x20004, 1) + bytes(64) + b"bench\0"
    head += bytes(-len(head) % 4) + bytes(8) + bytes(64)
    head += bytes(-len(head) % 4)
    return head + descriptor(len(head))


def main():
    path = sys.argv[1]
    os.makedirs(path, exist_ok=True)
    # The bench user owns the share; so must it the directory its files are created in.
    parent = os.stat(os.path.dirname(os.path.abspath(path)))
    os.chown(path, parent.st_uid, parent.st_gid)
    os.setxattr(path, "security.NTACL", ntacl_blob())


if __name__ == "__main__":
    main()
