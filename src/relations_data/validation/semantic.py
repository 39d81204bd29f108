"""Rules Table Schema cannot express, as Polars expressions over the typed tables.

Which columns each rule applies to is derived from the schemas by naming rules and
constraints (documented in ``docs/validation.md``), never from a list of tables:

* an *interval* is a pair of date fields ``X``/``X_end``, ``X_start``/``X_end``,
  ``start``/``end`` or ``X_from``/``X_to``; its *precision* is the string field named
  ``<start>_precision``, ``<prefix>_precision`` or the table's only ``*precision`` field;
* a *polymorphic reference* is a field ``X_table`` whose enum values are table names,
  with its sibling ``X_id``; the enum lists the *fact tables* that need a citation;
* a *validity* is the pair ``valid_from``/``valid_to``; an *event table* has an interval
  whose start and end are both required; a table with foreign keys to a table with a
  validity and to an event table links the two (``event_actors``);
* ISO 3166-1 alpha-3 codes are fields named ``country`` or ``flag`` or whose pattern is
  ``^[A-Z]{3}$`` (ISO 4217 when the field is named ``currency``); IMO numbers are
  fields named ``imo``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

import polars as pl

from ..schema import TableSchema
from .findings import Collector, merge
from .keys import HASH, covers, missing_hashes
from .reading import LINE, TextTable
from .text_rules import RULES as TEXT_RULES
from .text_rules import screen_text
from .typed import ENGINE, TypedTable, text_name

RULES = {
    "date-order": "an interval's end is not before its start",
    "date-precision": "intervals match their precision (month: 1st to last day; year: "
    "1 Jan to 31 Dec)",
    "citation-target": "every citation names an existing row of the table it names",
    "fact-cited": "every row of a fact table has a supporting citation",
    "actor-validity": "actors take part only in events inside their validity dates",
    "imo-check-digit": "IMO numbers carry a valid check digit",
    "iso-country": "country codes exist in ISO 3166-1 (historic codes included)",
    "iso-currency": "currency codes exist in ISO 4217",
    **TEXT_RULES,
}

#: Stance a citation needs to count as support for its record (rule "fact-cited").
SUPPORTING_STANCE = "supports"
STANCE_FIELD = "stance"
VALIDITY = ("valid_from", "valid_to")
ISO3_PATTERN = "^[A-Z]{3}$"
COUNTRY_NAMES = ("country", "flag")


@dataclass(frozen=True)
class Interval:
    start: str
    end: str
    precision: str | None


def intervals(schema: TableSchema) -> list[Interval]:
    """The (start, end, precision) triples of a table, found by the naming rule."""
    dates = {f.name for f in schema.fields if f.type == "date"}
    precisions = [
        f.name for f in schema.fields if f.name.endswith("precision") and f.type == "string"
    ]
    found: list[Interval] = []
    for end in schema.field_names:
        if end not in dates:
            continue
        candidates: list[str] = []
        if end == "end" or end.endswith("_end"):
            candidates += [end[: -len("end")] + "start", end[: -len("_end")]]
        if end.endswith("_to"):
            candidates.append(end[: -len("_to")] + "_from")
        start = next((c for c in candidates if c in dates and c != end), None)
        if start is None:
            continue
        prefix = re.sub(r"_?start$", "", start)
        options = [f"{start}_precision", f"{prefix}_precision" if prefix else ""]
        precision = next((p for p in options if p in precisions), None)
        if precision is None and len(precisions) == 1:
            precision = precisions[0]
        found.append(Interval(start, end, precision))
    return found


def _reference_pair(schema: TableSchema, tables: set[str]) -> tuple[str, str] | None:
    for field in schema.fields:
        if field.name.endswith("_table") and field.enum and set(field.enum) <= tables:
            sibling = field.name[: -len("_table")] + "_id"
            if sibling in schema.field_names:
                return field.name, sibling
    return None


@cache
def _iso_countries() -> frozenset[str]:
    import pycountry

    codes = {c.alpha_3 for c in pycountry.countries}
    codes |= {c.alpha_3 for c in pycountry.historic_countries}
    return frozenset(codes)


@cache
def _iso_currencies() -> frozenset[str]:
    import pycountry

    return frozenset(c.alpha_3 for c in pycountry.currencies)


def _rows(typed: TypedTable, condition: pl.Expr, *columns: pl.Expr | str) -> pl.DataFrame:
    return typed.frame.filter(condition).select(LINE, *columns)


# -- rules ----------------------------------------------------------------------------


def check_intervals(typed: TypedTable, out: Collector) -> None:
    table = typed.text
    # (condition, column, rule, value columns, message) of every interval check; one pass
    # screens them all, and failing rows are materialised only for conditions that hold.
    checks: list[tuple[pl.Expr, str, str, list[pl.Expr], Any]] = []
    for interval in intervals(typed.schema):
        start, end = pl.col(interval.start), pl.col(interval.end)
        out.ran("date-order", RULES["date-order"], table.name)
        checks.append(
            (
                end < start,
                interval.end,
                "date-order",
                [
                    pl.col(text_name(interval.start)).alias("start"),
                    pl.col(text_name(interval.end)).alias("value"),
                ],
                lambda r, i=interval: (
                    f"expected {i.end} on or after {i.start} ({r['start']}), found {r['value']}"
                ),
            )
        )
        if interval.precision is None:
            continue
        out.ran("date-precision", RULES["date-precision"], table.name)
        precision = pl.col(interval.precision)
        # The day after the end opens a month (or year) exactly when the end closes one;
        # a day count plus one is far cheaper than ``dt.month_end`` on every row.
        following = (end.to_physical() + 1).cast(pl.Date)
        bounds = (
            ("month", interval.start, start.dt.day() == 1, "the first day of a month"),
            ("month", interval.end, following.dt.day() == 1, "the last day of a month"),
            ("year", interval.start, start.dt.ordinal_day() == 1, "1 January"),
            ("year", interval.end, following.dt.ordinal_day() == 1, "31 December"),
        )
        for unit, column, ok, expected in bounds:
            checks.append(
                (
                    (precision == unit) & ~ok,
                    column,
                    "date-precision",
                    [pl.col(text_name(column)).alias("value")],
                    lambda r, e=expected, u=unit, p=interval.precision: (
                        f"expected {e} since {p} is {u}, found {r['value']}"
                    ),
                )
            )
    if not checks:
        return
    flags = typed.frame.select(
        [condition.any().alias(f"__{i}") for i, (condition, *_) in enumerate(checks)]
    ).row(0)
    for flag, (condition, column, rule, values, message) in zip(flags, checks, strict=True):
        if flag:
            out.add_rows(table, _rows(typed, condition, *values), column, rule, message, "value")


def _partitions(frame: pl.DataFrame, column: str) -> dict[tuple[Any, ...], pl.DataFrame]:
    """``frame.partition_by(column, as_dict=True)``, as zero-copy slices when each value
    fills one run of rows (a table sorted by ``column``, as canonical form makes it)."""
    runs = frame.select(pl.col(column).rle()).unnest(column)
    values = runs.get_column("value").to_list()
    if len(set(values)) != len(values):
        return frame.partition_by(column, as_dict=True, include_key=True)
    parts: dict[tuple[Any, ...], pl.DataFrame] = {}
    start = 0
    for length, value in zip(runs.get_column("len").to_list(), values, strict=True):
        parts[(value,)] = frame.slice(start, length)
        start += length
    return parts


def _citation_refs(citing: TypedTable, table_field: str, id_field: str) -> pl.DataFrame:
    """The citations as (line, cited table, cited id, supports?), without those with no id."""
    refs = citing.frame.select(
        LINE,
        pl.col(table_field).cast(pl.String),
        pl.col(id_field).cast(pl.String),
        (pl.col(STANCE_FIELD) == SUPPORTING_STANCE).alias("__supports")
        if STANCE_FIELD in citing.schema.field_names
        else pl.lit(True).alias("__supports"),
    )
    if refs.get_column(id_field).null_count():
        refs = refs.filter(pl.col(id_field).is_not_null())
    return refs


def _dangling_citations(
    part: pl.DataFrame, target: TypedTable | None, id_field: str, known_table: bool
) -> pl.DataFrame | None:
    """The citations of ``part`` (all naming one table) whose id is not in ``target``;
    ``None`` when there is nothing to report."""
    key = target.schema.primary_key if target is not None else ()
    if target is None or len(key) != 1:
        # An unknown table is an enum finding; its ids dangle too.
        return None if known_table else part
    if covers(part.get_column(id_field), target.frame[key[0]].cast(pl.String)):
        return None  # every cited id exists
    # Hash membership, as for foreign keys (keys.py): a miss is certain.
    ids = target.frame.select(pl.col(key[0]).cast(pl.String).drop_nulls().hash())
    return missing_hashes(
        part.lazy().with_columns(pl.col(id_field).hash().alias(HASH)),
        ids.to_series(),
        part.height,
    ).collect()


def _uncited_rows(target: TypedTable, cited: pl.Series) -> pl.DataFrame | None:
    """The rows of ``target`` whose id is not among the ``cited`` ids (``None`` if none)."""
    key = target.schema.primary_key[0]
    if covers(cited, target.frame[key].cast(pl.String)):
        return None  # every row has a supporting citation
    rows = target.frame.lazy()
    if target.frame.get_column(key).null_count():
        rows = rows.filter(pl.col(key).is_not_null())
    return missing_hashes(
        rows.select(
            LINE,
            pl.col(key).cast(pl.String),
            pl.col(key).cast(pl.String).hash().alias(HASH),
        ),
        cited.hash(),
        target.frame.height,
    ).collect()


def check_citations(typed: dict[str, TypedTable], out: Collector) -> None:
    """Every citation names an existing record, and every fact row has a supporting one."""
    names = set(typed)
    for citing in typed.values():
        pair = _reference_pair(citing.schema, names)
        if pair is None:
            continue
        table_field, id_field = pair
        fact_tables = [str(v) for v in citing.schema.field(table_field).enum or ()]
        out.ran("citation-target", RULES["citation-target"], citing.text.name)
        # One pass splits the citations by the table they name; each part is then matched
        # against that table's keys only.
        parts = _partitions(_citation_refs(citing, table_field, id_field), table_field)
        for (name,), part in parts.items():
            known = name is None or name in fact_tables
            target = typed.get(str(name)) if name in fact_tables else None
            dangling = _dangling_citations(part, target, id_field, known)
            if dangling is None:
                continue
            out.add_rows(
                citing.text,
                dangling.sort(LINE),
                id_field,
                "citation-target",
                lambda r, t=table_field, i=id_field: (
                    f"expected an id of table {r[t]}, found {r[i]!r}, which is not there"
                ),
                id_field,
            )
        for name in fact_tables:
            target = typed[name]
            if len(target.schema.primary_key) != 1:
                continue
            out.ran("fact-cited", RULES["fact-cited"], name)
            named = parts.get((name,))
            cited = (
                named.filter(pl.col("__supports")).get_column(id_field)
                if named is not None
                else pl.Series(id_field, [], pl.String)
            )
            uncited = _uncited_rows(target, cited)
            if uncited is None:
                continue
            key = target.schema.primary_key[0]
            out.add_rows(
                target.text,
                uncited,
                key,
                "fact-cited",
                lambda r, n=name, k=key, f=citing.text.resource.relpath: (
                    f"expected at least one citation of {n} "
                    f"{r[k]!r} with {STANCE_FIELD} {SUPPORTING_STANCE} in {f}, found none"
                ),
            )


def _has_validity(schema: TableSchema) -> bool:
    fields = {f.name: f.type for f in schema.fields}
    return all(fields.get(name) == "date" for name in VALIDITY)


def _event_intervals(schema: TableSchema) -> list[Interval]:
    """Intervals of an event-like table: both dates required, and no validity pair."""
    if _has_validity(schema):
        return []
    return [
        i
        for i in intervals(schema)
        if schema.field(i.start).required and schema.field(i.end).required
    ]


def _links(typed: dict[str, TypedTable]) -> Iterator[tuple[TypedTable, str, str, str, Interval]]:
    """(link table, actor key field, event key field, event table, event interval)."""
    for link in typed.values():
        valid = [
            fk
            for fk in link.schema.foreign_keys
            if len(fk.fields) == 1
            and fk.resource in typed
            and _has_validity(typed[fk.resource].schema)
        ]
        timed = [
            (fk, _event_intervals(typed[fk.resource].schema))
            for fk in link.schema.foreign_keys
            if len(fk.fields) == 1 and fk.resource in typed and fk.resource != link.text.name
        ]
        for actor_fk in valid:
            for event_fk, spans in timed:
                if event_fk is actor_fk or not spans:
                    continue
                yield link, actor_fk.fields[0], event_fk.fields[0], event_fk.resource, spans[0]


def check_validity(typed: dict[str, TypedTable], out: Collector) -> None:
    for link, actor_field, event_field, event_table, span in _links(typed):
        actor_fk = next(fk for fk in link.schema.foreign_keys if fk.fields == (actor_field,))
        event_fk = next(fk for fk in link.schema.foreign_keys if fk.fields == (event_field,))
        out.ran("actor-validity", RULES["actor-validity"], link.text.name)
        # Only actors with a validity bound can be out of time: usually few of them.
        actors = (
            typed[actor_fk.resource]
            .frame.filter(pl.col(VALIDITY[0]).is_not_null() | pl.col(VALIDITY[1]).is_not_null())
            .select(
                pl.col(actor_fk.reference_fields[0]).alias(actor_field),
                pl.col(VALIDITY[0]).alias("__from"),
                pl.col(VALIDITY[1]).alias("__to"),
            )
            .unique(subset=actor_field, keep="first")
        )
        if actors.is_empty():
            continue
        involved = link.frame.select(LINE, actor_field, event_field).join(
            actors, on=actor_field, how="inner"
        )
        events = (
            typed[event_table]
            .frame.filter(
                pl.col(event_fk.reference_fields[0]).is_in(involved[event_field].implode())
            )
            .select(
                pl.col(event_fk.reference_fields[0]).alias(event_field),
                pl.coalesce(span.start, span.end).alias("__start"),
                pl.coalesce(span.end, span.start).alias("__end"),
            )
            .unique(subset=event_field, keep="first")
        )
        joined = involved.join(events, on=event_field, how="inner").filter(
            (pl.col("__end") < pl.col("__from")) | (pl.col("__start") > pl.col("__to"))
        )
        out.add_rows(
            link.text,
            joined,
            actor_field,
            "actor-validity",
            lambda r, a=actor_field, e=event_field, t=event_table: (
                f"expected {a} {r[a]!r} to exist during {t} {r[e]!r} "
                f"({r['__start']}..{r['__end']}), found it valid "
                f"{r['__from'] or 'open'}..{r['__to'] or 'open'}"
            ),
        )


def check_codes(typed: TypedTable, out: Collector) -> None:
    table = typed.text
    for field in typed.schema.fields:
        if field.type != "string":
            continue
        name = field.name
        column = pl.col(name)
        pattern = field.constraints.get("pattern")
        if name == "imo" or name.endswith("_imo"):
            out.ran("imo-check-digit", RULES["imo-check-digit"], table.name)
            digits = [column.str.slice(i, 1).cast(pl.Int64, strict=False) for i in range(7)]
            weighted = pl.sum_horizontal([d * (7 - i) for i, d in enumerate(digits[:6])])
            bad = _rows(
                typed,
                column.str.contains(r"^[0-9]{7}$") & ((weighted % 10) != digits[6]),
                pl.col(name).alias("value"),
                (weighted % 10).alias("digit"),
            )
            out.add_rows(
                table,
                bad,
                name,
                "imo-check-digit",
                lambda r: (
                    f"expected an IMO number whose last digit is its check digit "
                    f"{r['digit']}, found {r['value']}"
                ),
                "value",
            )
        is_currency = name == "currency" or name.endswith("_currency")
        if is_currency or name in COUNTRY_NAMES or pattern == ISO3_PATTERN:
            rule = "iso-currency" if is_currency else "iso-country"
            known = _iso_currencies() if is_currency else _iso_countries()
            out.ran(rule, RULES[rule], table.name)
            shaped = column.str.contains(f"^(?:{pattern})$") if isinstance(pattern, str) else True
            bad = _rows(
                typed,
                column.is_not_null() & shaped & ~column.is_in(list(known)),
                pl.col(name).alias("value"),
            )
            standard = "ISO 4217 currency" if is_currency else "ISO 3166-1 alpha-3 country"
            out.add_rows(
                table,
                bad,
                name,
                rule,
                lambda r, s=standard: f"expected an {s} code, found {r['value']!r}",
                "value",
            )


def table_rules(text: TextTable, typed: TypedTable) -> Collector:
    """The rules that look at one table alone (intervals, codes, formula triggers,
    canonical form), in a collector of their own."""
    out = Collector(ENGINE)
    check_intervals(typed, out)
    check_codes(typed, out)
    screen_text(text, typed, out)
    return out


def run(
    tables: dict[str, TextTable],
    typed: dict[str, TypedTable],
    out: Collector,
    single: list[Collector] | None = None,
) -> None:
    """Run every semantic rule, adding findings to ``out``.

    ``single`` holds, in table order, the findings of :func:`table_rules` when they have
    already run (alongside the structural checks); otherwise they run here.
    """
    if single is None:
        single = [table_rules(tables[name], table) for name, table in typed.items()]
    merge(out, single)
    check_citations(typed, out)
    check_validity(typed, out)
