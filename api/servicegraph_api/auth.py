"""API keys with scopes, stored hashed in a JSON file.

A key is ``sg_`` followed by 32 random bytes (``secrets.token_urlsafe``); the
file keeps only its SHA-256, so a leaked file does not leak a key. The file
looks like::

    {"keys": [{"name": "ci-feed", "hash": "<sha256 hex>",
               "scopes": ["ingest"], "created": "2030-01-01T00:00:00+00:00"}]}

Scopes: ``read`` (every GET), ``ingest`` (writes and pushes, and reading),
``admin`` (everything). With no key in the file the API is open; the server
then binds to loopback only (see ``servicegraph serve``).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import logging
import os
import secrets
import tempfile
import threading
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

#: Every key starts with this, so a secret scanner can recognise one.
KEY_PREFIX = "sg_"

log = logging.getLogger("servicegraph.api")


def is_loopback(host: str | None) -> bool:
    """Whether ``host`` (an address to bind, or a client's address) is this machine only.

    ``None`` is a client on a Unix socket: local too.

    >>> is_loopback("127.0.0.1"), is_loopback("::1"), is_loopback("localhost"), is_loopback(None)
    (True, True, True, True)
    >>> is_loopback("0.0.0.0"), is_loopback("example.org"), is_loopback("192.0.2.7")
    (False, False, False)
    """
    if host is None or host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class Scope(StrEnum):
    """What a key may do."""

    READ = "read"
    INGEST = "ingest"
    ADMIN = "admin"


#: Scopes that imply others: admin may do everything, ingest may also read.
_IMPLIES: dict[Scope, frozenset[Scope]] = {
    Scope.READ: frozenset({Scope.READ}),
    Scope.INGEST: frozenset({Scope.READ, Scope.INGEST}),
    Scope.ADMIN: frozenset(Scope),
}


def effective_scopes(scopes: tuple[Scope, ...] | list[Scope]) -> frozenset[Scope]:
    """The scopes a key holds, implied ones included.

    >>> sorted(effective_scopes([Scope.INGEST]))
    [<Scope.INGEST: 'ingest'>, <Scope.READ: 'read'>]
    """
    out: set[Scope] = set()
    for s in scopes:
        out |= _IMPLIES[s]
    return frozenset(out)


def generate_key() -> str:
    """A new high-entropy key."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_key(key: str) -> str:
    """The SHA-256 (hex) stored for a key."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ApiKey:
    """One stored key: its name, hash, scopes and creation time."""

    name: str
    hash: str
    scopes: tuple[Scope, ...]
    created: str

    def allows(self, *any_of: Scope) -> bool:
        """Whether the key holds one of ``any_of`` (directly or implied)."""
        held = effective_scopes(self.scopes)
        return any(s in held for s in any_of)

    def to_dict(self) -> dict[str, Any]:
        """File form."""
        out = asdict(self)
        out["scopes"] = [s.value for s in self.scopes]
        return out

    def public(self) -> dict[str, Any]:
        """What may be shown: never the hash."""
        return {"name": self.name, "scopes": [s.value for s in self.scopes],
                "created": self.created}


class KeyFileError(ValueError):
    """The keys file cannot be read, or a key operation is refused."""


class KeyFile:
    """The keys file, re-read whenever it changes on disk (no restart needed)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._keys: tuple[ApiKey, ...] = ()
        # The broken version of the file last reported, so the log says it once.
        self._reported: tuple[int, int] | None = None

    def _read(self) -> tuple[ApiKey, ...]:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            self._stamp, self._keys = None, ()
            return ()
        stamp = (stat.st_mtime_ns, stat.st_size)
        if stamp == self._stamp:
            return self._keys
        try:
            doc = json.loads(self.path.read_text(encoding="utf-8") or "{}")
            keys = tuple(
                ApiKey(str(k["name"]), str(k["hash"]), tuple(Scope(s) for s in k["scopes"]),
                       str(k.get("created", "")))
                for k in doc.get("keys", [])
            )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            if stamp != self._reported:
                self._reported = stamp
                log.error("the API keys file %s is not valid (%s): every request that needs "
                          "a key is refused until it is fixed", self.path, exc)
            raise KeyFileError(f"{self.path}: not a valid keys file: {exc}") from None
        self._stamp, self._keys = stamp, keys
        return keys

    def keys(self) -> tuple[ApiKey, ...]:
        """Every stored key."""
        with self._lock:
            return self._read()

    def configured(self) -> bool:
        """Whether at least one key exists (else the API is open)."""
        return bool(self.keys())

    def authenticate(self, presented: str) -> ApiKey | None:
        """The stored key matching ``presented``, compared in constant time."""
        digest = hash_key(presented)
        found = None
        for key in self.keys():
            # Compare against every key, so timing says nothing about which matched.
            if hmac.compare_digest(digest, key.hash):
                found = key
        return found

    def _write(self, keys: tuple[ApiKey, ...]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps({"keys": [k.to_dict() for k in keys]}, indent=2) + "\n"
        fd, tmp = tempfile.mkstemp(prefix=".keys-", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
            os.chmod(tmp, 0o600)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        self._stamp = None

    def add(self, name: str, scopes: list[Scope]) -> str:
        """Create a key and return it: the only time it is ever shown."""
        if not name.strip():
            raise KeyFileError("a key needs a non-empty name")
        if not scopes:
            raise KeyFileError("a key needs at least one scope")
        with self._lock:
            keys = self._read()
            if any(k.name == name for k in keys):
                raise KeyFileError(f"a key named {name!r} exists: revoke it first")
            token = generate_key()
            created = datetime.now(UTC).isoformat(timespec="seconds")
            unique = tuple(dict.fromkeys(scopes))
            self._write((*keys, ApiKey(name, hash_key(token), unique, created)))
            return token

    def revoke(self, name: str) -> bool:
        """Delete the key called ``name``; whether there was one."""
        with self._lock:
            keys = self._read()
            kept = tuple(k for k in keys if k.name != name)
            if len(kept) == len(keys):
                return False
            self._write(kept)
            return True
