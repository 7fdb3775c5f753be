"""Saved snapshots of the live graph: start in seconds instead of reading the whole graph.

One process of those sharing a snapshot directory (the one holding the directory's
file lock) saves the live graph now and then as one file: its columns at a version
(the index, the attributes, the observed states, the alerts and maintenance windows,
the claims index), each a raw array at a fixed offset, so the file can be mapped into
memory and read without parsing. A process that starts takes the newest snapshot that
is whole and belongs to its store, and replays the journal from the snapshot's version
(:class:`~servicegraph.live.replica.Replica`).

A file is::

    magic (8 bytes) | header length (8, little endian) | BLAKE2b-512 digest (64)
    | header (JSON) | padding to 64 | arrays, each at a multiple of 64

The header carries the format version, the store's identity
(:meth:`GraphStore.identity <servicegraph.store.base.GraphStore.identity>`), the graph
version and when the change of that version was committed (which the store's journal
must confirm: a store restored from a backup keeps its identity, not its history), the
kinds and states the codes stand for, and where each array lies; the
digest covers the header and every array, so a truncated file or a flipped bit is
found before anything is used. A file is written whole beside its final name, synced,
then renamed over it: a reader sees an old snapshot or a new one, never half of one.

>>> import tempfile
>>> from servicegraph.live.state import LiveGraph
>>> live = LiveGraph.build(3, [{"id": "a", "kind": "ci", "name": "A"}], [])
>>> with tempfile.TemporaryDirectory() as folder:
...     path = write_file(Path(folder) / "s.sgsnap", live.columns(), "sqlite:1", "t")
...     back = read_file(path, "sqlite:1")
...     (back.version, back.ids)
(3, ['a'])
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import re
import struct
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np
import numpy.typing as npt

from servicegraph.impact.index import KINDS
from servicegraph.live.state import COLUMNS, FrozenGraph, LiveColumns
from servicegraph.model.acknowledgements import Acknowledgement
from servicegraph.model.alert_mapping import AlertMapping
from servicegraph.model.alerts import Alert
from servicegraph.model.graph import Observation
from servicegraph.model.kinds import State
from servicegraph.model.maintenance import Window
from servicegraph.store.base import GraphStore

log = logging.getLogger("servicegraph.live")

#: The layout this code writes and reads; a file of another is not used.
FORMAT = 2
MAGIC = b"SGSNAP\x00\x01"
_ALIGN = 64
_DIGEST = 64
_PREFIX = len(MAGIC) + 8 + _DIGEST
_NAME = re.compile(r"^snapshot-(\d{20})\.sgsnap$")
#: Snapshots kept in a directory: the newest, and one before it in case it is damaged.
KEEP = 2

Arrays = dict[str, npt.NDArray[Any]]


class SnapshotRejected(Exception):
    """A snapshot that must not be used; the message says why."""


# --- columns as arrays ---------------------------------------------------------------------


def _strings(out: Arrays, name: str, values: Sequence[str | None]) -> None:
    """Text values (``None`` allowed) as one UTF-8 blob, and which are ``None``. The
    values are joined with NUL when none holds one (then read back with one split),
    else the end of each value in code points is kept beside the blob."""
    null = np.fromiter((v is None for v in values), dtype=np.bool_, count=len(values))
    texts: Sequence[str] = [v or "" for v in values] if null.any() else values  # type: ignore[assignment]
    out[f"{name}.null"] = null
    joined = "\0".join(texts)
    if joined.count("\0") == max(len(texts) - 1, 0):
        out[f"{name}.split"] = np.array([len(texts)], dtype=np.int64)
    else:
        joined = "".join(texts)
        out[f"{name}.ends"] = np.cumsum(np.fromiter(map(len, texts), dtype=np.int64,
                                                    count=len(texts)), dtype=np.int64)
    out[f"{name}.text"] = np.frombuffer(joined.encode("utf-8", "surrogatepass"),
                                        dtype=np.uint8)


def _read_strings(arrays: Arrays, name: str) -> list[Any]:
    text = arrays[f"{name}.text"].tobytes().decode("utf-8", "surrogatepass")
    null = arrays[f"{name}.null"]
    values: list[str | None]
    if f"{name}.split" in arrays:
        values = list[str | None](text.split("\0")) if len(null) else []
    else:
        ends = arrays[f"{name}.ends"].tolist()
        starts = [0, *ends[:-1]] if ends else []
        values = [text[a:b] for a, b in zip(starts, ends, strict=True)]
    if len(values) != len(null):
        raise SnapshotRejected(f"its column {name} holds {len(values)} values, not "
                               f"{len(null)}")
    for v in np.flatnonzero(null).tolist():
        values[v] = None
    return values


def _coded(out: Arrays, name: str, values: Sequence[Any]) -> None:
    """Values that repeat (``None`` allowed): a code per value (-1: ``None``) and the
    distinct values once."""
    table: dict[Any, int] = {}
    codes = np.fromiter((-1 if v is None else table.setdefault(v, len(table))
                         for v in values), dtype=np.int32, count=len(values))
    out[f"{name}.codes"] = codes
    _strings(out, f"{name}.values", list(table))


def _read_coded(arrays: Arrays, name: str) -> list[Any]:
    lookup = [*_read_strings(arrays, f"{name}.values"), None]
    return [lookup[c] for c in arrays[f"{name}.codes"].tolist()]


def _tuples(out: Arrays, name: str, values: Sequence[tuple[str, ...]]) -> None:
    """Tuples of text that repeat: a code per tuple and the distinct tuples once."""
    table: dict[tuple[str, ...], int] = {}
    codes = np.fromiter((table.setdefault(v, len(table)) for v in values), dtype=np.int32,
                        count=len(values))
    out[f"{name}.codes"] = codes
    distinct = list(table)
    out[f"{name}.sizes"] = np.fromiter(map(len, distinct), dtype=np.int64,
                                       count=len(distinct))
    _strings(out, f"{name}.flat", [s for t in distinct for s in t])


def _read_tuples(arrays: Arrays, name: str) -> list[tuple[str, ...]]:
    flat = _read_strings(arrays, f"{name}.flat")
    ends = np.cumsum(arrays[f"{name}.sizes"]).tolist()
    starts = [0, *ends[:-1]] if ends else []
    distinct = [tuple(flat[a:b]) for a, b in zip(starts, ends, strict=True)]
    return [distinct[c] for c in arrays[f"{name}.codes"].tolist()]


def _json(out: Arrays, name: str, value: Any) -> None:
    out[name] = np.frombuffer(json.dumps(value, separators=(",", ":")).encode(),
                              dtype=np.uint8)


def _read_json(arrays: Arrays, name: str) -> Any:
    return json.loads(arrays[name].tobytes())


def encode(c: LiveColumns) -> Arrays:
    """The columns of a live graph as named arrays (see :func:`decode`)."""
    out: Arrays = {"kinds": np.asarray(c.kinds, dtype=np.int8), "src": c.src, "dst": c.dst,
                   "soft": c.soft, "grp": c.grp, "active": c.active,
                   "group_node": c.group_node, "group_declared": c.group_declared,
                   "id_order": c.id_order}
    _strings(out, "ids", c.ids)
    _strings(out, "names", c.names)
    _coded(out, "owners", c.owners)
    _coded(out, "providers", c.providers)
    _strings(out, "group_name", c.group_name)
    _json(out, "group_rule", c.group_rule)
    col = c.columns
    visible = col["visible"]
    out["visible"] = np.fromiter((-1 if v is None else int(v) for v in visible),
                                 dtype=np.int8, count=len(visible))
    for name in ("silo", "source", "properties", "retired_at"):
        _coded(out, name, col[name])
    for name in ("description", "external_id"):
        _strings(out, name, col[name])
    _tuples(out, "claim_keys", c.claim_keys)
    _coded(out, "by_key.source", [s for s, _, _ in c.by_key])
    _strings(out, "by_key.key", [k for _, k, _ in c.by_key])
    out["by_key.at"] = np.fromiter((v for _, _, v in c.by_key), dtype=np.int64,
                                   count=len(c.by_key))
    _tuples(out, "edge_sources", c.edge_sources)
    out["edge_retired.at"] = np.fromiter(c.edge_retired, dtype=np.int64,
                                         count=len(c.edge_retired))
    _strings(out, "edge_retired.when", list(c.edge_retired.values()))
    seen = list(c.observed.items())
    out["observed.at"] = np.fromiter((v for v, _ in seen), dtype=np.int64, count=len(seen))
    out["observed.state"] = np.fromiter((int(o.state) for _, o in seen), dtype=np.int8,
                                        count=len(seen))
    _strings(out, "observed.when", [o.at for _, o in seen])
    _coded(out, "observed.source", [o.source for _, o in seen])
    _json(out, "alerts", [a.to_dict() for a in c.alerts])
    _json(out, "windows", [w.to_dict() for w in c.windows])
    _json(out, "acks", [a.to_dict() for a in c.acks])
    _json(out, "mappings", [m.to_dict() for m in c.mappings])
    return out


def decode(version: int, arrays: Arrays) -> LiveColumns:
    """Inverse of :func:`encode`."""
    columns: dict[str, list[Any]] = {
        "visible": [None if v < 0 else bool(v) for v in arrays["visible"].tolist()]}
    for name in ("silo", "source", "properties", "retired_at"):
        columns[name] = _read_coded(arrays, name)
    for name in ("description", "external_id"):
        columns[name] = _read_strings(arrays, name)
    if set(columns) != set(COLUMNS):
        raise SnapshotRejected("its columns are not this version's")
    seen_at = arrays["observed.at"].tolist()
    states = [State(s) for s in arrays["observed.state"].tolist()]
    whens = _read_strings(arrays, "observed.when")
    sources = _read_coded(arrays, "observed.source")
    by_key_at = arrays["by_key.at"].tolist()
    retired_at = arrays["edge_retired.at"].tolist()
    return LiveColumns(
        version=version, ids=_read_strings(arrays, "ids"),
        kinds=np.array(arrays["kinds"], dtype=np.int8), names=_read_strings(arrays, "names"),
        owners=_read_coded(arrays, "owners"), providers=_read_coded(arrays, "providers"),
        src=np.array(arrays["src"], dtype=np.int64), dst=np.array(arrays["dst"], dtype=np.int64),
        soft=np.array(arrays["soft"], dtype=np.bool_), grp=np.array(arrays["grp"], dtype=np.int64),
        active=np.array(arrays["active"], dtype=np.bool_),
        group_node=np.array(arrays["group_node"], dtype=np.int64),
        group_declared=np.array(arrays["group_declared"], dtype=np.bool_),
        id_order=np.array(arrays["id_order"], dtype=np.int64),
        group_name=_read_strings(arrays, "group_name"),
        group_rule=_read_json(arrays, "group_rule"), columns=columns,
        claim_keys=_read_tuples(arrays, "claim_keys"),
        by_key=list(zip(_read_coded(arrays, "by_key.source"),
                        _read_strings(arrays, "by_key.key"), by_key_at, strict=True)),
        edge_sources=_read_tuples(arrays, "edge_sources"),
        edge_retired=dict(zip(retired_at, _read_strings(arrays, "edge_retired.when"),
                              strict=True)),
        observed={v: Observation(s, w, src) for v, s, w, src
                  in zip(seen_at, states, whens, sources, strict=True)},
        alerts=[Alert.from_dict(a) for a in _read_json(arrays, "alerts")],
        windows=[Window.from_dict(w) for w in _read_json(arrays, "windows")],
        acks=[Acknowledgement.from_dict(a) for a in _read_json(arrays, "acks")],
        mappings=[AlertMapping.from_dict(m) for m in _read_json(arrays, "mappings")])


def _check(c: LiveColumns) -> None:
    """Refuse columns that do not fit together (a file that is whole but wrong)."""
    n, m, g = len(c.ids), len(c.src), len(c.group_name)
    sizes = {"kinds": len(c.kinds), "names": len(c.names), "owners": len(c.owners),
             "providers": len(c.providers), "claim_keys": len(c.claim_keys),
             **{name: len(values) for name, values in c.columns.items()}}
    if any(size != n for size in sizes.values()):
        raise SnapshotRejected("its node columns differ in length")
    if any(len(a) != m for a in (c.dst, c.soft, c.grp, c.active, c.edge_sources)):
        raise SnapshotRejected("its edge columns differ in length")
    if len(c.group_node) != g or len(c.group_rule) != g or len(c.group_declared) != g:
        raise SnapshotRejected("its group columns differ in length")
    for ends in (c.src, c.dst, c.group_node):
        if len(ends) and (int(ends.min()) < 0 or int(ends.max()) >= n):
            raise SnapshotRejected("it names a node it does not hold")
    if m and (int(c.grp.min()) < -1 or int(c.grp.max()) >= g):
        raise SnapshotRejected("it names a group it does not hold")
    if len(set(c.ids)) != n:
        raise SnapshotRejected("it holds an id twice")


# --- the file ------------------------------------------------------------------------------


def _bytes(array: npt.NDArray[Any]) -> memoryview:
    """An array's bytes, without a copy when it is contiguous."""
    return memoryview(np.ascontiguousarray(array).view(np.uint8))  # type: ignore[arg-type]


