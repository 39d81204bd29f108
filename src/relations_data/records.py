"""Records, their links and their evidence, read generically from the Table Schemas.

A *record* is a row of a table whose primary key is ``id``. Everything else is found from
the schemas, so the same code serves every version of the data model:

- a foreign key of one column onto ``id`` links a row to a record (``events.place_id``);
- a *link table* (a primary key other than ``id``) joins records (``event_actors``);
- a *polymorphic reference* is a pair ``<x>table``/``<x>id`` whose first column's
  vocabulary is table names (``citations.record_table``/``record_id``);
- *evidence* is the rows of :data:`EVIDENCE_TABLE` pointing at a record, each joined with
  the source its foreign key names.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from .errors import UnknownRecordError
from .package import DataPackage
from .precision import date_groups, format_interval
from .schema import ForeignKey, TableSchema

#: The table whose rows are evidence: one citation of one source for one record.
EVIDENCE_TABLE = "citations"
#: Columns tried, in order, for a record's human-readable label (else its id). A record
#: has no declared "display column" in Table Schema, so this is presentation, not structure.
LABEL_COLUMNS = ("name", "title", "statement", "summary", "alias")
#: Columns tried, in order, as the class of an event on the timelines (2.x, then 1.x).
CLASS_COLUMNS = ("scope_class", "event_type")


@dataclass(frozen=True)
class PolymorphicReference:
    """A column pair naming a record of any table: ``table_field`` and ``id_field``."""

    table_field: str
    id_field: str
    tables: tuple[str, ...]


@dataclass(frozen=True)
class Relation:
    """Rows of ``table`` that point at one record through ``via`` (a column)."""

    table: str
    via: str
    rows: tuple[Mapping[str, Any], ...]
    #: Columns of those rows that name other records: column -> table.
    targets: Mapping[str, str] = field(default_factory=dict)


def polymorphic_references(
    schema: TableSchema, record_tables: tuple[str, ...]
) -> tuple[PolymorphicReference, ...]:
    """Column pairs of ``schema`` whose first column's vocabulary is table names."""
    found = []
    for candidate in schema.fields:
        values = candidate.enum
        if not values or not set(values) <= set(record_tables):
            continue
        partner = candidate.name.replace("table", "id")
        if partner != candidate.name and partner in schema.field_names:
            found.append(PolymorphicReference(candidate.name, partner, tuple(values)))
    return tuple(found)


def _single_id_keys(schema: TableSchema, record_tables: set[str]) -> dict[str, str]:
    """Column -> referenced table, for foreign keys of one column onto a record's ``id``."""
    keys: dict[str, str] = {}
    for key in schema.foreign_keys:
        if _is_record_key(key, record_tables):
            keys[key.fields[0]] = key.resource
    return keys


def _is_record_key(key: ForeignKey, record_tables: set[str]) -> bool:
    return (
        len(key.fields) == 1
        and key.resource in record_tables
        and key.reference_fields in (("id",), ())
    )


class RecordGraph:
    """Every record of one data package with its links and evidence.

    >>> from relations_data.records import load_graph
    >>> graph = load_graph()
    >>> "events" in graph.record_tables
    True
    """

    def __init__(self, package: DataPackage, frames: Mapping[str, pl.DataFrame]) -> None:
        self.package = package
        self.frames = dict(frames)
        self.schemas = package.schemas()
        self.record_tables = tuple(
            name for name, schema in self.schemas.items() if schema.primary_key == ("id",)
        )
        records = set(self.record_tables)
        self.keys = {name: _single_id_keys(s, records) for name, s in self.schemas.items()}
        self.references = {
            name: polymorphic_references(s, self.record_tables) for name, s in self.schemas.items()
        }
        self.link_tables = tuple(
            name
            for name in self.schemas
            if name not in records
            and name != EVIDENCE_TABLE
            and (self.keys[name] or self.references[name])
        )
        self.rows: dict[str, dict[str, dict[str, Any]]] = {
            name: {row["id"]: row for row in self.frames[name].to_dicts()}
            for name in self.record_tables
        }
        self._pointing = self._index_pointing()
        self._evidence = self._index_evidence()

    # -- records ---------------------------------------------------------------------------

    def label(self, table: str, record_id: str) -> str:
        """A record's name, title, statement or summary; its id when it has none."""
        row = self.rows.get(table, {}).get(record_id)
        if row is None:
            return record_id
        for column in LABEL_COLUMNS:
            value = row.get(column)
            if isinstance(value, str) and value:
                return value
        return record_id

    def tables_of(self, record_id: str) -> tuple[str, ...]:
        """The record tables holding a row with this id."""
        return tuple(t for t in self.record_tables if record_id in self.rows[t])

    def link_target(self, table: str, column: str, row: Mapping[str, Any]) -> str | None:
        """The table a cell of ``row`` names a record of, or None."""
        target = self.keys[table].get(column)
        if target is not None:
            return target
        for reference in self.references[table]:
            if column == reference.id_field:
                named = row.get(reference.table_field)
                return str(named) if named in self.rows else None
        return None

    # -- what points at a record ------------------------------------------------------------

    def _index_pointing(self) -> dict[tuple[str, str], list[tuple[str, str, dict[str, Any]]]]:
        pointing: dict[tuple[str, str], list[tuple[str, str, dict[str, Any]]]] = defaultdict(list)
        for name in self.schemas:
            if name == EVIDENCE_TABLE:
                continue
            keys = self.keys[name]
            references = self.references[name]
            if not keys and not references:
                continue
            for row in self.frames[name].to_dicts():
                for column, target in keys.items():
                    if row.get(column) is not None:
                        pointing[(target, row[column])].append((name, column, row))
                for reference in references:
                    table, record_id = row.get(reference.table_field), row.get(reference.id_field)
                    if table is not None and record_id is not None:
                        pointing[(str(table), record_id)].append((name, reference.id_field, row))
        return pointing

    def relations(self, table: str, record_id: str) -> tuple[Relation, ...]:
        """Rows of other tables pointing at a record, grouped by table and column."""
        grouped: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
        for name, column, row in self._pointing.get((table, record_id), []):
            grouped[(name, column)].append(row)
        order = list(self.schemas)
        relations = []
        for (name, column), rows in sorted(grouped.items(), key=lambda i: order.index(i[0][0])):
            targets = {
                c: t
                for c, t in self.keys[name].items()
                if c != column and not (name == table and t == table and c == "id")
            }
            for reference in self.references[name]:
                if reference.id_field != column:
                    targets[reference.id_field] = ""  # resolved per row by link_target
            relations.append(Relation(name, column, tuple(rows), targets))
        return tuple(relations)

    # -- evidence ------------------------------------------------------------------------

    @property
    def source_table(self) -> str | None:
        """The table :data:`EVIDENCE_TABLE`'s foreign key names (the sources)."""
        keys = self.keys.get(EVIDENCE_TABLE, {})
        return next(iter(keys.values()), None)

    @property
    def source_column(self) -> str | None:
        keys = self.keys.get(EVIDENCE_TABLE, {})
        return next(iter(keys), None)

    def _index_evidence(self) -> dict[tuple[str, str], list[dict[str, Any]]]:
        index: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
        if EVIDENCE_TABLE not in self.frames or not self.references[EVIDENCE_TABLE]:
            return index
        reference = self.references[EVIDENCE_TABLE][0]
        for row in self.frames[EVIDENCE_TABLE].to_dicts():
            index[(str(row[reference.table_field]), row[reference.id_field])].append(row)
        return index

    @property
    def evidence_reference(self) -> PolymorphicReference | None:
        references = self.references.get(EVIDENCE_TABLE, ())
        return references[0] if references else None

    def evidence(self, table: str, record_id: str) -> list[dict[str, Any]]:
        """The citations of one record, each with ``"source"``: its source's row."""
        sources = self.rows.get(self.source_table or "", {})
        column = self.source_column or ""
        return [
            {**row, "source": sources.get(str(row.get(column)), {})}
            for row in self._evidence.get((table, record_id), [])
        ]

    def cited_by(self, source_id: str) -> list[dict[str, Any]]:
        """Every citation of one source, in the evidence table's order."""
        column = self.source_column or ""
        if EVIDENCE_TABLE not in self.frames:
            return []
        return [r for r in self.frames[EVIDENCE_TABLE].to_dicts() if r.get(column) == source_id]


