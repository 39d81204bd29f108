"""Pandera (polars backend) schemas built at run time from Table Schema constraints.

Every constraint becomes one :class:`pandera.polars.Check` named after its rule, so
``failure_cases`` say which rule failed on which row: Pandera's built-in check where one
states the constraint (``isin``, ``str_matches``, ``str_length``, the comparisons), a
custom one where none does (``unique`` reports repeats after the first, not every copy;
bounds of a number reject NaN; lengths of non-text values). Nulls pass every check (the
``required`` constraint is Pandera's ``nullable=False``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import polars as pl

from ..errors import PackageError
from ..package import Resource
from ..schema import Field, ForeignKey, TableSchema
from .casting import INT64_RANGE, INT128_RANGE, can_fail, parse_constraint, typed_dtype
from .findings import Collector
from .reading import LINE
from .typed import RULES, TypedTable, text_name

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
    #: A cheaper condition that implies ``passes``, for the screening pass only (a cell
    #: it fails may still pass: Pandera then decides, with ``passes``).
    screen: Callable[[pl.Expr], pl.Expr] | None = None
    #: Pandera's built-in check stating the same condition as ``passes``, as the name of
    #: its :class:`pandera.polars.Check` constructor and its arguments; ``None`` when no
    #: built-in states the rule.
    builtin: tuple[str, Mapping[str, Any]] | None = None


def _check(
    rule: str,
    expected: str,
    build: Callable[..., pl.Expr],
    screen: Callable[[pl.Expr], pl.Expr] | None = None,
    builtin: tuple[str, Mapping[str, Any]] | None = None,
) -> ColumnRule:
    return ColumnRule(rule, expected, build, screen, builtin)


def pandera_check(rule: ColumnRule) -> pa.Check:
    """The Pandera check of ``rule`` (nulls pass; ``required`` is ``nullable=False``).

    Named after the rule, and with the rule as its error text, so that ``failure_cases``
    name the rule whether the check is built in or not.
    """
    import pandera.polars as pa

    if rule.builtin is not None:
        constructor, arguments = rule.builtin
        check: pa.Check = getattr(pa.Check, constructor)(
            **arguments, name=rule.rule, error=rule.rule
        )
        return check

    def run(data: Any) -> pl.LazyFrame:
        column = pl.col(data.key)
        result: pl.LazyFrame = data.lazyframe.select(
            (column.is_null() | rule.passes(column)).alias(data.key)
        )
        return result

    return pa.Check(run, name=rule.rule)


#: Pandera's built-in comparison for each bound of the Table Schema.
_BOUND_CHECKS = {
    "minimum": "greater_than_or_equal_to",
    "maximum": "less_than_or_equal_to",
    "exclusiveMinimum": "greater_than",
    "exclusiveMaximum": "less_than",
}


def _bound_builtin(field: Field, name: str, value: Any) -> tuple[str, Mapping[str, Any]] | None:
    """Pandera's comparison, except for a number: its bound must also reject NaN."""
    if field.type == "number" or _beyond_64_bits(parse_constraint(field, value)):
        return None
    argument = "min_value" if name in ("minimum", "exclusiveMinimum") else "max_value"
    return _BOUND_CHECKS[name], {argument: parse_constraint(field, value)}


def _beyond_64_bits(value: Any) -> bool:
    return isinstance(value, int) and not INT64_RANGE[0] <= value <= INT64_RANGE[1]


