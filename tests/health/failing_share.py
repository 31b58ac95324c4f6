"""A network share gone away, as a process holding a file open on it sees it: a real FUSE file
system (the kernel's /dev/fuse protocol, spoken here without a library) of one file, ``log``, whose
``stat`` can be made to fail (``EIO``, as a soft NFS mount or sshfs answers) or never be answered (a
hard NFS mount whose server is gone)."""

from __future__ import annotations

import ctypes
import errno
import os
import struct
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest

# The requests answered (include/uapi/linux/fuse.h); the rest are refused (ENOSYS), but those the
# kernel expects no answer to.
LOOKUP, FORGET, GETATTR, OPEN, RELEASE, FLUSH, INIT, INTERRUPT, BATCH_FORGET = 1, 2, 3, 14, 18, 25, 26, 36, 42
FILE_NODE = 2  # the node of ``log``; the root is 1


def _attributes(node: int) -> bytes:
    """``struct fuse_attr`` of ``node``: the root folder, or the file."""
    mode = 0o40755 if node == 1 else 0o100644
    return struct.pack("<QQQQQQIIIIIIIIII", node, 0, 0, 0, 0, 0, 0, 0, 0, mode, 1, 0, 0, 0, 4096, 0)


class Share:
    """The file system mounted at ``at``, and its daemon: ``stat_answer`` is how the file's ``stat``
    is answered (``"ok"``, ``"eio"`` or ``"never"``)."""

    def __init__(self, at: Path, device: int) -> None:
        self.at = at
        self.device = device
        self.stat_answer = "ok"

    def _reply(self, unique: int, error: int = 0, body: bytes = b"") -> None:
        os.write(self.device, struct.pack("<IiQ", 16 + len(body), -error, unique) + body)

    def serve(self) -> None:
        """Answer the kernel's requests until the file system is gone."""
        while True:
            try:
                request = os.read(self.device, 1 << 20)
            except OSError:
                return
            length, opcode, unique, node = struct.unpack_from("<IIQQ", request)
            if opcode == INIT:
                self._reply(
                    unique, body=struct.pack("<IIIIHHIIHHII", 7, 31, 0, 0, 16, 12, 65536, 1, 16, 0, 0, 0) + bytes(24)
                )
            elif opcode == LOOKUP:
                found = request[40:length].rstrip(b"\0") == b"log"
                entry = struct.pack("<QQQQII", FILE_NODE, 0, 0, 0, 0, 0) + _attributes(FILE_NODE)
                self._reply(unique, body=entry) if found else self._reply(unique, errno.ENOENT)
            elif opcode == GETATTR and node == FILE_NODE and self.stat_answer != "ok":
                if self.stat_answer == "eio":
                    self._reply(unique, errno.EIO)
            elif opcode == GETATTR:
                self._reply(unique, body=struct.pack("<QII", 0, 0, 0) + _attributes(node))
            elif opcode == OPEN:
                self._reply(unique, body=struct.pack("<QII", 1, 0, 0))
            elif opcode in (RELEASE, FLUSH):
                self._reply(unique)
            elif opcode not in (FORGET, BATCH_FORGET, INTERRUPT):
                self._reply(unique, errno.ENOSYS)


@contextmanager
def failing_share(at: Path) -> Iterator[Share]:
    """The share mounted at ``at`` until the block ends; skips where FUSE cannot be mounted (needs
    root and /dev/fuse). Closing the daemon's device ends every request left unanswered."""
    try:
        device = os.open("/dev/fuse", os.O_RDWR)
    except OSError as error:
        pytest.skip(f"no FUSE here: {error}")
    at.mkdir(exist_ok=True)
    libc = ctypes.CDLL(None, use_errno=True)
    options = f"fd={device},rootmode=40000,user_id=0,group_id=0".encode()
    if libc.mount(b"share", os.fsencode(at), b"fuse", 0, options) != 0:
        os.close(device)
        pytest.skip(f"cannot mount FUSE here: {os.strerror(ctypes.get_errno())}")
    share = Share(at, device)
    threading.Thread(target=share.serve, name="share", daemon=True).start()
    try:
        yield share
    finally:
        share.stat_answer = "ok"
        subprocess.run(["umount", "-l", str(at)], check=True)
        with suppress(OSError):
            os.close(device)
