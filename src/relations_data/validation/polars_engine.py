"""The Polars engine: Pandera schemas built at run time from the Table Schemas.

Nothing here names a table, column, type or vocabulary: every check is derived from a
:class:`~relations_data.schema.TableSchema`. Cells are parsed as their type with
:func:`~relations_data.validation.casting.typed_expression`, so a cell that does not
parse is reported on its own line and column; Pandera (polars backend, ``lazy=True``,
:mod:`.pandera_checks`) then runs the column constraints on the typed frame, and its
``failure_cases`` are mapped back to CSV lines. Keys (composite primary keys, foreign
keys, :mod:`.keys`) are Polars expressions and joins, which Pandera cannot express
efficiently.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from functools import cached_property

import polars as pl

from ..package import Resource
from ..schema import Field, ForeignKey
from .casting import (
    beyond_typed_column,
    can_fail,
    fast_expression,
    typed_dtype,
    typed_expression,
    unrepresentable,
    widened,
)
from .declared import NONE, Declarations
from .dialect import label_problems
from .findings import Collector, merge
from .huge_integers import check_huge_integers
from .keys import ReferenceCache, check_foreign_key, check_primary_key
from .pandera_checks import Deferred, deferred_rules, run_pandera
from .reading import LINE, TextTable, aligned
from .semantic import table_rules
from .typed import ENGINE, RULES, TypedTable, text_name

_TYPE_WORDS = {
    "date": "a date written YYYY-MM-DD",
    "number": "a number",
    "integer": "a whole number",
    "boolean": "true or false",
    "year": "a four-digit year",
    "datetime": "a date and time written YYYY-MM-DDThh:mm:ss",
    "time": "a time written hh:mm:ss",
}


def type_description(field: Field) -> str:
    if field.type == "string" and field.format != "default":
        return f"text in {field.format} format"
    return _TYPE_WORDS.get(field.type, f"a {field.type} value")


def _or_full(fast: pl.Expr | None, field: Field) -> pl.Expr:
    return fast if fast is not None else typed_expression(field)


def _bad_cell(field: Field) -> pl.Expr:
    name = field.name
    text = pl.col(text_name(name))
    return text.is_not_null() & pl.col(name).is_null() & ~unrepresentable(field, text)


def _failing(frame: pl.DataFrame, fields: list[Field]) -> set[str]:
    """Fields with at least one cell that did not parse as the field's type."""
    if not fields:
        return set()
    flags = frame.select([_bad_cell(f).any().alias(f.name) for f in fields]).row(0)
    return {f.name for f, flag in zip(fields, flags, strict=True) if flag}


def _reparsed(frame: pl.DataFrame, field: Field) -> pl.Series:
    """``field``'s typed column with the full grammar applied to the cells the cheap
    parse left null (only those rows are parsed again)."""
    column = frame.get_column(field.name)
    rows = frame.select(pl.arg_where(_bad_cell(field))).to_series()
    parsed = (
        frame.select(pl.col(text_name(field.name)).gather(rows))
        .select(typed_expression(field, text_name(field.name)).cast(typed_dtype(field)))
        .to_series()
    )
    return aligned(column.clone().scatter(rows, parsed), column).alias(field.name)


def typed_table(table: TextTable) -> TypedTable:
    """Parse every column of ``table`` as its type, keeping the text alongside.

    A cheap parse runs first; the full grammar runs only on columns where some cell
    did not pass the cheap one (so valid data never pays for it).
    """
    fields = table.resource.schema.fields
    first = {f.name: fast_expression(f) for f in fields}
    frame = table.frame.select(
        LINE,
        *[pl.col(f.name).alias(text_name(f.name)) for f in fields],
        *[_or_full(first[f.name], f).cast(typed_dtype(f)).alias(f.name) for f in fields],
    )
    failing = _failing(frame, [f for f in fields if can_fail(f)])
    again = [f for f in fields if f.name in failing and first[f.name] is not None]
    if again:
        frame = frame.with_columns(_reparsed(frame, f) for f in again)
        failing = (failing - {f.name for f in again}) | _failing(frame, again)
    wide = _fields_beyond_64_bits(frame, fields)
    if wide:
        frame = frame.with_columns(
            widened(f, pl.col(f.name), pl.col(text_name(f.name))).alias(f.name) for f in wide
        )
    return TypedTable(text=table, frame=frame, type_failures=frozenset(failing))


