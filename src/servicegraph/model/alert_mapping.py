"""Alert mappings: how a source's alerts name their node, and what their severity means.

A mapping is declared per source: ordered rules, each reading one label, tried in turn
until one names a node; and a severity table (which label holds the severity, and the
state each severity means). A source without a mapping is read by :data:`DEFAULT`:
``servicegraph_id``, then ``service``, then ``instance`` (also without its port), each as
a node id, then as an external id of the source.

These are plain values and pure rules: :meth:`AlertMapping.parse` reads a mapping whole,
naming every bad rule; the live graph looks the candidates up.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

from servicegraph.model.alerts import DEGRADED_SEVERITIES, DOWN_SEVERITIES, QUIET_SEVERITIES
from servicegraph.model.bounds import text_problem
from servicegraph.model.errors import Problem, ValidationError, show
from servicegraph.model.kinds import State

#: What a rule's label value is looked up as: a node id, an external id (of the alert's
#: source, or of the rule's ``source``), a node's name, or a node property (a dotted
#: path under ``properties.``); a ``table`` rule names the node id per label value.
TARGETS = ("id", "external_id", "name")
PROPERTY_PREFIX = "properties."
#: Bounds of one mapping.
MAX_RULES = 64
MAX_TABLE = 10_000
MAX_PATTERN = 512
MAX_SEVERITIES = 256
_PORT = re.compile(r":\d+$")
_STATES = {"down": State.DOWN, "degraded": State.DEGRADED, "ok": State.OK}


def strip_port(value: str) -> str:
    """``value`` without a trailing ``:port``.

    >>> strip_port("db-1:9100"), strip_port("[::1]:9100"), strip_port("db-1")
    ('db-1', '[::1]', 'db-1')
    """
    return _PORT.sub("", value)


@dataclass(frozen=True)
class MatchRule:
    """One way to read a node from an alert's labels.

    ``to`` is ``id``, ``external_id``, ``name``, ``properties.<path>`` or ``table``
    (then ``table`` maps exact label values to node ids). The label's value is first
    cut by ``regex`` (its first group, else the whole match; no match: the rule does not
    apply), then by ``strip_port``.
    """

    label: str
    to: str
    table: Mapping[str, str] = field(default_factory=dict)
    #: For ``external_id``: whose external ids (``None``: the alert's own source).
    source: str | None = None
    strip_port: bool = False
    regex: str | None = None

    @cached_property
    def _pattern(self) -> re.Pattern[str] | None:
        return re.compile(self.regex) if self.regex is not None else None

    def value(self, labels: Mapping[str, str]) -> str | None:
        """The value this rule looks up, from ``labels`` (``None``: it does not apply).

        >>> MatchRule("instance", "name", strip_port=True).value({"instance": "db-1:9100"})
        'db-1'
        >>> MatchRule("host", "id", regex=r"^([^.]+)\\.").value({"host": "web-1.example.org"})
        'web-1'
        """
        value = labels.get(self.label)
        if not value:
            return None
        pattern = self._pattern
        if pattern is not None:
            found = pattern.search(value)
            if found is None:
                return None
            value = found.group(1) if pattern.groups else found.group(0)
        if self.strip_port:
            value = strip_port(value)
        return value or None

    @property
    def property_path(self) -> tuple[str, ...] | None:
        """For a property rule, the keys under ``properties``; else ``None``."""
        if not self.to.startswith(PROPERTY_PREFIX):
            return None
        return tuple(self.to[len(PROPERTY_PREFIX):].split("."))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (defaults left out)."""
        out: dict[str, Any] = {"label": self.label, "to": self.to}
        if self.to == "table":
            out["table"] = dict(self.table)
        if self.source is not None:
            out["source"] = self.source
        if self.strip_port:
            out["strip_port"] = True
        if self.regex is not None:
            out["regex"] = self.regex
        return out


