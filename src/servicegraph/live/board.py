"""The versions the processes of one server announce to each other, on one machine.

The worker processes of one ``servicegraph serve`` share a small memory-mapped
file. A process that commits a change (or learns of one from the journal) raises
the version written there; a question reads it (a memory read, no system call)
and asks the store only when it names a version newer than the one this process
holds. So questions do not ask the store whether it moved on, and a write made
through any worker is announced before its answer leaves, so that any later
question, whichever worker takes it, catches up first.

The file holds a magic string, a tag of the store it speaks of (a board of another
store is refused) and the version, written beside its complement so that a read
never takes a half-written version for a whole one. Writers serialise with an
advisory lock on the file; readers take none.
"""

from __future__ import annotations

import fcntl
import hashlib
import mmap
import os
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

MAGIC = b"SGBOARD1"
SIZE = 64
_TAG = slice(8, 24)
_VERSION = 24  # offset of the version and its check word
_PAIR = struct.Struct("<QQ")
_MASK = (1 << 64) - 1


class BoardRejected(Exception):
    """The file is not a board of this store."""


class VersionBoard:
    """The highest version announced by the processes sharing ``path``.

    Parameters
    ----------
    path : Path
        The board's file, made (readable by this user only) when missing.
    store : str
        What names the store (its description): processes of another store are not
        told about, nor told by, this board.
    """

    def __init__(self, path: Path, store: str) -> None:
        self.path = Path(path)
        tag = hashlib.sha256(store.encode("utf-8")).digest()[:16]
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            with _locked(fd):
                if os.fstat(fd).st_size < SIZE:
                    os.ftruncate(fd, SIZE)
                self._map = mmap.mmap(fd, SIZE)
                head = bytes(self._map[:8])
                if head == bytes(8):  # a new board
                    self._map[_TAG] = tag
                    _PAIR.pack_into(self._map, _VERSION, 0, _MASK)
                    self._map[:8] = MAGIC
                elif head != MAGIC:
                    raise BoardRejected(f"{self.path} is not a version board")
                elif bytes(self._map[_TAG]) != tag:
                    raise BoardRejected(f"{self.path} is the board of another store")
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd

    def _whole(self) -> int | None:
        for _ in range(1000):
            version, check = _PAIR.unpack_from(self._map, _VERSION)
            if check == version ^ _MASK:
                return int(version)
        return None  # only a writer dying halfway through its 16 bytes leaves this

    def read(self) -> int:
        """The highest version announced (0 when none was). A board left half-written
        reads as ahead of every version, so that readers ask the store until the next
        announcement mends it."""
        found = self._whole()
        return _MASK if found is None else found

    def announce(self, version: int) -> None:
        """Raise the board to ``version`` (a lower one changes nothing)."""
        found = self._whole()
        if found is not None and version <= found:
            return
        with _locked(self._fd):
            found = self._whole()
            if found is None or version > found:
                _PAIR.pack_into(self._map, _VERSION, version, version ^ _MASK)

    def close(self) -> None:
        """Unmap the file (it stays, for the other processes)."""
        self._map.close()
        os.close(self._fd)


@contextmanager
def _locked(fd: int) -> Iterator[None]:
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)


__all__ = ["BoardRejected", "VersionBoard"]
