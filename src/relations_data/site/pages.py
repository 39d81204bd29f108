"""What each page of the site shows, as plain data for the Jinja2 templates.

Nothing here names a column of the data model: fields, dates, links and evidence come
from the Table Schemas through :class:`relations_data.records.RecordGraph`.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from ..precision import DateGroup, date_groups, format_interval, machine_date
from ..records import CLASS_COLUMNS, EVIDENCE_TABLE, LABEL_COLUMNS, RecordGraph, Relation
from ..schema import Field, TableSchema

#: Citation stance whose evidence is set apart on every page. Read from the vocabulary of
#: the evidence table when it has one (see :func:`contradicting_stance`).
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,120}$")


def page_name(record_id: str) -> str:
    """File name of a record's page: its id when that is a safe file name, else a hash."""
    if _SAFE_NAME.match(record_id) and ".." not in record_id:
        return f"{record_id}.html"
    return f"r-{hashlib.sha256(record_id.encode('utf-8')).hexdigest()[:16]}.html"


def record_path(table: str, record_id: str) -> str:
    """Path of a record's page from the site root."""
    return f"{table}/{page_name(record_id)}"


@dataclass(frozen=True)
class Cell:
    """One value as shown: text, and optionally a link, a machine date or a definition."""

    text: str
    href: str | None = None
    datetime: str | None = None
    hint: str | None = None


@dataclass(frozen=True)
class Row:
    """A labelled value of a record (``<dt>``/``<dd>``)."""

    title: str
    name: str
    cells: tuple[Cell, ...]


@dataclass
class Section:
    """A list of related rows on a record page."""

    title: str
    headers: tuple[str, ...]
    rows: list[tuple[Cell, ...]] = field(default_factory=list)


def contradicting_stance(graph: RecordGraph) -> str:
    """The stance of contradicting evidence: the vocabulary value that contains "contradict"."""
    schema = graph.schemas.get(EVIDENCE_TABLE)
    if schema is not None:
        for candidate in schema.fields:
            for value in candidate.enum or ():
                if "contradict" in str(value):
                    return str(value)
    return "contradicts"


def stance_field(graph: RecordGraph) -> str | None:
    """The evidence table's column holding the contradicting stance."""
    schema = graph.schemas.get(EVIDENCE_TABLE)
    wanted = contradicting_stance(graph)
    if schema is None:
        return None
    return next((f.name for f in schema.fields if wanted in (f.enum or ())), None)