@dataclass(frozen=True)
class SeverityMap:
    """Which label holds an alert's severity, and the state each severity means.

    ``states`` (lower-case severities) override the built-in reading: ``critical``,
    ``error``, ``page``, ``high``, … down; ``warning``, ``minor``, … degraded; ``info``,
    ``none``, … nothing; a severity known to neither, or none, is ``default``.
    """

    label: str = "severity"
    states: Mapping[str, State] = field(default_factory=dict)
    default: State = State.DEGRADED

    def state(self, word: str | None) -> State:
        """The state a severity word means.

        >>> SeverityMap(states={"p1": State.DOWN}).state("P1").word
        'down'
        >>> SeverityMap().state("critical").word, SeverityMap().state(None).word
        ('down', 'degraded')
        """
        key = (word or "").strip().lower()
        if key in self.states:
            return self.states[key]
        if key in DOWN_SEVERITIES:
            return State.DOWN
        if key in DEGRADED_SEVERITIES:
            return State.DEGRADED
        if key in QUIET_SEVERITIES:
            return State.OK
        return self.default

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"label": self.label, "states": {k: v.word for k, v in self.states.items()},
                "default": self.default.word}


@dataclass(frozen=True)
class AlertMapping:
    """A source's mapping: its rules in order, its severity table, and which version of
    it this is (0: the default, never set), set when and by whom."""

    source: str
    rules: tuple[MatchRule, ...]
    severity: SeverityMap = field(default_factory=SeverityMap)
    version: int = 0
    updated_at: str | None = None
    updated_by: str | None = None

    @property
    def is_default(self) -> bool:
        """Whether this is the default mapping (no mapping was set)."""
        return self.version == 0

    def for_source(self, source: str) -> AlertMapping:
        """This mapping as ``source``'s."""
        return replace(self, source=source)

    def lookups(self) -> set[str]:
        """The node fields its rules look values up by (``name``, ``properties.x``)."""
        return {r.to for r in self.rules if r.to == "name" or r.property_path is not None}

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, as stored and answered."""
        return {"source": self.source, "version": self.version,
                "updated_at": self.updated_at, "updated_by": self.updated_by,
                "rules": [r.to_dict() for r in self.rules],
                "severity": self.severity.to_dict()}

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> AlertMapping:
        """Inverse of :meth:`to_dict` (for what was stored: trusted)."""
        found = cls.parse(str(raw["source"]), raw)
        return replace(found, version=int(raw.get("version") or 0),
                       updated_at=raw.get("updated_at"), updated_by=raw.get("updated_by"))

    @classmethod
    def parse(cls, source: str, raw: Any) -> AlertMapping:
        """A mapping from its JSON form, read whole: raises
        :class:`~servicegraph.model.errors.ValidationError` naming every bad rule
        (``rules[2] ('instance'): regex: …``), so a bad mapping is never half set.

        >>> AlertMapping.parse("am", {"rules": [{"label": "host", "to": "name"}]}).rules[0].to
        'name'
        >>> AlertMapping.parse("am", {"rules": [{"label": "host", "to": "color"}]})
        Traceback (most recent call last):
        ...
        servicegraph.model.errors.ValidationError: 1 problem(s), nothing written: \
