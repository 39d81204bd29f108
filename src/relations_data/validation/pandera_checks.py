"""Pandera (polars backend) schemas built at run time from Table Schema constraints.

Every constraint becomes one custom :class:`pandera.polars.Check` named after its rule,
so ``failure_cases`` say which rule failed on which row; nulls pass every check (the
``required`` constraint is Pandera's ``nullable=False``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import polars as pl

from ..errors import PackageError
from ..schema import Field, TableSchema
from .casting import parse_constraint, typed_dtype
from .findings import Collector
from .polars_engine import RULES, TypedTable, text_name
from .reading import LINE

if TYPE_CHECKING:
    import pandera.polars as pa


@dataclass(frozen=True)
class ColumnRule:
    """A rule name and the words saying what it expects (for messages)."""

    rule: str
    expected: str
    #: The check's condition on a column (nulls excluded): the same expression Pandera
    #: runs, reused by the screening pass of :func:`flagged_columns`.
    passes: Callable[[pl.Expr], pl.Expr]


def preload() -> threading.Thread:
    """Import Pandera in a background thread and return it.

    Importing Pandera (with NumPy, pydantic and Hypothesis, which it loads on its first
    validation) takes most of a second; the engine needs it only when the screening
    pass finds a violation, by which time the import has run alongside the CSV reads.
    """

    def load() -> None:
        try:
            import pandera.polars as pa

            pa.DataFrameSchema({}).validate(pl.DataFrame())
        except Exception:  # the engine imports it again and reports any problem
            return

    thread = threading.Thread(target=load, name="pandera-preload", daemon=True)
    thread.start()
    return thread


def _check(rule: str, expected: str, build: Callable[..., pl.Expr]) -> ColumnRule:
    return ColumnRule(rule, expected, build)


def pandera_check(rule: ColumnRule) -> pa.Check:
    """The Pandera check of ``rule`` (nulls pass; ``required`` is ``nullable=False``)."""
    import pandera.polars as pa

    def run(data: Any) -> pl.LazyFrame:
        column = pl.col(data.key)
        result: pl.LazyFrame = data.lazyframe.select(
            (column.is_null() | rule.passes(column)).alias(data.key)
        )
        return result

    return pa.Check(run, name=rule.rule)


def _bound(field: Field, name: str, value: Any) -> Callable[[pl.Expr], pl.Expr]:
    bound = parse_constraint(field, value)

    def build(column: pl.Expr) -> pl.Expr:
        compared = {
            "minimum": column >= bound,
            "maximum": column <= bound,
            "exclusiveMinimum": column > bound,
            "exclusiveMaximum": column < bound,
        }[name]
        # frictionless rejects NaN against any bound; Polars would order NaN above all.
        checked: pl.Expr = compared & ~column.is_nan() if field.type == "number" else compared
        return checked

    return build


_BOUND_RULES = {
    "minimum": ("minimum", "at least"),
    "maximum": ("maximum", "at most"),
    "exclusiveMinimum": ("exclusive-minimum", "greater than"),
    "exclusiveMaximum": ("exclusive-maximum", "less than"),
}


def _length(column: pl.Expr, field: Field) -> pl.Expr:
    if typed_dtype(field) == pl.String():
        return column.str.len_chars()
    return column.cast(pl.String).str.len_chars()


def column_rules(field: Field) -> list[ColumnRule]:
    """The checks of one field, one per Table Schema constraint."""
    constraints = field.constraints
    checks: list[ColumnRule] = []
    if field.unique:
        checks.append(
            # Hashes are several times faster to compare; a repeat they report is
            # confirmed against the text in run_pandera, so a collision is never reported.
            _check(
                "unique",
                "a value not used on an earlier line",
                lambda c: c.hash().is_first_distinct(),
            )
        )
    if field.enum is not None:
        allowed = [parse_constraint(field, value) for value in field.enum]
        shown = ", ".join(str(value) for value in field.enum[:12])
        more = ", …" if len(field.enum) > 12 else ""
        checks.append(
            _check("enum", f"one of {shown}{more}", lambda c, allowed=allowed: c.is_in(allowed))
        )
    pattern = constraints.get("pattern")
    if isinstance(pattern, str):
        anchored = f"^(?:{pattern})$"
        checks.append(
            _check(
                "pattern",
                f"text matching {pattern}",
                lambda c, anchored=anchored: c.str.contains(anchored),
            )
        )
    for name, (rule, words) in _BOUND_RULES.items():
        if name in constraints:
            checks.append(
                _check(rule, f"{words} {constraints[name]}", _bound(field, name, constraints[name]))
            )
    for name, rule, words in (
        ("minLength", "min-length", "at least"),
        ("maxLength", "max-length", "at most"),
    ):
        if name in constraints:
            size = int(constraints[name])
            longest = name == "maxLength"
            checks.append(
                _check(
                    rule,
                    f"{words} {size} characters",
                    lambda c, size=size, longest=longest: (
                        _length(c, field) <= size if longest else _length(c, field) >= size
                    ),
                )
            )
    return checks


def _strictly_increasing(column: pl.Expr) -> pl.Expr:
    """True when the non-empty cells strictly increase: a proof that none repeats."""
    present = column.drop_nulls()
    return (present.shift(-1) > present).all()


def _screen(field: Field, *, exact_unique: bool) -> pl.Expr:
    """True when no cell of ``field`` breaks any of its constraints (one aggregate).

    ``unique`` is screened by sort order first (cheap; tables sorted by key prove it:
    distinct values then reach Pandera's hash check only as collisions, which
    :func:`run_pandera` drops), and only when ``exact_unique`` by counting distinct
    hashes, which is exactly Pandera's check.
    """
    column = pl.col(field.name)
    conditions = []
    for rule in column_rules(field):
        if rule.rule == "unique":
            present = column.drop_nulls()
            conditions.append(
                present.hash().n_unique() == present.len()
                if exact_unique
                else _strictly_increasing(column)
            )
        else:
            conditions.append((column.is_null() | rule.passes(column)).all())
    if field.required:
        conditions.append(column.is_not_null().all())
    return pl.all_horizontal(conditions or [pl.lit(True)]).alias(field.name)


def flagged_columns(typed: TypedTable) -> list[str]:
    """Fields with at least one constraint violation, found in one vectorised pass.

    The screen evaluates the expressions the Pandera checks run, so a field it passes
    would give Pandera no finding; Pandera then runs on flagged fields only. A ``unique``
    field whose cells are not in increasing order is screened again by counting hashes.
    """
    fields = typed.schema.fields
    if not fields or typed.frame.height == 0:
        return []
    flags = typed.frame.select([_screen(f, exact_unique=False) for f in fields]).row(0)
    suspects = [f for f, ok in zip(fields, flags, strict=True) if not ok]
    unique = [f for f in suspects if f.unique]
    if unique:
        again = typed.frame.select([_screen(f, exact_unique=True) for f in unique]).row(0)
        cleared = {f.name for f, ok in zip(unique, again, strict=True) if ok}
        suspects = [f for f in suspects if f.name not in cleared]
    return [f.name for f in suspects]


def pandera_schema(
    schema: TableSchema, only: list[str] | None = None
) -> tuple[pa.DataFrameSchema, dict[tuple[str, str], ColumnRule]]:
    """A Pandera DataFrameSchema for the typed frame of ``schema``'s table (restricted to
    the fields ``only`` when given)."""
    import pandera.polars as pa

    columns: dict[str, pa.Column] = {}
    rules: dict[tuple[str, str], ColumnRule] = {}
    for field in schema.fields:
        if only is not None and field.name not in only:
            continue
        checks = column_rules(field)
        for rule in checks:
            rules[(field.name, rule.rule)] = rule
        columns[field.name] = pa.Column(
            typed_dtype(field),
            checks=[pandera_check(rule) for rule in checks],
            nullable=not field.required,
            required=True,
            coerce=False,
        )
    return pa.DataFrameSchema(columns, strict=False, name=schema.table), rules


def _ran_rules(typed: TypedTable, out: Collector) -> None:
    table = typed.text.name
    for field in typed.schema.fields:
        if field.required:
            out.ran("required", RULES["required"], table)
    for field in typed.schema.fields:
        for rule in column_rules(field):
            out.ran(rule.rule, RULES[rule.rule], table)


def run_pandera(typed: TypedTable, type_errors: set[tuple[int, str]], out: Collector) -> None:
    """Validate the typed frame with its Pandera schema; map failure cases to CSV lines.

    A screening pass (:func:`flagged_columns`) first finds the fields with a violation;
    Pandera validates those fields only, so valid data costs one pass per table.
    """
    _ran_rules(typed, out)
    flagged = flagged_columns(typed)
    if not flagged:
        return
    import pandera.errors

    schema, rules = pandera_schema(typed.schema, only=flagged)
    try:
        schema.validate(typed.frame, lazy=True)
    except pandera.errors.SchemaErrors as errors:
        failures = errors.failure_cases
    except pandera.errors.SchemaError as error:  # pragma: no cover - lazy=True collects
        raise PackageError(f"{typed.text.resource.path}: {error}") from None
    else:
        return
    failures = failures.filter(pl.col("index").is_not_null() & pl.col("column").is_not_null())
    lines = typed.frame[LINE]
    for column, check, index in failures.select("column", "check", "index").iter_rows():
        row = int(index)
        if (row, column) in type_errors:
            continue  # a cell that is not of its type is reported once, as a type error
        text = typed.frame[text_name(column)][row]
        line = int(lines[row])
        if check == "not_nullable":
            out.add(
                typed.text,
                line,
                column,
                None,
                "required",
                "expected a value (the field is required), found an empty cell",
            )
            continue
        rule = rules.get((column, str(check)))
        if rule is None:
            out.add(typed.text, line, column, text, str(check), f"failed Pandera check {check}")
            continue
        message = f"expected {rule.expected}, found {text!r}"
        if rule.rule == "unique":
            first = typed.frame.filter(pl.col(column) == typed.frame[column][row])[LINE].min()
            if first == line:
                continue  # a hash collision, not a repeat
            message += f", already on line {first!s}"
        out.add(typed.text, line, column, text, rule.rule, message)