def _wide_bound(name: str, bound: int) -> Callable[[pl.Expr], pl.Expr]:
    """A bound beyond 64 bits, compared in Int128 (a column with such cells is Int128,
    :func:`~relations_data.validation.casting.widened`); a bound beyond Int128 is passed
    or failed by every value the column can hold, so it is clamped to Int128's range."""
    low, high = INT128_RANGE
    upper = name in ("maximum", "exclusiveMaximum")
    if bound > high:
        return (
            (lambda c: c.cast(pl.Int128) <= high) if upper else (lambda c: c.cast(pl.Int128) > high)
        )
    if bound < low:
        return (
            (lambda c: c.cast(pl.Int128) < low) if upper else (lambda c: c.cast(pl.Int128) >= low)
        )
    limit = pl.lit(bound, dtype=pl.Int128)
    return lambda c: {
        "minimum": c.cast(pl.Int128) >= limit,
        "maximum": c.cast(pl.Int128) <= limit,
        "exclusiveMinimum": c.cast(pl.Int128) > limit,
        "exclusiveMaximum": c.cast(pl.Int128) < limit,
    }[name]


def _wide_enum(field: Field, allowed: list[Any]) -> bool:
    """Whether an integer field's ``enum`` holds values beyond 64 bits."""
    return field.type == "integer" and any(_beyond_64_bits(v) for v in allowed)


def _is_in(field: Field, allowed: list[Any]) -> Callable[[pl.Expr], pl.Expr]:
    """Membership in ``allowed``; integers beyond 64 bits are compared in Int128 (values
    beyond Int128 cannot be in the column and are left out)."""
    if not _wide_enum(field, allowed):
        return lambda c: c.is_in(allowed)
    low, high = INT128_RANGE
    wide = pl.Series([v for v in allowed if low <= v <= high], dtype=pl.Int128)
    return lambda c: c.cast(pl.Int128).is_in(wide.implode())


def _bound(field: Field, name: str, value: Any) -> Callable[[pl.Expr], pl.Expr]:
    bound = parse_constraint(field, value)
    if field.type == "integer" and _beyond_64_bits(bound):
        return _wide_bound(name, bound)

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


#: Each Table Schema bound: its rule name and the words saying what it expects.
BOUND_RULES = {
    "minimum": ("minimum", "at least"),
    "maximum": ("maximum", "at most"),
    "exclusiveMinimum": ("exclusive-minimum", "greater than"),
    "exclusiveMaximum": ("exclusive-maximum", "less than"),
}


#: Types whose typed column holds their values as JSON text; their length is the
#: number of items (keys of an object), as frictionless counts it.
_CONTAINERS = ("array", "list", "object")


def _items(text: str) -> int:
    return len(json.loads(text))


def _length(column: pl.Expr, field: Field) -> pl.Expr:
    if field.type in _CONTAINERS:
        return column.map_elements(_items, return_dtype=pl.Int64, skip_nulls=True)
    if typed_dtype(field) == pl.String():
        return column.str.len_chars()
    return column.cast(pl.String).str.len_chars()


def _bytes_at_most(size: int) -> Callable[[pl.Expr], pl.Expr]:
    return lambda column: column.str.len_bytes() <= size


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
                # NaN equals nothing, itself included, as in frictionless.
                (lambda c: c.hash().is_first_distinct() | c.is_nan())
                if field.type == "number"
                else (lambda c: c.hash().is_first_distinct()),
            )
        )
    if field.enum is not None:
        allowed = [parse_constraint(field, value) for value in field.enum]
        shown = ", ".join(str(value) for value in field.enum[:12])
        more = ", …" if len(field.enum) > 12 else ""
        checks.append(
            _check(
                "enum",
                f"one of {shown}{more}",
                _is_in(field, allowed),
                builtin=None
                if _wide_enum(field, allowed)
                else ("isin", {"allowed_values": allowed}),
            )
        )
    pattern = constraints.get("pattern")
    if isinstance(pattern, str):
        anchored = f"^(?:{pattern})$"
        checks.append(
            _check(
                "pattern",
                f"text matching {pattern}",
                lambda c, anchored=anchored: c.str.contains(anchored),
                builtin=("str_matches", {"pattern": anchored}),
            )
        )
    checks.extend(_bound_rules(field))
    checks.extend(_length_rules(field))
    return checks


