"""A readers-writer lock: many questions at once, or one change to the live graph.

Held only for work in memory, never across store I/O: a change is written to
the store first and applied to memory after, so a store that hangs never holds
up a question. Writers go first once waiting (a stream of readers cannot starve
them), and a thread that reads may read again while it reads.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager


class ReadWriteLock:
    """Shared for reading, exclusive for writing; reentrant for readers.

    >>> lock = ReadWriteLock()
    >>> with lock.reading(), lock.reading():
    ...     pass
    >>> with lock.writing():
    ...     pass
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._writer: int | None = None
        self._waiting = 0
        self._local = threading.local()

    @contextmanager
    def reading(self) -> Iterator[None]:
        """Hold the lock shared."""
        depth = getattr(self._local, "depth", 0)
        if depth == 0 and self._writer != threading.get_ident():
            with self._cond:
                while self._writer is not None or self._waiting:
                    self._cond.wait()
                self._readers += 1
            counted = True
        else:
            counted = False
        self._local.depth = depth + 1
        try:
            yield
        finally:
            self._local.depth = depth
            if counted:
                with self._cond:
                    self._readers -= 1
                    if not self._readers:
                        self._cond.notify_all()

    @contextmanager
    def writing(self) -> Iterator[None]:
        """Hold the lock exclusively."""
        me = threading.get_ident()
        if getattr(self._local, "depth", 0):
            raise RuntimeError("a reader cannot become a writer (it would wait on itself)")
        with self._cond:
            self._waiting += 1
            try:
                while self._writer is not None or self._readers:
                    self._cond.wait()
            finally:
                self._waiting -= 1
            self._writer = me
        try:
            yield
        finally:
            with self._cond:
                self._writer = None
                self._cond.notify_all()