def _pad(size: int) -> int:
    return -size % _ALIGN


def write_file(path: Path, columns: LiveColumns, store: str, at: str | None) -> Path:
    """Write ``columns`` of the store named ``store`` to ``path`` atomically: a file
    beside it, synced, renamed over it, the directory synced. ``at`` is when the
    change of the columns' version was committed (``None`` for version 0)."""
    arrays = encode(columns)
    toc: dict[str, list[Any]] = {}
    offset = 0
    for name, array in arrays.items():
        toc[name] = [array.dtype.str, int(array.shape[0]), offset]
        offset += array.nbytes + _pad(array.nbytes)
    header = json.dumps({
        "format": FORMAT, "store": store, "version": columns.version, "at": at,
        "written_at": time.time(), "kinds": [k.value for k in KINDS],
        "states": [s.word for s in State], "payload": offset, "arrays": toc,
    }, separators=(",", ":")).encode()
    digest = hashlib.blake2b(header, digest_size=_DIGEST)
    for array in arrays.values():
        digest.update(_bytes(array))
        digest.update(bytes(_pad(array.nbytes)))
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        with open(tmp, "wb") as out:
            out.write(MAGIC + struct.pack("<Q", len(header)) + digest.digest() + header)
            out.write(bytes(_pad(_PREFIX + len(header))))
            for array in arrays.values():
                out.write(_bytes(array))
                out.write(bytes(_pad(array.nbytes)))
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    _sync_directory(path.parent)
    return path