def _fields_beyond_64_bits(frame: pl.DataFrame, fields: Iterable[Field]) -> list[Field]:
    """Integer fields with a cell too large for the typed Int64 column (rare: such a
    column is widened to Int128 so that its constraints and keys compare exact values)."""
    integers = [f for f in fields if f.type == "integer"]
    if not integers:
        return []
    flags = frame.select(
        beyond_typed_column(f, pl.col(f.name), pl.col(text_name(f.name))).any().alias(f.name)
        for f in integers
    ).row(0)
    return [f for f, flag in zip(integers, flags, strict=True) if flag]


# -- type errors ----------------------------------------------------------------------


def check_types(typed: TypedTable, out: Collector) -> set[tuple[int, str]]:
    """Report cells that do not parse as their type; return their (row index, field)."""
    fields = typed.schema.fields
    out_cells: set[tuple[int, str]] = set()
    out.ran("type", RULES["type"], typed.text.name)
    for field in fields:
        if field.name not in typed.type_failures:
            continue
        rows = (
            typed.frame.with_row_index("__index__")
            .filter(_bad_cell(field))
            .select("__index__", LINE, pl.col(text_name(field.name)).alias("value"))
        )
        expected = type_description(field)
        out.add_rows(
            typed.text,
            rows,
            field.name,
            "type",
            lambda row, expected=expected: f"expected {expected}, found {row['value']!r}",
            value_column="value",
        )
        out_cells.update((index, field.name) for index in rows["__index__"])
    return out_cells


#: What the checks of one table give: its structural findings, its typed frame, and the
#: findings of the semantic rules that look at that table alone (reported later, by
#: :func:`~relations_data.validation.semantic.run`, in the order of a sequential run).
TableResult = tuple[Collector, TypedTable, Collector]


_CELL_MESSAGES = {
    "extra-cell": "expected no cell at position {position} (beyond the labels), found {value!r}",
    "missing-cell": "expected a cell at position {position} (one per label), found none",
}


def check_reading(table: TextTable, out: Collector) -> None:
    """Blank rows, header labels other than the field names, and cells rows have too
    many or too few (:mod:`.dialect`), as frictionless reports them."""
    out.ran("blank-row", RULES["blank-row"], table.name)
    for line in table.blank_lines:
        out.add(
            table, line, None, None, "blank-row", "expected a row with a value, found a blank row"
        )
    for problem in table.problems:
        out.ran(problem.rule, RULES[problem.rule], table.name)
        out.add(
            table,
            problem.line,
            problem.column,
            problem.value or None,
            problem.rule,
            _CELL_MESSAGES[problem.rule].format(value=problem.value, position=problem.position),
        )
    key = ",".join(table.resource.schema.primary_key)
    if key and table.blank_lines:
        # frictionless also reads a blank row as a row whose key cells are all empty.
        out.ran("primary-key", RULES["primary-key"], table.name)
        for line in table.blank_lines:
            out.add(
                table,
                line,
                key,
                None,
                "primary-key",
                f"expected a primary key ({key}), found a blank row",
            )
    if table.labels is None:
        return
    names = table.resource.schema.field_names + table.unread
    for column, rule in label_problems(table.labels, names):
        out.ran(rule, RULES[rule], table.name)
        out.add(
            table,
            table.header_line,
            column,
            column,
            rule,
            f"expected the labels {', '.join(names)}, found {', '.join(table.labels)}",
        )