def _bound_rules(field: Field) -> list[ColumnRule]:
    """The checks of the field's minimum and maximum, exclusive or not."""
    checks = []
    for name, (rule, words) in BOUND_RULES.items():
        if name in field.constraints:
            value = field.constraints[name]
            checks.append(
                _check(
                    rule,
                    f"{words} {value}",
                    _bound(field, name, value),
                    builtin=_bound_builtin(field, name, value),
                )
            )
    return checks


def _length_rules(field: Field) -> list[ColumnRule]:
    """The checks of the field's minLength and maxLength."""
    checks = []
    for name, rule, words in (
        ("minLength", "min-length", "at least"),
        ("maxLength", "max-length", "at most"),
    ):
        if name in field.constraints:
            size = int(field.constraints[name])
            longest = name == "maxLength"
            # No text has more characters than bytes, and bytes are counted without
            # decoding: a cheap proof of maxLength for the screen.
            text = typed_dtype(field) == pl.String() and field.type not in _CONTAINERS
            screen = _bytes_at_most(size) if longest and text else None
            # Pandera's str_length counts characters of text only.
            limit = {"max_value" if longest else "min_value": size}
            checks.append(
                _check(
                    rule,
                    f"{words} {size} {'items' if field.type in _CONTAINERS else 'characters'}",
                    lambda c, size=size, longest=longest: (
                        _length(c, field) <= size if longest else _length(c, field) >= size
                    ),
                    screen,
                    ("str_length", limit) if text else None,
                )
            )
    return checks


def _strictly_increasing(column: pl.Expr) -> pl.Expr:
    """True when the non-empty cells strictly increase: a proof that none repeats."""
    present = column.drop_nulls()
    return (present.shift(-1) > present).all()


def _screen(field: Field, *, exact_unique: bool, skip: Collection[str] = ()) -> pl.Expr:
    """True when no cell of ``field`` breaks any of its constraints (one aggregate).

    ``unique`` is screened by sort order first (cheap; tables sorted by key prove it:
    distinct values then reach Pandera's hash check only as collisions, which
    :func:`run_pandera` drops), and only when ``exact_unique`` by counting distinct
    hashes, which is exactly Pandera's check.
    """
    values = pl.col(field.name)
    conditions = []
    for rule in column_rules(field):
        if rule.rule in skip:
            continue
        if rule.rule == "unique":
            present = values.drop_nulls()
            conditions.append(
                present.hash().n_unique() == present.len()
                if exact_unique
                else _strictly_increasing(values)
            )
        else:
            condition = rule.screen or rule.passes
            conditions.append((values.is_null() | condition(values)).all())
    if field.required and "required" not in skip:
        conditions.append(values.is_not_null().all())
    return pl.all_horizontal(conditions or [pl.lit(True)]).alias(field.name)


def flagged_columns(
    typed: TypedTable, deferred: Mapping[str, Collection[str]] | None = None
) -> list[str]:
    """Fields with at least one constraint violation, found in one vectorised pass.

    The screen evaluates the expressions the Pandera checks run, so a field it passes
    would give Pandera no finding; Pandera then runs on flagged fields only. A ``unique``
    field whose cells are not in increasing order is screened again by counting hashes.
    The ``deferred`` rules of a field (see :func:`deferred_rules`) are left to
    :func:`check_deferred`.
    """
    fields = typed.schema.fields
    if not fields or typed.frame.height == 0:
        return []
    deferred = deferred or {}
    height = typed.frame.height
    flags = typed.frame.select(
        # An empty column passes every rule but ``required``; string kernels would
        # still walk its million nulls.
        pl.lit(not f.required).alias(f.name)
        if typed.frame.get_column(f.name).null_count() == height
        else _screen(f, exact_unique=False, skip=deferred.get(f.name, ()))
        for f in fields
    ).row(0)
    suspects = [f for f, ok in zip(fields, flags, strict=True) if not ok]
    unique = [f for f in suspects if f.unique]
    if unique:
        again = typed.frame.select(
            [_screen(f, exact_unique=True, skip=deferred.get(f.name, ())) for f in unique]
        ).row(0)
        cleared = {f.name for f, ok in zip(unique, again, strict=True) if ok}
        suspects = [f for f in suspects if f.name not in cleared]
    return [f.name for f in suspects]