rules[0] ('host'): to: unknown target 'color': one of id, external_id, name, \
properties.<key>, table
        """
        problems: list[Problem] = []
        if not isinstance(raw, Mapping):
            raise ValidationError([Problem("document", None, "document", "",
                                           "a mapping is a JSON object")])
        unknown = sorted(set(raw) - {"rules", "severity", "source", "version", "updated_at",
                                     "updated_by"})
        for key in unknown:
            problems.append(Problem("document", None, "document", str(key),
                                    "unknown field: rules or severity"))
        rules_raw = raw.get("rules")
        rules: list[MatchRule] = []
        if not isinstance(rules_raw, list):
            problems.append(Problem("document", None, "document", "rules",
                                    "a list of rules is required"))
        elif len(rules_raw) > MAX_RULES:
            problems.append(Problem("document", None, "document", "rules",
                                    f"{len(rules_raw)} rules: at most {MAX_RULES}"))
        else:
            for i, item in enumerate(rules_raw):
                rule = _rule(i, item, problems)
                if rule is not None:
                    rules.append(rule)
        severity = _severity(raw.get("severity"), problems)
        if problems:
            raise ValidationError(problems)
        return cls(source, tuple(rules), severity)


def _rule(i: int, item: Any, problems: list[Problem]) -> MatchRule | None:
    if not isinstance(item, Mapping):
        problems.append(Problem("rules", i, "?", "", "a rule is a JSON object"))
        return None
    before = len(problems)
    label = item.get("label")
    name = show(label) if isinstance(label, str) else "?"

    def bad(field_name: str, message: str) -> None:
        problems.append(Problem("rules", i, name, field_name, message))

    for key in sorted(set(item) - {"label", "to", "table", "source", "strip_port", "regex"}):
        bad(str(key), "unknown field: label, to, table, source, strip_port or regex")
    wrong = text_problem(label, "identifier") if isinstance(label, str) else \
        "required: the label to read"
    if wrong:
        bad("label", wrong)
    to = item.get("to", "table" if "table" in item else None)
    if not isinstance(to, str) or not (
            to in (*TARGETS, "table") or (to.startswith(PROPERTY_PREFIX) and all(
                to[len(PROPERTY_PREFIX):].split(".")))):
        bad("to", f"unknown target {show(to)}: one of id, external_id, name, "
                  "properties.<key>, table")
        to = None
    table: dict[str, str] = {}
    raw_table = item.get("table")
    if to == "table":
        if not isinstance(raw_table, Mapping) or not raw_table:
            bad("table", "a table rule needs a non-empty mapping of label values to node ids")
        elif len(raw_table) > MAX_TABLE:
            bad("table", f"{len(raw_table)} entries: at most {MAX_TABLE:,}")
        else:
            for key, value in raw_table.items():
                if not isinstance(key, str) or not isinstance(value, str):
                    bad(f"table.{show(key)}", "keys and values must be text")
                elif wrong := text_problem(value, "identifier"):
                    bad(f"table.{show(key)}", wrong)
                else:
                    table[key] = value
    elif raw_table is not None:
        bad("table", "only a rule with to: table has a table")
    source = item.get("source")
    if source is not None:
        if to != "external_id":
            bad("source", "only an external_id rule names a source")
        elif wrong := text_problem(source, "identifier"):
            bad("source", wrong)
    port = item.get("strip_port", False)
    if not isinstance(port, bool):
        bad("strip_port", "true or false")
    regex = item.get("regex")
    if regex is not None:
        if not isinstance(regex, str) or not regex or len(regex) > MAX_PATTERN:
            bad("regex", f"a regular expression of 1 to {MAX_PATTERN} characters")
        else:
            try:
                compiled = re.compile(regex)
            except re.error as exc:
                bad("regex", f"not a regular expression: {exc}")
            else:
                if compiled.groups > 1:
                    bad("regex", "at most one group: the part of the value to look up")
    if len(problems) > before or to is None:
        return None
    return MatchRule(str(label), to, table, source, bool(port), regex)


def _severity(raw: Any, problems: list[Problem]) -> SeverityMap:
    if raw is None:
        return SeverityMap()

    def bad(field_name: str, message: str) -> None:
        problems.append(Problem("severity", None, "severity", field_name, message))

    if not isinstance(raw, Mapping):
        bad("", "a JSON object: label, states, default")
        return SeverityMap()
    for key in sorted(set(raw) - {"label", "states", "default"}):
        bad(str(key), "unknown field: label, states or default")
    label = raw.get("label", "severity")
    if wrong := text_problem(label, "identifier"):
        bad("label", wrong)
    states: dict[str, State] = {}
    raw_states = raw.get("states") or {}
    if not isinstance(raw_states, Mapping) or len(raw_states) > MAX_SEVERITIES:
        bad("states", f"a mapping of at most {MAX_SEVERITIES} severities to down, degraded "
                      "or ok")
    else:
        for word, state in raw_states.items():
            if not isinstance(word, str) or not word.strip() or state not in _STATES:
                bad(f"states.{show(word)}", f"{show(state)}: a severity maps to down, "
                                            "degraded or ok")
            else:
                states[word.strip().lower()] = _STATES[state]
    default = raw.get("default", "degraded")
    if default not in _STATES:
        bad("default", f"{show(default)}: down, degraded or ok")
        default = "degraded"
    return SeverityMap(str(label), states, _STATES[default])


def _default_rules() -> tuple[MatchRule, ...]:
    rules: list[MatchRule] = []
    for label in ("servicegraph_id", "service", "instance"):
        rules += [MatchRule(label, "id"), MatchRule(label, "external_id")]
    rules += [MatchRule("instance", "id", strip_port=True),
              MatchRule("instance", "external_id", strip_port=True)]
    return tuple(rules)


#: The mapping of a source that set none.
DEFAULT = AlertMapping("", _default_rules())


def rules_of(mappings: Mapping[str, AlertMapping], source: str) -> AlertMapping:
    """``source``'s mapping, or the default."""
    found = mappings.get(source)
    return found if found is not None else DEFAULT.for_source(source)


__all__ = ["DEFAULT", "AlertMapping", "MatchRule", "SeverityMap", "rules_of", "strip_port"]