def _table_checks(
    table: TextTable, deferred: Mapping[str, Collection[str]], declarations: Declarations
) -> TableResult:
    """Types, column constraints (but the ``deferred`` ones, which wait for the foreign
    keys), the primary key and the single-table semantic rules of one table, each in its
    own collector."""
    out = Collector(ENGINE)
    check_reading(table, out)
    typed = typed_table(table)
    type_errors = check_types(typed, out)
    flagged = run_pandera(typed, type_errors, out, deferred)
    check_huge_integers(typed, out)
    ordered = check_primary_key(typed, out)
    typed = replace(typed, key_sorted=ordered, flagged=frozenset(flagged))
    return out, typed, table_rules(table, typed, declarations)


class TableChecks:
    """The per-table checks (:func:`_table_checks`), run two tables at a time.

    A single Polars string kernel keeps one core busy, so checking one table while the
    next is read or checked uses the machine better. :meth:`results` lists them in the
    order asked (package order), so the findings are those of a sequential run, in its
    order, whatever order the tables were read in.
    """

    def __init__(self, resources: Iterable[Resource], declarations: Declarations = NONE) -> None:
        self._resources = tuple(resources)
        self.declarations = declarations
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="table-checks")
        self._pending: dict[str, Future[TableResult]] = {}

    @cached_property
    def deferred(self) -> Deferred:
        """The rules the foreign-key checks settle (computed once the schemas are checked,
        that is at the first :meth:`submit`)."""
        return deferred_rules(self._resources)

    def submit(self, table: TextTable) -> None:
        fields = {name: rules for name, (_, rules) in self.deferred.get(table.name, {}).items()}
        self._pending[table.name] = self._pool.submit(
            _table_checks, table, fields, self.declarations
        )

    def results(self, names: Iterable[str]) -> list[TableResult]:
        """The results of the tables ``names``, in that order."""
        return [self._pending[name].result() for name in names]

    def close(self) -> None:
        """Wait for running checks and drop those not started (after an error)."""
        self._pool.shutdown(wait=True, cancel_futures=True)


def _with_unread_references(
    typed: dict[str, TypedTable], table: TypedTable, fk: ForeignKey
) -> dict[str, TypedTable]:
    """``typed``, with the referenced fields that the target's header has no label for
    added as empty columns: frictionless does not read such a field, so no key matches
    it, and every key that is not empty is reported."""
    target = typed[fk.resource]
    absent = [
        pl.lit(None, dtype=table.frame.schema[mine]).alias(theirs)
        for mine, theirs in zip(fk.fields, fk.reference_fields, strict=True)
        if theirs not in target.frame.columns
    ]
    if not absent:
        return typed
    return {**typed, fk.resource: replace(target, frame=target.frame.with_columns(absent))}


def run(
    tables: dict[str, TextTable], checks: TableChecks | None = None
) -> tuple[Collector, dict[str, TypedTable], list[Collector]]:
    """Run every structural check of the Table Schemas on ``tables``.

    ``checks`` holds the per-table checks already submitted for every table (in table
    order); without it they are submitted here. Returns the findings, the typed tables
    and, per table, the findings of its single-table semantic rules.
    """
    own = checks is None
    checks = checks or TableChecks(table.resource for table in tables.values())
    try:
        if own:
            for table in tables.values():
                checks.submit(table)
        results = checks.results(tables)
    finally:
        if own:
            checks.close()
    out = Collector(ENGINE)
    merge(out, [part for part, _, _ in results])
    typed = {name: result for name, (_, result, _) in zip(tables, results, strict=True)}
    references: ReferenceCache = {}

    deferred = checks.deferred

    def foreign_keys(table: TypedTable) -> Collector:
        part = Collector(ENGINE)
        waiting = deferred.get(table.text.name, {})
        for fk in table.schema.foreign_keys:
            if fk.resource not in typed:
                continue  # a resource only frictionless reads
            entry = waiting.get(fk.fields[0]) if len(fk.fields) == 1 else None
            settles = entry[1] if entry is not None and entry[0] == fk else frozenset()
            targets = _with_unread_references(typed, table, fk)
            check_foreign_key(table, fk, targets, part, references, settles=settles)
        return part

    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="foreign-keys") as pool:
        merge(out, list(pool.map(foreign_keys, typed.values())))
    return out, typed, [rules for _, _, rules in results]