def pandera_schema(
    schema: TableSchema,
    only: Collection[str] | None = None,
    rule_names: Collection[str] | None = None,
    dtypes: Mapping[str, pl.DataType] | None = None,
) -> tuple[pa.DataFrameSchema, dict[tuple[str, str], ColumnRule]]:
    """A Pandera DataFrameSchema for the typed frame of ``schema``'s table (restricted to
    the fields ``only`` and to the rules ``rule_names`` when given; ``required`` is one
    of the rules). ``dtypes``, the typed frame's, names columns widened beyond their
    usual type (integers beyond 64 bits): their dtype is left unchecked, since Pandera
    does not support Int128."""
    import pandera.polars as pa

    columns: dict[str, pa.Column] = {}
    rules: dict[tuple[str, str], ColumnRule] = {}
    for field in schema.fields:
        if only is not None and field.name not in only:
            continue
        checks = [
            rule for rule in column_rules(field) if rule_names is None or rule.rule in rule_names
        ]
        for rule in checks:
            rules[(field.name, rule.rule)] = rule
        checks_required = rule_names is None or "required" in rule_names
        dtype: pl.DataType | None = typed_dtype(field)
        if dtypes is not None and dtypes.get(field.name, dtype) != dtype:
            dtype = None
        columns[field.name] = pa.Column(
            dtype,
            checks=[pandera_check(rule) for rule in checks],
            nullable=not (field.required and checks_required),
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


def run_pandera(
    typed: TypedTable,
    type_errors: set[tuple[int, str]],
    out: Collector,
    deferred: Mapping[str, Collection[str]] | None = None,
) -> list[str]:
    """Validate the typed frame with its Pandera schema; map failure cases to CSV lines.

    A screening pass (:func:`flagged_columns`) first finds the fields with a violation;
    Pandera validates those fields only (every rule of each), so valid data costs one
    pass per table. Returns the flagged fields.
    """
    _ran_rules(typed, out)
    flagged = flagged_columns(typed, deferred)
    if flagged:
        _validate(typed, type_errors, out, flagged)
    return flagged


def _validate(
    typed: TypedTable,
    type_errors: set[tuple[int, str]],
    out: Collector,
    fields: list[str],
    rule_names: Collection[str] | None = None,
) -> None:
    """Run Pandera on ``fields`` (with ``rule_names`` only, when given) and report every
    failure case on its CSV line."""
    import pandera.errors

    schema, rules = pandera_schema(
        typed.schema, only=fields, rule_names=rule_names, dtypes=typed.frame.schema
    )
    rows = _suspect_rows(typed, fields, rules, rule_names)
    frame = typed.frame if rows is None else typed.frame.select(fields).gather(rows)
    try:
        schema.validate(frame, lazy=True)
    except pandera.errors.SchemaErrors as errors:
        failures = errors.failure_cases
    except pandera.errors.SchemaError as error:  # pragma: no cover - lazy=True collects
        raise PackageError(f"{typed.text.resource.path}: {error}") from None
    else:
        return
    failures = failures.filter(pl.col("index").is_not_null() & pl.col("column").is_not_null())
    lines = typed.frame[LINE]
    for column, check, index in failures.select("column", "check", "index").iter_rows():
        row = int(index) if rows is None else int(rows[int(index)])
        if (row, column) in type_errors:
            continue  # a cell that is not of its type is reported once, as a type error
        text = typed.frame[text_name(column)][row]
        line = int(lines[row])
        if check == "not_nullable":
            if text is not None:
                continue  # a cell as written (NaN, say) is a value, as frictionless reads it
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


def _suspect_rows(
    typed: TypedTable,
    fields: list[str],
    rules: Mapping[tuple[str, str], ColumnRule],
    rule_names: Collection[str] | None,
) -> pl.Series | None:
    """Positions of the rows where some rule of ``fields`` fails (by the very expressions
    the Pandera checks run), or ``None`` when a ``unique`` rule needs every row.

    Pandera then validates those rows only: it finds the same failure cases at a fraction
    of the cost on a large table with a few bad cells.
    """
    if any(rule == "unique" for _, rule in rules):
        return None
    conditions = [
        pl.col(name).is_null() | rule.passes(pl.col(name)) for (name, _), rule in rules.items()
    ]
    if rule_names is None or "required" in rule_names:
        conditions += [
            pl.col(name).is_not_null() for name in fields if typed.schema.field(name).required
        ]
    if not conditions:
        return None
    failing = ~pl.all_horizontal(conditions)
    return typed.frame.select(pl.arg_where(failing)).to_series()


# -- rules proven through a foreign key -----------------------------------------------

#: Per table and field: the single-field foreign key and the rules its check settles.
Deferred = dict[str, dict[str, tuple[ForeignKey, frozenset[str]]]]


def _implied(field: Field, target: Field) -> frozenset[str]:
    """The rules of ``field`` that every value of ``target`` passing its own rules passes:
    a foreign-key cell equal to such a value needs no check of its own for them."""
    if not all(f.type == "string" and not can_fail(f) for f in (field, target)):
        return frozenset()
    mine, theirs = field.constraints, target.constraints
    rules: set[str] = set()
    if isinstance(mine.get("pattern"), str) and mine.get("pattern") == theirs.get("pattern"):
        rules.add("pattern")
    if "maxLength" in mine and "maxLength" in theirs and theirs["maxLength"] <= mine["maxLength"]:
        rules.add("max-length")
    if "minLength" in mine and "minLength" in theirs and theirs["minLength"] >= mine["minLength"]:
        rules.add("min-length")
    return frozenset(rules)


def deferred_rules(resources: Iterable[Resource]) -> Deferred:
    """The rules of foreign-key fields that the foreign-key check settles.

    An identifier column repeats the pattern and length of the key it points at; checking
    a regular expression on millions of such cells costs more than the rest of their
    checks together. A cell found among the referenced values (which pass the same
    rules) passes them too, so only the cells the foreign-key check did not find are
    screened (:func:`check_deferred`). The referenced field must not wait for a key of
    its own.
    """
    schemas = {resource.name: resource.schema for resource in resources}
    found: Deferred = {}
    for name, schema in schemas.items():
        for fk in schema.foreign_keys:
            target = schemas.get(fk.resource)
            if len(fk.fields) != 1 or target is None:
                continue
            if fk.fields[0] not in schema.field_names:
                continue
            if fk.reference_fields[0] not in target.field_names:
                continue
            rules = _implied(schema.field(fk.fields[0]), target.field(fk.reference_fields[0]))
            if rules:
                found.setdefault(name, {}).setdefault(fk.fields[0], (fk, rules))
    return {
        name: kept
        for name, fields in found.items()
        if (
            kept := {
                field: entry
                for field, entry in fields.items()
                if entry[0].reference_fields[0] not in found.get(entry[0].resource, {})
            }
        )
    }


def check_deferred(
    typed: TypedTable,
    field: str,
    rule_names: frozenset[str],
    unmatched: pl.Series | None,
    out: Collector,
) -> None:
    """Screen ``field``'s deferred rules on the values its foreign key did not find in
    the referenced column (``unmatched``; ``None`` when that column itself has
    violations, so every value is screened); run Pandera with those rules if one fails.
    """
    if field in typed.flagged:
        return  # Pandera has already run every rule of the field
    schema_field = typed.schema.field(field)
    values = typed.frame.select(field) if unmatched is None else unmatched.to_frame(field)
    skip = [r.rule for r in column_rules(schema_field) if r.rule not in rule_names]
    screened = _screen(schema_field, exact_unique=False, skip=[*skip, "required"])
    if values.height == 0 or values.select(screened).item():
        return
    _validate(typed, set(), out, [field], rule_names)
