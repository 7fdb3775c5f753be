"""The rule of a redundancy group: how many members it needs, and from how many it is ok.

A node states, per group, a rule in one of three forms (its interchange form is kept
as written, so stores and exports carry it back unchanged):

- a count, ``2``: that many members must be up (``min_ok``);
- a share, ``"50%"``: that share of the group's current members, rounded up, at
  least one;
- a mapping ``{min_ok: ..., ok_at: ...}``, each a count or a share: below
  ``min_ok`` members up the group is down; with fewer than ``ok_at`` members ok it
  is degraded ("at risk"); ``ok_at`` left out means all members.

The engine reads a rule as two integer *codes* (see :func:`codes`) and resolves them
against the group's size (see :func:`resolve_one`), so a group's need follows its
membership without the rule being read again.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from servicegraph.model.errors import show

#: A rule in interchange form: a count, a share, or a mapping of ``min_ok`` and
#: ``ok_at`` to counts or shares.
Rule = int | str | Mapping[str, int | str]
#: A share as written: a whole percentage from 1 to 100, e.g. ``"50%"``.
SHARE_PATTERN = r"^(100|[1-9][0-9]?)%$"
_SHARE = re.compile(SHARE_PATTERN)
#: The fields of the mapping form.
FIELDS = ("min_ok", "ok_at")
#: The ``ok_at`` code of "all members" (the default).
ALL = 0
#: What a rule may be, for messages.
FORMS = ("a count (an integer from 1), a share ('1%' to '100%') or a mapping "
         "{min_ok, ok_at} of those")


def amount_code(value: Any) -> int | None:
    """The code of a count or a share (a count as itself, a share as minus its
    percentage), or ``None`` when ``value`` is neither. Any integer is a count
    here: whether it fits its group is for :func:`group_problem` to say.

    >>> amount_code(2), amount_code("50%"), amount_code("0%"), amount_code(True)
    (2, -50, None, None)
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and _SHARE.fullmatch(value):
        return -int(value[:-1])
    return None


@dataclass(frozen=True)
class GroupRule:
    """A rule read: ``min_ok`` and ``ok_at`` as codes (a count as itself, a share as
    minus its percentage; ``ok_at`` :data:`ALL` for all members)."""

    min_ok: int
    ok_at: int = ALL

    def need(self, size: int) -> int:
        """Members that must be up for the group not to be down, among ``size``."""
        return resolve_one(self.min_ok, size)

    def ok(self, size: int) -> int:
        """Members that must be ok for the group to be ok, among ``size``."""
        return resolve_one(self.ok_at, size)


def shape_problem(value: Any) -> str | None:
    """What is wrong with the form of a rule, or ``None`` (whether its counts fit the
    group is for :func:`group_problem`, which knows the group).

    >>> shape_problem(2) is None, shape_problem({"min_ok": "50%", "ok_at": 3}) is None
    (True, True)
    >>> shape_problem("0%")
    "min_ok must be a count (an integer from 1), a share ('1%' to '100%') or a mapping \
{min_ok, ok_at} of those, got '0%'"
    >>> shape_problem({"ok_at": 2})
    'the rule needs min_ok'
    """
    if isinstance(value, Mapping):
        unknown = sorted(str(k) for k in value if k not in FIELDS)
        if unknown:
            return f"unknown field {show(unknown[0])} in the rule (allowed: min_ok, ok_at)"
        if "min_ok" not in value:
            return "the rule needs min_ok"
        for name in FIELDS:
            if name in value and amount_code(value[name]) is None:
                return (f"{name} must be a count (an integer from 1) or a share "
                        f"('1%' to '100%'), got {show(value[name])}")
        return None
    if amount_code(value) is None:
        return f"min_ok must be {FORMS}, got {show(value)}"
    return None


def parse_rule(value: Any) -> GroupRule:
    """The rule of a group in interchange form (its form checked already).

    >>> parse_rule(2), parse_rule("50%")
    (GroupRule(min_ok=2, ok_at=0), GroupRule(min_ok=-50, ok_at=0))
    >>> parse_rule({"min_ok": 2, "ok_at": "75%"})
    GroupRule(min_ok=2, ok_at=-75)
    """
    wrong = shape_problem(value)
    if wrong is not None:
        raise ValueError(wrong)
    if isinstance(value, Mapping):
        high = value.get("ok_at")
        return GroupRule(_code(value["min_ok"]), ALL if high is None else _code(high))
    return GroupRule(_code(value))


def _code(value: Any) -> int:
    code = amount_code(value)
    assert code is not None  # shape_problem said so
    return code


def codes(value: Any) -> tuple[int, int]:
    """The (``min_ok``, ``ok_at``) codes of a valid rule in interchange form (a count
    below 1 would read as a share: validation refuses one first).

    >>> codes(3), codes({"min_ok": "50%", "ok_at": 4})
    ((3, 0), (-50, 4))
    """
    if type(value) is int:  # the usual rule, read fast: indexes read one per group
        return value, ALL
    rule = parse_rule(value)
    return rule.min_ok, rule.ok_at


def group_problem(value: Any, size: int) -> str | None:
    """What is wrong with a rule (of a valid form) for a group of ``size`` current
    members, or ``None``.

    Counts must lie in 1..size; a share always fits. ``ok_at`` may not be below
    ``min_ok``: two counts or two shares compare as stated (then they compare the
    same for every size), a count and a share once resolved against ``size``.

    >>> group_problem(2, 3) is None, group_problem("50%", 1) is None
    (True, True)
    >>> group_problem(3, 2)
    'min_ok 3 out of range 1..2 (2 member(s) in group)'
    >>> group_problem({"min_ok": 3, "ok_at": "50%"}, 4)
    "ok_at '50%' (2 of 4) is below min_ok 3"
    """
    rule = parse_rule(value)
    raw = value if isinstance(value, Mapping) else {"min_ok": value}
    for name in FIELDS:
        stated = raw.get(name)
        if isinstance(stated, int) and not 1 <= stated <= size:
            return (f"{name} {show(stated)} out of range 1..{size} "
                    f"({size} member(s) in group)")
    if rule.ok_at == ALL:
        return None
    if (rule.min_ok > 0) == (rule.ok_at > 0):
        if abs(rule.ok_at) < abs(rule.min_ok):
            return f"ok_at {show(raw['ok_at'])} is below min_ok {show(raw['min_ok'])}"
        return None
    need, ok = rule.need(size), rule.ok(size)
    if ok < need:
        return (f"ok_at {show(raw['ok_at'])}{_resolved(rule.ok_at, ok, size)} is below "
                f"min_ok {show(raw['min_ok'])}{_resolved(rule.min_ok, need, size)}")
    return None


def _resolved(code: int, count: int, size: int) -> str:
    return f" ({count} of {size})" if code < 0 else ""


def resolve_one(code: int, size: int) -> int:
    """Members a code asks for among ``size``: a count as itself, a share of ``size``
    rounded up and at least one, :data:`ALL` as ``size``.

    >>> resolve_one(2, 3), resolve_one(-50, 3), resolve_one(-50, 1), resolve_one(ALL, 4)
    (2, 2, 1, 4)
    >>> resolve_one(-1, 0)
    1
    """
    if code > 0:
        return code
    if code == ALL:
        return size
    return max(1, (-code * size + 99) // 100)  # rounded up, in integers