def load_graph(
    *, version: str | None = None, source: str | Path | None = None, sha256: str | None = None
) -> RecordGraph:
    """Open a data package (like :func:`relations_data.load`) and index its records."""
    from .loader import load_package, open_source

    package = open_source(version=version, source=source, sha256=sha256)
    frames = load_package(source=package.descriptor_path)
    return RecordGraph(package, dict(frames.items()))


def evidence(
    record_id: str,
    *,
    table: str | None = None,
    version: str | None = None,
    source: str | Path | None = None,
    sha256: str | None = None,
) -> pl.DataFrame:
    """Every citation of a record of any table, with its source's columns.

    Parameters
    ----------
    record_id
        The record's ``id``.
    table
        The record's table; needed only when several tables hold the same id.
    version, source, sha256
        Which data package to read, as for :func:`relations_data.load`.

    Returns
    -------
    polars.DataFrame
        One row per citation: the citation's columns, then the source's columns prefixed
        ``source_`` (``source_title``, ``source_published``, ``source_url`` …), and
        ``source_date_text``: the source's date at its precision ("November 2017").

    Raises
    ------
    UnknownRecordError
        No record table holds ``record_id`` (or ``table`` does not).

    Examples
    --------
    >>> from relations_data.records import evidence
    >>> evidence("1956-05-13-ussr-cambodia-diplomatic-relations")["stance"].to_list()[0]
    'supports'
    """
    graph = load_graph(version=version, source=source, sha256=sha256)
    return graph_evidence(graph, record_id, table=table)


def graph_evidence(graph: RecordGraph, record_id: str, *, table: str | None = None) -> pl.DataFrame:
    """:func:`evidence` on an already loaded graph."""
    tables = graph.tables_of(record_id)
    if table is not None:
        tables = tuple(t for t in tables if t == table)
    if not tables:
        where = f"table {table!r}" if table else "any table"
        raise UnknownRecordError(f"No record with id {record_id!r} in {where}.")
    reference = graph.evidence_reference
    source_table = graph.source_table
    if reference is None or source_table is None:
        raise UnknownRecordError(f"The package has no {EVIDENCE_TABLE!r} table of evidence.")
    citations = graph.frames[EVIDENCE_TABLE].filter(
        pl.col(reference.table_field).cast(pl.String).is_in(list(tables)),
        pl.col(reference.id_field) == record_id,
    )
    sources = graph.frames[source_table]
    groups = date_groups(graph.schemas[source_table])
    shown = [
        format_interval(
            row.get(groups[0].start),
            row.get(groups[0].end) if groups[0].end else None,
            str(row.get(groups[0].precision) or "day") if groups[0].precision else "day",
        )
        if groups
        else ""
        for row in sources.to_dicts()
    ]
    sources = sources.with_columns(date_text=pl.Series(shown, dtype=pl.String))
    prefixed = sources.rename({c: f"source_{c}" for c in sources.columns})
    return citations.join(
        prefixed,
        left_on=graph.source_column,
        right_on="source_id",
        how="left",
        maintain_order="left",
    )
