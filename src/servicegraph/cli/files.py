"""The command line's input files: read only when they are regular files of a bounded
size (``SERVICEGRAPH_CLI_MAX_FILE_BYTES``), so that a device such as ``/dev/zero`` or a
FIFO no one writes to ends the command with one line instead of filling the memory or
waiting for ever."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from servicegraph.cli.backend import fail

#: Where the bound comes from, for the messages.
SETTING = "SERVICEGRAPH_CLI_MAX_FILE_BYTES"


def max_file_bytes() -> int:
    """The largest file a command reads (the ``cli_max_file_bytes`` setting)."""
    from pydantic import ValidationError

    from servicegraph.settings import Settings

    try:
        return Settings().cli_max_file_bytes
    except ValidationError as exc:
        raise fail(f"the settings are wrong: {exc}") from None


def size_text(n: int) -> str:
    """A byte count for people.

    >>> size_text(16 * 1024 * 1024), size_text(1500)
    ('16 MiB', '1500 bytes')
    """
    for unit, size in (("GiB", 1024 ** 3), ("MiB", 1024 ** 2), ("KiB", 1024)):
        if n >= size and n % size == 0:
            return f"{n // size} {unit}"
    return f"{n} bytes"


def read_bytes(path: Path, limit: int | None = None) -> bytes:
    """The content of ``path``; a clear exit when it is not a regular file, is larger
    than ``limit`` (default: the setting) or cannot be read."""
    limit = max_file_bytes() if limit is None else limit
    too_big = (f"{path}: larger than {size_text(limit)}, the most a command reads "
               f"(set {SETTING} to read larger files)")
    try:
        # Without blocking: opening a FIFO no one writes to would wait for ever.
        # What was opened is what is checked, so a swap after a look cannot fool it.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        raise fail(f"{path}: cannot read it: {exc.strerror}") from None
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise fail(f"{path}: not a regular file (a FIFO, a device or a socket): "
                       "give a file")
        if info.st_size > limit:
            raise fail(too_big)
        try:
            data = f.read(limit + 1)  # one byte more tells a file that grew meanwhile
        except OSError as exc:
            raise fail(f"{path}: cannot read it: {exc.strerror}") from None
    if len(data) > limit:
        raise fail(too_big)
    return data


def read_text(path: Path, limit: int | None = None) -> str:
    """The UTF-8 text of ``path``, read as :func:`read_bytes` does."""
    data = read_bytes(path, limit)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise fail(f"{path}: not UTF-8 text: {exc}") from None
