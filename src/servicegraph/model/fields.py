"""The shape of a node and of a dependency, declared once.

Each field says its name in the interchange format, what it holds, its bound, how the
stores keep it, and whether a source's claim carries it (claimed fields are reconciled
between sources; the others are identity or derived). What else knows the shape derives
from here: the interchange's field sets and text bounds, the stores' rows, SQLite's
tables and the Cypher projections, the live graph's columns, the CSV importer's columns,
and the table in ``docs/model.md`` (a test holds the API's models, the stores' schemas
and that table to this module).

>>> [f.name for f in NODE_FIELDS][:4]
['id', 'kind', 'name', 'owner']
>>> node_field("external_id").claimed, node_field("owner").claimed
(False, True)
>>> [f.column for f in EDGE_FIELDS]
['source', 'target', 'group', 'impact']
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldSpec:
    """One field of a node or a dependency.

    ``bound`` is the sort of text (see :func:`~servicegraph.model.bounds.text_problem`:
    ``identifier``, ``name``, ``line``, ``description``) or another rule's name;
    ``stored`` how both stores keep the value (``text``, ``boolean``, ``json``: JSON
    text, since Neo4j property values cannot be maps); ``column`` the stores' column or
    property name.
    """

    name: str
    type: str
    bound: str
    stored: str
    claimed: bool
    required: bool
    doc: str
    column: str = ""
    #: What an absent value becomes (then the stores always hold one).
    default: str = ""

    def __post_init__(self) -> None:
        if not self.column:
            object.__setattr__(self, "column", self.name)

    @property
    def sql_type(self) -> str:
        """The SQLite column type."""
        return "INTEGER" if self.stored == "boolean" else "TEXT"


NODE_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("id", "text", "identifier", "text", False, True,
              "unique id; how edges and questions name the node"),
    FieldSpec("kind", "kind", "a node kind", "text", True, True,
              "`promise`, `business_service`, `service_act`, `service_system` or `ci`"),
    FieldSpec("name", "text", "name", "text", True, False,
              "human-readable name", default="the id"),
    FieldSpec("owner", "text", "line", "text", True, False,
              "who answers for it (a team, a department)"),
    FieldSpec("provider", "text", "line", "text", True, False,
              "who runs it, e.g. an outsourcer"),
    FieldSpec("visible", "boolean", "true or false", "boolean", True, False,
              "whether the customer sees it"),
    FieldSpec("silo", "text", "line", "text", True, False,
              "the technical silo, e.g. compute, network, identity"),
    FieldSpec("description", "text", "description", "text", True, False,
              "free text"),
    FieldSpec("source", "text", "identifier", "text", False, False,
              "the integrator whose claim decides the node's attributes (set by pushes; "
              "a load keeps it as given, so an export loads back as it was)"),
    FieldSpec("external_id", "text", "identifier", "text", False, False,
              "that source's own key for the node (default: the id)"),
    FieldSpec("properties", "json", "properties", "json", True, False,
              "free JSON data (a mapping)"),
    FieldSpec("redundancy", "json", "redundancy", "json", True, False,
              "redundancy group name -> its rule: a count, a share (`\"50%\"`) or "
              "`{min_ok, ok_at}` (see [States and propagation](#states-and-propagation))"),
)

EDGE_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("from", "text", "identifier", "text", False, True,
              "the dependant: the node that needs the other", column="source"),
    FieldSpec("to", "text", "identifier", "text", False, True,
              "the dependency: the node needed", column="target"),
    FieldSpec("group", "text", "identifier", "text", True, False,
              "the redundancy group the dependency belongs to"),
    FieldSpec("impact", "impact", "hard or soft", "text", True, False,
              "`hard` (default) or `soft`"),
)

#: What the stores keep of a node besides its fields: provenance, retirement and the
#: observed state (written by observations only, never by a node's upsert).
NODE_STORE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("claims", "TEXT NOT NULL DEFAULT '[]'"),
    ("claim_keys", "TEXT NOT NULL DEFAULT '[]'"),
    ("retired_at", "TEXT"),
)
OBSERVED_COLUMNS = ("observed_state", "observed_at", "observed_source")
EDGE_STORE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("claims", "TEXT NOT NULL DEFAULT '[]'"),
    ("claim_sources", "TEXT NOT NULL DEFAULT '[]'"),
    ("retired_at", "TEXT"),
)


def node_field(name: str) -> FieldSpec:
    """The node field of that interchange name."""
    return next(f for f in NODE_FIELDS if f.name == name)


#: The node's optional descriptive attributes (beside ``properties`` and ``redundancy``).
ATTRIBUTES: tuple[str, ...] = tuple(f.name for f in NODE_FIELDS if not f.required
                                    and not f.default and f.type in ("text", "boolean"))
#: Interchange field names.
NODE_NAMES: frozenset[str] = frozenset(f.name for f in NODE_FIELDS)
EDGE_NAMES: frozenset[str] = frozenset(f.name for f in EDGE_FIELDS)
#: The text bound of each optional text attribute of a node.
TEXT_BOUNDS: dict[str, str] = {f.name: f.bound for f in NODE_FIELDS
                               if not f.required and not f.default and f.type == "text"}
#: Fields a push's claim does not carry: identity, and what reconciliation derives.
UNCLAIMED: frozenset[str] = frozenset(f.name for f in NODE_FIELDS if not f.claimed)

#: The stores' node and edge columns, in order (observed state apart).
NODE_COLUMNS: tuple[str, ...] = (*(f.column for f in NODE_FIELDS),
                                 *(c for c, _ in NODE_STORE_COLUMNS))
EDGE_COLUMNS: tuple[str, ...] = (*(f.column for f in EDGE_FIELDS),
                                 *(c for c, _ in EDGE_STORE_COLUMNS))


def sqlite_columns(fields: tuple[FieldSpec, ...], extra: tuple[tuple[str, str], ...],
                   *, key: str) -> list[str]:
    """SQLite column definitions: the fields (``key`` the primary key, required ones
    NOT NULL, JSON ones defaulting to an empty mapping), then ``extra``.

    >>> sqlite_columns(EDGE_FIELDS[:2], (), key="")[:1]
    ['"source" TEXT NOT NULL']
    """
    out = []
    for f in fields:
        line = f'"{f.column}" {f.sql_type}'
        if f.column == key:
            line += " PRIMARY KEY"
        elif f.required or f.default:
            line += " NOT NULL"
        elif f.stored == "json":
            line += " NOT NULL DEFAULT '{}'"
        elif f.column == "impact":
            line += " NOT NULL DEFAULT 'hard'"
        out.append(line)
    out.extend(f'"{name}" {definition}' for name, definition in extra)
    return out


def cypher_projection(columns: tuple[str, ...]) -> str:
    """A Cypher map projection of ``columns`` (``.id, .kind, …``).

    >>> cypher_projection(("id", "kind"))
    '.id, .kind'
    """
    return ", ".join(f".{c}" if c.isidentifier() else f".`{c}`" for c in columns)


def docs_table(fields: tuple[FieldSpec, ...]) -> list[str]:
    """The Markdown table of ``fields`` as ``docs/model.md`` shows it."""
    lines = ["| field | required | bound | what it is |", "|---|---|---|---|"]
    for f in fields:
        bound = (f"{f.bound} text" if f.bound in ("identifier", "name", "line",
                                                   "description") else f.bound)
        required = "yes" if f.required else f"no (default: {f.default})" if f.default else "no"
        lines.append(f"| `{f.name}` | {required} | {bound} | {f.doc} |")
    return lines