class Renderer:
    """Turns records into cells, rows and sections for one graph."""

    def __init__(self, graph: RecordGraph) -> None:
        self.graph = graph
        self.groups = {name: date_groups(s) for name, s in graph.schemas.items()}
        self.stance = stance_field(graph)
        self.contradicts = contradicting_stance(graph)

    # -- single values -----------------------------------------------------------------

    def link(self, table: str, record_id: str, root: str) -> Cell:
        if record_id not in self.graph.rows.get(table, {}):
            return Cell(record_id)
        return Cell(self.graph.label(table, record_id), href=root + record_path(table, record_id))

    def date_cell(self, row: Mapping[str, Any], group: DateGroup) -> Cell | None:
        start = row.get(group.start)
        end = row.get(group.end) if group.end else None
        precision = row.get(group.precision) if group.precision else None
        if not isinstance(start, date):
            return None
        precision = str(precision) if precision is not None else "day"
        text = format_interval(start, end if isinstance(end, date) else None, precision)
        return Cell(text, datetime=machine_date(start, precision))

    def value_cell(self, table: str, column: Field, row: Mapping[str, Any], root: str) -> Cell:
        value = row[column.name]
        target = self.graph.link_target(table, column.name, row)
        if target:
            return self.link(target, str(value), root)
        text = str(value)
        if column.enum is not None:
            return Cell(text, hint=column.enum_descriptions.get(text))
        if isinstance(value, float):
            text = f"{value:,.6g}" if abs(value) < 1e6 else f"{value:,.0f}"
        if column.format == "uri" or text.startswith(("https://", "http://")):
            return Cell(text, href=text)
        return Cell(text)

    def fields(self, table: str, row: Mapping[str, Any], root: str) -> list[Row]:
        """Every non-empty field of a record; a date interval and its precision as one."""
        schema = self.graph.schemas[table]
        shown: list[Row] = []
        groups = self.groups[table]
        starts = {g.start: g for g in groups}
        details = {g.end for g in groups if g.end} | {g.precision for g in groups if g.precision}
        for column in schema.fields:
            if column.name in starts:
                cell = self.date_cell(row, starts[column.name])
                if cell is not None:
                    shown.append(
                        Row(_interval_title(column, starts[column.name]), column.name, (cell,))
                    )
            elif column.name not in details and row.get(column.name) is not None:
                cell = self.value_cell(table, column, row, root)
                shown.append(Row(_title(column), column.name, (cell,)))
        return shown

    def when(self, table: str, row: Mapping[str, Any]) -> Cell | None:
        """The first date interval of a record, shown at its precision."""
        for group in self.groups[table]:
            cell = self.date_cell(row, group)
            if cell is not None:
                return cell
        return None

    # -- evidence -----------------------------------------------------------------------

    def evidence_rows(self, citations: list[dict[str, Any]], root: str) -> list[tuple[Cell, ...]]:
        """Source, date, kind, locator, stance, field and note of each citation."""
        source_table = self.graph.source_table or ""
        rows: list[tuple[Cell, ...]] = []
        for citation in citations:
            source = citation["source"]
            source_id = citation.get(self.graph.source_column or "")
            kind = " · ".join(self.source_kinds(source))
            when = self.when(source_table, source) if source else None
            url = source.get("url") if isinstance(source.get("url"), str) else None
            rows.append(
                (
                    self.link(source_table, str(source_id), root),
                    when or Cell("date not known"),
                    Cell(kind),
                    Cell(str(citation.get("locator") or "")),
                    Cell(str(citation.get(self.stance or "") or "")),
                    Cell(str(citation.get("field") or "")),
                    Cell(str(citation.get("note") or "")),
                    Cell("original", href=url) if url else Cell(""),
                )
            )
        return rows

    def source_kinds(self, source: Mapping[str, Any]) -> list[str]:
        """The vocabulary values describing a source (genre, kind, editorial line)."""
        schema = self.graph.schemas.get(self.graph.source_table or "")
        if schema is None:
            return []
        precision = {g.precision for g in self.groups[schema.table]}
        return [
            str(source[f.name])
            for f in schema.fields
            if f.enum is not None and f.name not in precision and source.get(f.name) is not None
        ]

    def split_evidence(
        self, table: str, record_id: str
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """(supporting and context evidence, contradicting evidence) of a record."""
        citations = self.graph.evidence(table, record_id)
        against = [c for c in citations if c.get(self.stance or "") == self.contradicts]
        return [c for c in citations if c not in against], against

    # -- relations ----------------------------------------------------------------------

    def relation_section(self, relation: Relation, root: str) -> Section:
        """Rows of another table pointing at a record, as a table of links and values."""
        schema = self.graph.schemas[relation.table]
        record_table = relation.table in self.graph.rows
        columns = [
            f
            for f in schema.fields
            if f.name != relation.via
            and not _is_reference_selector(f, self.graph)
            and (f.name in relation.targets or _brief(f) or not record_table)
            and not _is_date_detail(f, self.groups[relation.table])
        ]
        if record_table:
            # The record's link shows its label; other brief columns sit beside it.
            label = next((c for c in LABEL_COLUMNS if c in schema.field_names), None)
            columns = [f for f in columns if f.name not in ("id", label)]
        headers = (("Record",) if record_table else ()) + tuple(_title(f) for f in columns)
        if record_table and self.groups[relation.table]:
            headers += ("Date",)
        title = self.graph.package.resource(relation.table).title
        via = schema.field(relation.via)
        section = Section(f"{title} ({_title(via).lower()})", headers)
        for row in relation.rows:
            cells: list[Cell] = []
            if record_table:
                cells.append(self.link(relation.table, row["id"], root))
            for column in columns:
                cells.append(
                    self.value_cell(relation.table, column, row, root)
                    if row.get(column.name) is not None
                    else Cell("")
                )
            if record_table and self.groups[relation.table]:
                cells.append(self.when(relation.table, row) or Cell(""))
            section.rows.append(tuple(cells))
        return section


def _title(column: Field) -> str:
    return column.title or column.name.replace("_", " ").capitalize()


def _interval_title(column: Field, group: DateGroup) -> str:
    """ "Start date" of an interval shown whole is its "Date"."""
    title = _title(column)
    if group.end is None:
        return title
    title = re.sub(r"(?i)\s*\(start\)|\bstart\b\s*", "", title).strip()
    return title.capitalize() or "Date"


def _brief(column: Field) -> bool:
    """A column short enough for a table cell: a code, number or short text (a locator)."""
    if column.enum is not None or column.type in ("number", "integer", "boolean", "year"):
        return True
    limit = column.constraints.get("maxLength")
    return column.type == "string" and isinstance(limit, int) and limit <= 100


def _is_reference_selector(column: Field, graph: RecordGraph) -> bool:
    return any(r.table_field == column.name for refs in graph.references.values() for r in refs)


def _is_date_detail(column: Field, groups: tuple[DateGroup, ...]) -> bool:
    return any(column.name in (g.start, g.end, g.precision) for g in groups)


# -- the timeline ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Mark:
    """One event on the timeline."""

    record_id: str
    href: str
    label: str
    when: Cell
    year: int
    end_year: int
    klass: str
    actors: tuple[str, ...]
    x: float
    lane: int


def timeline_table(graph: RecordGraph) -> str | None:
    """The record table the timeline and chronology show: the first with a class column."""
    for table in graph.record_tables:
        names = graph.schemas[table].field_names
        if any(c in names for c in CLASS_COLUMNS) and date_groups(graph.schemas[table]):
            return table
    return None


def class_column(schema: TableSchema) -> str:
    return next(c for c in CLASS_COLUMNS if c in schema.field_names)


def actor_links(graph: RecordGraph, table: str) -> tuple[str, dict[str, set[str]]]:
    """The table linked to ``table`` through a link table the most (the actors), and links."""
    counts: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for link in graph.link_tables:
        keys = graph.keys[link]
        own = [c for c, t in keys.items() if t == table]
        if not own:
            continue
        for row in graph.frames[link].to_dicts():
            for column, target in keys.items():
                if target != table and row.get(column) is not None:
                    counts[target][row[own[0]]].add(row[column])
    if not counts:
        return "", {}
    best = max(sorted(counts), key=lambda t: sum(len(v) for v in counts[t].values()))
    return best, dict(counts[best])


def timeline_marks(
    graph: RecordGraph, renderer: Renderer, table: str, width: float
) -> tuple[list[Mark], list[str], int, int]:
    """Marks positioned on one linear time scale, lanes by class."""
    schema = graph.schemas[table]
    klass = class_column(schema)
    group = date_groups(schema)[0]
    _, actors = actor_links(graph, table)
    rows = sorted(graph.rows[table].values(), key=lambda r: (r[group.start] or date.min, r["id"]))
    dated = [r for r in rows if isinstance(r.get(group.start), date)]
    if not dated:
        return [], [], 0, 0
    first = dated[0][group.start].year
    end_column = group.end or group.start
    last = max((r.get(end_column) or r[group.start]).year for r in dated)
    span = max(last - first + 1, 1)
    enum = schema.field(klass).enum or ()
    used = [str(v) for v in enum if any(str(r.get(klass)) == str(v) for r in dated)]
    marks = []
    for row in dated:
        start: date = row[group.start]
        end: date = row.get(end_column) or start
        fraction = (start.year - first + (start.timetuple().tm_yday - 1) / 366) / span
        marks.append(
            Mark(
                record_id=row["id"],
                href=record_path(table, row["id"]),
                label=graph.label(table, row["id"]),
                when=renderer.when(table, row) or Cell(""),
                year=start.year,
                end_year=end.year,
                klass=str(row.get(klass)),
                actors=tuple(sorted(actors.get(row["id"], ()))),
                x=round(fraction * width, 1),
                lane=used.index(str(row.get(klass))) if str(row.get(klass)) in used else 0,
            )
        )
    return marks, used, first, last


def years_of(graph: RecordGraph, table: str) -> Iterator[tuple[int, list[dict[str, Any]]]]:
    """Records grouped by the year their first date starts in, oldest first."""
    group = date_groups(graph.schemas[table])[0]
    by_year: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in graph.rows[table].values():
        start = row.get(group.start)
        if isinstance(start, date):
            by_year[start.year].append(row)
    for year in sorted(by_year):
        yield year, sorted(by_year[year], key=lambda r: (r[group.start], r["id"]))