def _sync_directory(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@dataclass(frozen=True)
class Header:
    """What a snapshot file says of itself (read before its arrays)."""

    path: Path
    version: int
    store: str
    #: When the change of :attr:`version` was committed, as the journal says.
    at: str | None
    written_at: float
    raw: bytes
    fields: dict[str, Any]


def read_header(path: Path, store: str) -> Header:
    """The header of the snapshot at ``path``, checked to be of this format and of the
    store named ``store``; raises :class:`SnapshotRejected` saying why not."""
    try:
        with open(path, "rb") as f:
            prefix = f.read(_PREFIX)
            if len(prefix) < _PREFIX:
                raise SnapshotRejected("it is truncated")
            if prefix[:len(MAGIC)] != MAGIC:
                if prefix[:6] == MAGIC[:6]:
                    raise SnapshotRejected(f"it has another layout ({prefix[6:8].hex()})")
                raise SnapshotRejected("it is not a snapshot")
            (size,) = struct.unpack("<Q", prefix[len(MAGIC):len(MAGIC) + 8])
            if size > 1 << 24:
                raise SnapshotRejected("its header is damaged")
            raw = f.read(size)
    except OSError as exc:
        raise SnapshotRejected(f"it cannot be read ({exc.strerror})") from exc
    if len(raw) < size:
        raise SnapshotRejected("it is truncated")
    try:
        fields = json.loads(raw)
        found_format = fields["format"]
        version = int(fields["version"])
        found_store = str(fields["store"])
        at = fields["at"]
    except (ValueError, KeyError, TypeError) as exc:
        raise SnapshotRejected("its header is damaged") from exc
    if found_format != FORMAT:
        raise SnapshotRejected(f"it is of format {found_format}, this version reads {FORMAT}")
    if found_store != store:
        raise SnapshotRejected(f"it is of another store ({found_store}, this is {store})")
    if fields.get("kinds") != [k.value for k in KINDS] or \
            fields.get("states") != [s.word for s in State]:
        raise SnapshotRejected("its kinds or states are not this version's")
    return Header(path, version, found_store, None if at is None else str(at),
                  float(fields.get("written_at", 0)), raw, fields)


def read_columns(header: Header) -> LiveColumns:
    """The columns of a snapshot whose header was read: mapped, checked against the
    digest, decoded; raises :class:`SnapshotRejected` saying why not."""
    start = _PREFIX + len(header.raw)
    start += _pad(start)
    try:
        payload = int(header.fields["payload"])
        toc = {name: (str(t[0]), int(t[1]), int(t[2]))
               for name, t in header.fields["arrays"].items()}
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise SnapshotRejected("its header is damaged") from exc
    try:
        size = header.path.stat().st_size
        if size < start + payload:
            raise SnapshotRejected(f"it is truncated ({size} of {start + payload} bytes)")
        if size > start + payload:
            raise SnapshotRejected("it has bytes past its end")
        data = np.memmap(header.path, dtype=np.uint8, mode="r")
    except OSError as exc:
        raise SnapshotRejected(f"it cannot be read ({exc.strerror})") from exc
    with open(header.path, "rb") as f:
        stored = f.read(_PREFIX)[len(MAGIC) + 8:]
    digest = hashlib.blake2b(header.raw, digest_size=_DIGEST)
    step = 64 << 20
    for at in range(start, start + payload, step):
        digest.update(_bytes(data[at:min(at + step, start + payload)]))
    if digest.digest() != stored:
        raise SnapshotRejected("its checksum does not match (the file is damaged)")
    arrays: Arrays = {}
    try:
        for name, (dtype, count, offset) in toc.items():
            kind = np.dtype(dtype)
            at = start + offset
            arrays[name] = data[at:at + count * kind.itemsize].view(kind)
        columns = decode(header.version, arrays)
        _check(columns)
    except SnapshotRejected:
        raise
    except Exception as exc:  # whole but unreadable: written by a faulty process
        raise SnapshotRejected(f"it cannot be decoded ({type(exc).__name__}: {exc})") from exc
    finally:
        del arrays, data
    return columns


def read_file(path: Path, store: str) -> LiveColumns:
    """The columns of the snapshot at ``path``, checked whole (see :func:`read_header`
    and :func:`read_columns`)."""
    return read_columns(read_header(path, store))


# --- a directory of snapshots --------------------------------------------------------------


class SnapshotDirectory:
    """Where the snapshots of one store are kept, and who writes them.

    Parameters
    ----------
    path : Path
        The directory (made when missing).
    store : GraphStore
        The store whose live graph is saved (asked for its identity at each use).
    keep : int
        Snapshots kept: the newest and the ones before it, in case it is damaged.
    """

    def __init__(self, path: Path, store: GraphStore, keep: int = KEEP) -> None:
        self.path = Path(path)
        self.store = store
        self.keep = max(1, keep)
        self._lock_file: IO[bytes] | None = None
        self._writing = threading.Lock()
        #: Version and time (epoch seconds) of the last snapshot this process wrote.
        self.last_written: tuple[int, float] | None = None

    def files(self) -> list[Path]:
        """The snapshot files, newest version first."""
        try:
            names = os.listdir(self.path)
        except FileNotFoundError:
            return []
        found = [(int(m.group(1)), name) for name in names if (m := _NAME.match(name))]
        return [self.path / name for _, name in sorted(found, reverse=True)]

    def newest(self) -> tuple[int, float] | None:
        """Version and time (epoch seconds) of the newest snapshot file, if any."""
        for path in self.files():
            with contextlib.suppress(FileNotFoundError):
                return int(path.name[9:29]), path.stat().st_mtime
        return None

    def elected(self) -> bool:
        """Whether this process writes the snapshots: the first to take the
        directory's file lock, until it ends (then the next to try takes over)."""
        if self._lock_file is not None:
            return True
        self.path.mkdir(parents=True, exist_ok=True)
        handle = open(self.path / "writer.lock", "ab")  # noqa: SIM115 (held for the process's life)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        self._lock_file = handle
        # Only the lock's holder writes: what a writer killed mid-write left is garbage.
        for name in os.listdir(self.path):
            if name.startswith(".snapshot-") and name.endswith(".tmp"):
                with contextlib.suppress(FileNotFoundError):
                    (self.path / name).unlink()
        return True

    def committed_at(self, version: int) -> str | None:
        """When the change of ``version`` was committed, as the journal says (``None``
        for version 0); raises :class:`SnapshotRejected` when the journal no longer
        holds it."""
        if version == 0:
            return None
        entries = self.store.journal(version - 1)
        if not entries or entries[0].version != version:
            raise SnapshotRejected(f"the journal no longer holds its version {version}")
        return entries[0].info.at

    def write(self, freeze: Callable[[], FrozenGraph]) -> Path | None:
        """Save the live graph ``freeze()`` copies (under the read lock, quickly: the
        encoding and writing come after it is released); older snapshots beyond
        :attr:`keep` are removed. Nothing is saved (``None``) when the journal no
        longer holds the graph's version: such a snapshot could never be used."""
        with self._writing:
            started = time.perf_counter()
            frozen = freeze()
            columns = frozen.compact()
            del frozen
            try:
                at = self.committed_at(columns.version)
            except SnapshotRejected as exc:
                log.info("no snapshot saved at version %d: %s", columns.version, exc)
                return None
            self.path.mkdir(parents=True, exist_ok=True)
            path = self.path / f"snapshot-{columns.version:020d}.sgsnap"
            write_file(path, columns, self.store.identity(), at)
            self.last_written = (columns.version, time.time())
            for old in self.files()[self.keep:]:
                with contextlib.suppress(FileNotFoundError):
                    old.unlink()
            log.info("saved a snapshot of %d nodes and %d edges at version %d in %.1f s",
                     len(columns.ids), len(columns.src), columns.version,
                     time.perf_counter() - started)
            return path

    def candidates(self) -> Iterator[Header | tuple[Path, str]]:
        """Each snapshot, newest first: its checked header, or (path, why not)."""
        store = self.store.identity()
        for path in self.files():
            try:
                yield read_header(path, store)
            except SnapshotRejected as exc:
                yield path, str(exc)

    def close(self) -> None:
        """Give the writer's lock up."""
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None


__all__ = ["FORMAT", "Header", "SnapshotDirectory", "SnapshotRejected", "decode", "encode",
           "read_columns", "read_file", "read_header", "write_file"]
