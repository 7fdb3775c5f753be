"""What the model accepts: bounded text, and free properties that stay JSON.

Whatever is stored is read back by everyone: by every list and export, by
every store. So input is bounded where it enters the model, and refused with
a message naming the item when it is out of bounds, instead of being stored
and breaking reads later (a NaN no JSON answer can carry, an id longer than
Neo4j's index key limit, properties nested deeper than a serializer goes).

The patterns are written as regular expressions that read the same in
Python, in pydantic (Rust regex) and in JSON Schema (ECMA 262), so the HTTP
schema can state them exactly.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

#: Longest id, in characters; also group names, external ids and node ``source``.
#: Neo4j refuses index keys of about 8 KB: 512 characters stay below in any script.
MAX_ID_LENGTH = 512
#: Longest name, owner, provider or silo, in characters.
MAX_NAME_LENGTH = 1024
#: Longest description, in characters.
MAX_DESCRIPTION_LENGTH = 10_000
#: Deepest nesting of ``properties`` (the mapping itself is level 1).
MAX_PROPERTIES_DEPTH = 32
#: Largest ``properties``, as compact JSON text in UTF-8 bytes.
MAX_PROPERTIES_BYTES = 65_536

# Unicode control characters (category Cc) and the characters Python's
# str.isspace() calls white space, as regex escapes.
_CC = r"\x00-\x1f\x7f-\x9f"
_SPACE = r"\x20\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"

#: An id, group name or external id; also a name: not blank, no control characters.
IDENTIFIER_PATTERN = rf"^[^{_CC}]*[^{_CC}{_SPACE}][^{_CC}]*$"
#: One line of text (owner, provider, silo): no control characters.
LINE_PATTERN = rf"^[^{_CC}]*$"
#: A description: no control characters but tab and line breaks.
DESCRIPTION_PATTERN = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"

_IDENTIFIER = re.compile(IDENTIFIER_PATTERN)
_LINE = re.compile(LINE_PATTERN)
_DESCRIPTION = re.compile(DESCRIPTION_PATTERN)

#: (pattern, longest, what it must be) of each sort of text.
_TEXT = {
    "identifier": (_IDENTIFIER, MAX_ID_LENGTH, "not blank, without control characters"),
    "name": (_IDENTIFIER, MAX_NAME_LENGTH, "not blank, without control characters"),
    "line": (_LINE, MAX_NAME_LENGTH, "without control characters"),
    "description": (_DESCRIPTION, MAX_DESCRIPTION_LENGTH,
                    "without control characters other than tab and line breaks"),
}


def _unicode_problem(text: str) -> str | None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return f"not valid Unicode text (a lone surrogate at character {exc.start})"
    return None


def text_problem(value: Any, sort: str = "identifier") -> str | None:
    """What is wrong with ``value`` as text of this sort, or ``None``.

    ``sort`` is ``identifier`` (ids, group names, external ids), ``name``,
    ``line`` (owner, provider, silo) or ``description``.

    >>> text_problem("web-1") is None
    True
    >>> text_problem("x" * 513)
    'longer than 512 characters (513)'
    >>> text_problem("  ")
    'must be text not blank, without control characters'
    """
    pattern, longest, rule = _TEXT[sort]
    if not isinstance(value, str):
        return f"must be text, {rule}"
    if len(value) > longest:
        return f"longer than {longest} characters ({len(value)})"
    if not pattern.fullmatch(value):  # not match(): "$" also matches before a final "\n"
        return f"must be text {rule}"
    return _unicode_problem(value)


def _scalar_size(value: Any) -> int | str:
    """The JSON size of a scalar, or what is wrong with it."""
    if value is None or isinstance(value, bool):
        return 4 if value in (None, True) else 5
    if isinstance(value, int):
        return len(str(value))
    if isinstance(value, float):
        if not math.isfinite(value):
            return f"numbers must be finite, got {value!r}"
        return len(repr(value))
    if isinstance(value, str):
        wrong = _unicode_problem(value)
        if wrong:
            return wrong
        return len(json.dumps(value, ensure_ascii=False).encode("utf-8"))
    return (f"values must be JSON data (text, finite numbers, true/false, null, lists, "
            f"mappings), got a {type(value).__name__}")


def properties_problem(value: Any) -> tuple[str, str] | None:
    """Where and what is wrong with free ``properties``, or ``None`` when they are
    JSON data within the bounds.

    The walk is iterative and stops as soon as a bound is passed, so neither a
    deep nesting nor a structure that shares parts (YAML aliases) can make it
    recurse or run long. The place is a path such as ``.a[2].b``.

    >>> properties_problem({"a": [1, {"b": float("nan")}]})
    ('.a[1].b', 'numbers must be finite, got nan')
    >>> properties_problem({"a": 1}) is None
    True
    """
    if not isinstance(value, Mapping):
        return "", "must be a mapping"
    size = 0
    stack: list[tuple[Any, str, int]] = [(value, "", 1)]
    while stack:
        item, path, depth = stack.pop()
        if isinstance(item, Mapping | list | tuple):
            if depth > MAX_PROPERTIES_DEPTH:
                return path, f"nested deeper than {MAX_PROPERTIES_DEPTH} levels"
            size += 2 + max(len(item) - 1, 0)
            if isinstance(item, Mapping):
                for key, child in item.items():
                    if not isinstance(key, str):
                        return path, f"keys must be text, got {type(key).__name__}"
                    key_size = _scalar_size(key)
                    if isinstance(key_size, str):
                        return f"{path}.{key[:40]}", key_size
                    size += key_size + 1
                    stack.append((child, f"{path}.{key[:40]}", depth + 1))
            else:
                stack.extend((child, f"{path}[{i}]", depth + 1) for i, child in enumerate(item))
        else:
            scalar = _scalar_size(item)
            if isinstance(scalar, str):
                return path, scalar
            size += scalar
        if size > MAX_PROPERTIES_BYTES:
            return "", f"larger than {MAX_PROPERTIES_BYTES} bytes as JSON"
    return None
