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

from dataclasses import dataclass, replace

import polars as pl

from ..schema import Field, TableSchema
from .casting import can_fail, fast_expression, typed_dtype, typed_expression
from .findings import Collector
from .reading import LINE, TextTable

ENGINE = "polars"

RULES = {
    "type": "every cell parses as its field's type (and format)",
    "required": "required fields have a value",
    "unique": "unique fields repeat no value",
    "enum": "values come from the field's enum",
    "pattern": "text matches the field's pattern",
    "minimum": "values are at least the field's minimum",
    "maximum": "values are at most the field's maximum",
    "exclusive-minimum": "values exceed the field's exclusiveMinimum",
    "exclusive-maximum": "values stay below the field's exclusiveMaximum",
    "min-length": "text is at least minLength characters long",
    "max-length": "text is at most maxLength characters long",
    "primary-key": "primary keys are present and unique",
    "foreign-key": "foreign keys point at existing rows",
}
#: Rules the Table Schema states: both engines report these (semantic rules are polars-only).
STRUCTURAL_RULES = frozenset(RULES)

_TYPE_WORDS = {
    "date": "a date written YYYY-MM-DD",
    "number": "a number",
    "integer": "a whole number",
    "boolean": "true or false",
    "year": "a four-digit year",
    "datetime": "a date and time written YYYY-MM-DDThh:mm:ss",
    "time": "a time written hh:mm:ss",
}


@dataclass(frozen=True)
class TypedTable:
    """A table's text frame joined with its typed columns (named ``<field>`` typed and
    ``<field>__text`` as read), and the :data:`LINE` of each record."""

    text: TextTable
    frame: pl.DataFrame
    type_failures: frozenset[str] = frozenset()
    #: Whether the rows are sorted by the composite primary key, when the key check
    #: has found out (``None`` otherwise).
    key_sorted: bool | None = None

    @property
    def schema(self) -> TableSchema:
        return self.text.resource.schema


def text_name(field: str) -> str:
    return f"{field}__text"


def type_description(field: Field) -> str:
    if field.type == "string" and field.format != "default":
        return f"text in {field.format} format"
    return _TYPE_WORDS.get(field.type, f"a {field.type} value")


def _or_full(fast: pl.Expr | None, field: Field) -> pl.Expr:
    return fast if fast is not None else typed_expression(field)


def _bad_cell(name: str) -> pl.Expr:
    return pl.col(text_name(name)).is_not_null() & pl.col(name).is_null()


def _failing(frame: pl.DataFrame, names: list[str]) -> set[str]:
    """Fields with at least one cell that did not parse as the field's type."""
    if not names:
        return set()
    flags = frame.select([_bad_cell(n).any().alias(n) for n in names]).row(0)
    return {name for name, flag in zip(names, flags, strict=True) if flag}


def _reparsed(frame: pl.DataFrame, field: Field) -> pl.Series:
    """``field``'s typed column with the full grammar applied to the cells the cheap
    parse left null (only those rows are parsed again)."""
    column = frame.get_column(field.name)
    rows = frame.select(pl.arg_where(_bad_cell(field.name))).to_series()
    parsed = (
        frame.select(pl.col(text_name(field.name)).gather(rows))
        .select(typed_expression(field, text_name(field.name)).cast(typed_dtype(field)))
        .to_series()
    )
    return column.clone().scatter(rows, parsed).alias(field.name)


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
    failing = _failing(frame, [f.name for f in fields if can_fail(f)])
    again = [f for f in fields if f.name in failing and first[f.name] is not None]
    if again:
        frame = frame.with_columns(_reparsed(frame, f) for f in again)
        failing = (failing - {f.name for f in again}) | _failing(frame, [f.name for f in again])
    return TypedTable(text=table, frame=frame, type_failures=frozenset(failing))


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
            .filter(_bad_cell(field.name))
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


def run(tables: dict[str, TextTable]) -> tuple[Collector, dict[str, TypedTable]]:
    """Run every structural check of the Table Schemas on ``tables``."""
    from .keys import ReferenceCache, check_foreign_key, check_primary_key
    from .pandera_checks import run_pandera

    out = Collector(ENGINE)
    typed = {name: typed_table(table) for name, table in tables.items()}
    for table in list(typed.values()):
        type_errors = check_types(table, out)
        run_pandera(table, type_errors, out)
        ordered = check_primary_key(table, out)
        if ordered is not None:
            typed[table.text.name] = replace(table, key_sorted=ordered)
    references: ReferenceCache = {}
    for table in typed.values():
        for fk in table.schema.foreign_keys:
            check_foreign_key(table, fk, typed, out, references)
    return out, typed
