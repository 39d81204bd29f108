"""Evidence in SQL: views of every cited table's rows with their citations, and counts.

``citations`` points at records polymorphically (``record_table``, ``record_id``), which
no SQL foreign key can express, so "what is the evidence for this row?" would take a
hand-written join. The exports add, for every table the citations can point at:

``<table>_evidence`` (view)
    Each row of the table with each of its citations (``citation_*`` columns) and the
    citation's source (``source_*`` columns); a row without citations appears once.
``<table>_evidence_counts`` (view)
    Per row: how many citations there are of each stance (``supports``, ``contradicts``,
    ``context``) and in all.
``<table>_citations`` (SQLite table, derived)
    The citations of that table with real foreign keys onto the record and the source,
    so Datasette's page of a record links to its evidence ("links from other tables").

Every name comes from the Table Schemas (the polymorphic pair, the stance vocabulary,
the source's foreign key).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .package import DataPackage
from .records import EVIDENCE_TABLE, LABEL_COLUMNS, polymorphic_references
from .schema import Field, TableSchema
from .sql import quote_identifier, quote_literal

#: Suffixes of the generated views and tables.
EVIDENCE_VIEW = "{table}_evidence"
COUNTS_VIEW = "{table}_evidence_counts"
CITATIONS_TABLE = "{table}_citations"


@dataclass(frozen=True)
class EvidenceLayout:
    """Where the evidence is: its table, the polymorphic pair, the source key, stances."""

    evidence: TableSchema
    table_field: str
    id_field: str
    cited_tables: tuple[str, ...]
    source_field: str
    source: TableSchema
    stance_field: str | None
    stances: tuple[str, ...]


def evidence_layout(package: DataPackage) -> EvidenceLayout | None:
    """The layout of the evidence table of ``package``, or None when it has none."""
    schemas = package.schemas()
    evidence = schemas.get(EVIDENCE_TABLE)
    if evidence is None:
        return None
    record_tables = tuple(n for n, s in schemas.items() if s.primary_key == ("id",))
    references = polymorphic_references(evidence, record_tables)
    keys = [k for k in evidence.foreign_keys if len(k.fields) == 1 and k.resource in schemas]
    if not references or not keys:
        return None
    stance = next(
        (f for f in evidence.fields if any("contradict" in str(v) for v in f.enum or ())), None
    )
    return EvidenceLayout(
        evidence=evidence,
        table_field=references[0].table_field,
        id_field=references[0].id_field,
        cited_tables=tuple(t for t in references[0].tables if t in schemas),
        source_field=keys[0].fields[0],
        source=schemas[keys[0].resource],
        stance_field=stance.name if stance else None,
        stances=tuple(str(v) for v in stance.enum or ()) if stance else (),
    )


def evidence_views_sql(package: DataPackage) -> list[str]:
    """``CREATE VIEW`` statements of both views for every cited table (SQLite and DuckDB)."""
    layout = evidence_layout(package)
    if layout is None:
        return []
    q = quote_identifier
    statements = []
    citation_columns = [
        c for c in layout.evidence.field_names if c not in (layout.table_field, layout.id_field)
    ]
    for table in layout.cited_tables:
        join = (
            f"FROM {q(table)} AS t LEFT JOIN {q(EVIDENCE_TABLE)} AS c "
            f"ON c.{q(layout.table_field)} = {quote_literal(table)} "
            f"AND c.{q(layout.id_field)} = t.{q('id')}"
        )
        columns = ["t.*"]
        columns += [f"c.{q(c)} AS {q('citation_' + c)}" for c in citation_columns]
        columns += [f"s.{q(c)} AS {q('source_' + c)}" for c in layout.source.field_names]
        statements.append(
            f"CREATE VIEW {q(EVIDENCE_VIEW.format(table=table))} AS SELECT "
            + ", ".join(columns)
            + f" {join} LEFT JOIN {q(layout.source.table)} AS s "
            f"ON s.{q('id')} = c.{q(layout.source_field)}"
        )
        counts = [f"t.{q('id')} AS {q('id')}"]
        if layout.stance_field is not None:
            counts += [
                f"SUM(CASE WHEN c.{q(layout.stance_field)} = {quote_literal(v)} THEN 1 ELSE 0 "
                f"END) AS {q(v)}"
                for v in layout.stances
            ]
        counts.append(f"COUNT(c.{q(layout.source_field)}) AS {q('citations')}")
        statements.append(
            f"CREATE VIEW {q(COUNTS_VIEW.format(table=table))} AS SELECT "
            + ", ".join(counts)
            + f" {join} GROUP BY t.{q('id')}"
        )
    return statements


def citation_tables_sql(package: DataPackage, column_type: Callable[[Field], str]) -> list[str]:
    """SQLite: a ``<table>_citations`` table per cited table, with real foreign keys."""
    layout = evidence_layout(package)
    if layout is None:
        return []
    q = quote_identifier
    fields = [f for f in layout.evidence.fields if f.name != layout.table_field]
    names = ", ".join(q(f.name) for f in fields)
    statements = []
    for table in layout.cited_tables:
        derived = q(CITATIONS_TABLE.format(table=table))
        definitions = [f"{q(f.name)} {column_type(f)}" for f in fields]
        definitions.append(f"FOREIGN KEY ({q(layout.id_field)}) REFERENCES {q(table)} ({q('id')})")
        definitions.append(
            f"FOREIGN KEY ({q(layout.source_field)}) REFERENCES "
            f"{q(layout.source.table)} ({q('id')})"
        )
        statements.append(f"CREATE TABLE {derived} ({', '.join(definitions)})")
        statements.append(
            f"INSERT INTO {derived} ({names}) SELECT {names} FROM {q(EVIDENCE_TABLE)} "
            f"WHERE {q(layout.table_field)} = {quote_literal(table)}"
        )
    return statements


def datasette_evidence_metadata(package: DataPackage) -> dict[str, Any]:
    """Datasette metadata for one database: the views, label columns and canned queries."""
    layout = evidence_layout(package)
    if layout is None:
        return {}
    tables: dict[str, Any] = {}
    for resource in package.resources:
        label = next((c for c in LABEL_COLUMNS if c in resource.schema.field_names), None)
        if resource.schema.primary_key == ("id",) and label:
            tables[resource.name] = {"label_column": label}
    for table in layout.cited_tables:
        title = package.resource(table).title
        tables[CITATIONS_TABLE.format(table=table)] = {
            "title": f"Citations of {title.lower()}",
            "description": f"The rows of {EVIDENCE_TABLE} about {table} (derived, for links "
            f"from each record's page to its evidence).",
        }
        tables[EVIDENCE_VIEW.format(table=table)] = {
            "title": f"{title} with their evidence",
            "description": f"Each row of {table} with each of its citations and the source.",
        }
        tables[COUNTS_VIEW.format(table=table)] = {
            "title": f"{title}: evidence counts",
            "description": f"Per row of {table}, its citations by stance.",
        }
    q = quote_identifier
    source_columns = ", ".join(f"s.{q(c)} AS {q('source_' + c)}" for c in layout.source.field_names)
    evidence_sql = (
        f"SELECT c.*, {source_columns} FROM {q(EVIDENCE_TABLE)} AS c "
        f"LEFT JOIN {q(layout.source.table)} AS s ON s.{q('id')} = c.{q(layout.source_field)} "
        f"WHERE c.{q(layout.id_field)} = :record_id"
    )
    queries = {
        "evidence": {
            "title": "Evidence of a record",
            "description": "Every citation of the record with this id, in any table, with "
            "its source.",
            "sql": evidence_sql,
        }
    }
    if layout.stance_field is not None:
        contradicting = next((v for v in layout.stances if "contradict" in v), None)
        if contradicting:
            queries["contradictions"] = {
                "title": "Contradicting evidence",
                "description": "Every citation that contradicts the record it is about.",
                "sql": f"SELECT c.*, {source_columns} FROM {q(EVIDENCE_TABLE)} AS c LEFT JOIN "
                f"{q(layout.source.table)} AS s ON s.{q('id')} = c.{q(layout.source_field)} "
                f"WHERE c.{q(layout.stance_field)} = {quote_literal(contradicting)}",
            }
    return {"tables": tables, "queries": queries}


def duckdb_comments_sql(package: DataPackage) -> list[str]:
    """``COMMENT ON`` every table and column with its description from the schemas."""
    q = quote_identifier
    statements = []
    for resource in package.resources:
        text = resource.description or resource.title
        if text:
            statements.append(f"COMMENT ON TABLE {q(resource.name)} IS {quote_literal(text)}")
        for field in resource.schema.fields:
            described = f"{field.title}: {field.description}" if field.title else field.description
            if described.strip():
                statements.append(
                    f"COMMENT ON COLUMN {q(resource.name)}.{q(field.name)} IS "
                    f"{quote_literal(described.strip())}"
                )
    return statements
