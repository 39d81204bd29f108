"""Primary and foreign keys as Polars expressions and joins (composite keys included).

Pandera checks one column at a time; keys span columns and tables, so they are
checked here, in a few vectorised passes, and failing rows alone are materialised.
"""

from __future__ import annotations

import polars as pl

from ..schema import ForeignKey
from .findings import Collector
from .pandera_checks import check_deferred
from .reading import LINE
from .typed import RULES, TypedTable, text_name


def _shown(columns: list[str]) -> pl.Expr:
    """The cells of ``columns`` as written in the CSV, comma-separated."""
    return pl.concat_str([pl.col(text_name(c)).fill_null("") for c in columns], separator=",")


def _compare_next(name: str, nullable: bool) -> tuple[pl.Expr, pl.Expr]:
    """Whether each cell of ``name`` sorts strictly before the next row's (nulls first,
    byte order), and whether it equals it (an empty cell equals an empty one). Only the
    last row's answer is wrong, and callers drop it."""
    this, following = pl.col(name), pl.col(name).shift(-1)
    if not nullable:
        return this < following, this == following
    less = (this.is_null() & following.is_not_null()) | (this < following).fill_null(False)
    same = (this.is_null() & following.is_null()) | (this == following).fill_null(False)
    return less, same


def _next_row(comparisons: list[tuple[pl.Expr, pl.Expr]]) -> tuple[pl.Expr, pl.Expr]:
    """Whether each row's key sorts strictly before the next row's, and whether it equals
    it, from the (less, same) comparisons of its fields in key order."""
    before = pl.lit(False)
    equal = pl.lit(True)
    for less, same in reversed(comparisons):
        before, equal = less | (same & before), same & equal
    return before, equal


def _nullable(frame: pl.DataFrame, name: str) -> bool:
    return frame.get_column(name).null_count() > 0


def sorted_by(frame: pl.DataFrame, key: list[str]) -> pl.Expr:
    """True where each row of ``frame`` sorts at or before the next (nulls first, byte
    order)."""
    if len(key) == 1 and not _nullable(frame, key[0]):
        in_order = pl.col(key[0]) <= pl.col(key[0]).shift(-1)
    else:
        before, equal = _next_row([_compare_next(k, _nullable(frame, k)) for k in key])
        in_order = before | equal
    return in_order.slice(0, pl.len() - 1)


def _adjacent(frame: pl.DataFrame, key: list[str]) -> tuple[bool, bool]:
    """Whether the rows are sorted by ``key``, and whether two adjacent rows share a key
    that is not entirely empty.

    Each field is compared with the next row once, into a frame of flags; Polars'
    eager evaluation would otherwise repeat the string comparisons that the combined
    expressions share.
    """
    if frame.height < 2:
        return True, False
    # A column compared with itself shifted by one row has its chunks out of step, which
    # Polars resolves by copying both sides on every comparison: copy the keys once.
    frame = frame.select(key).rechunk()
    comparisons = [_compare_next(k, _nullable(frame, k)) for k in key]
    empty = pl.all_horizontal([pl.col(k).is_null() for k in key])
    flags = frame.select(
        *[
            expression.alias(f"__{kind}{i}")
            for i, pair in enumerate(comparisons)
            for kind, expression in zip(("lt", "eq"), pair, strict=True)
        ],
        empty.alias("__empty"),
    ).slice(0, frame.height - 1)
    before, equal = _next_row([(pl.col(f"__lt{i}"), pl.col(f"__eq{i}")) for i in range(len(key))])
    ordered, repeated = flags.select(
        (before | equal).all(), (equal & ~pl.col("__empty")).any().alias("__repeated")
    ).row(0)
    return bool(ordered), bool(repeated)


def check_primary_key(typed: TypedTable, out: Collector) -> bool | None:
    """Reject keys whose cells are all empty, empty key cells of optional fields, and
    repeated keys (reported on the later line, like frictionless).

    Returns whether the typed rows are sorted by the key (``None`` when not computed, as
    for a single ``unique`` key field), which the canonical-form rule reuses."""
    schema = typed.schema
    key = list(schema.primary_key)
    if not key:
        return None
    out.ran("primary-key", RULES["primary-key"], typed.text.name)
    all_null = pl.all_horizontal([pl.col(k).is_null() for k in key])
    any_null = pl.any_horizontal([pl.col(k).is_null() for k in key])
    # Hashes find candidate repeats fast; candidates are then compared exactly below.
    whole = pl.struct(key).hash() if len(key) > 1 else pl.col(key[0]).hash()
    if len(key) == 1 and schema.field(key[0]).unique:
        # Pandera's unique check already reports each repeat on this very cell.
        repeated = pl.lit(False)
        has_null, has_repeat = typed.frame.select(
            any_null.any().alias("null"), pl.lit(False).alias("repeat")
        ).row(0)
        ordered = None
    else:
        repeated = ~whole.is_first_distinct()
        nan = _nan_keys(typed, key)
        if nan is not None:
            repeated &= ~nan  # NaN equals nothing, itself included, as in frictionless
        # Rows sorted by key (as canonical form requires) hold repeats next to each other,
        # so a comparison with the previous row settles the common case without hashing.
        # One set of row-to-next comparisons gives both the order and adjacent repeats
        # (a row equal to the next, unless both are entirely empty).
        has_null = any(_nullable(typed.frame, k) for k in key)
        ordered, adjacent = _adjacent(typed.frame, key)
        has_repeat = (
            adjacent
            if ordered and nan is None
            else typed.frame.select((repeated & ~all_null).any()).item()
        )
    if has_null:
        _report_empty_keys(typed, key, all_null, out)
    if has_repeat:
        _report_repeated_keys(typed, key, whole, repeated & ~all_null, out)
    return ordered


def _nan_keys(typed: TypedTable, key: list[str]) -> pl.Expr | None:
    """Rows with a NaN in a number field of ``key`` (``None`` when there are none)."""
    numbers = [k for k in key if typed.frame.schema[k].is_float()]
    if not numbers:
        return None
    nan = pl.any_horizontal([pl.col(k).is_nan() for k in numbers]).fill_null(False)
    return nan if typed.frame.select(nan.any()).item() else None


def _report_empty_keys(
    typed: TypedTable, key: list[str], all_null: pl.Expr, out: Collector
) -> None:
    """Rows whose key cells are all empty, and empty key cells of optional fields."""
    joined = ",".join(key)
    empty = typed.frame.filter(all_null).select(LINE, _shown(key).alias("value"))
    out.add_rows(
        typed.text,
        empty,
        joined,
        "primary-key",
        f"expected a primary key ({joined}), found every key cell empty",
        "value",
    )
    for name in key:
        if typed.schema.field(name).required:
            continue  # an empty required cell is already a "required" finding
        partial = typed.frame.filter(pl.col(text_name(name)).is_null() & ~all_null)
        out.add_rows(
            typed.text,
            partial.select(LINE),
            name,
            "primary-key",
            f"expected a value: {name} is part of the primary key ({joined}), found an empty cell",
        )


def _report_repeated_keys(
    typed: TypedTable, key: list[str], whole: pl.Expr, repeated: pl.Expr, out: Collector
) -> None:
    """Each repeat of a key (``whole`` its hash, ``repeated`` marking candidate rows), on
    the later line, with the line of the first: hash candidates compared exactly."""
    joined = ",".join(key)
    candidates = typed.frame.filter(repeated).select(whole.alias("__hash")).to_series()
    all_null = pl.all_horizontal([pl.col(k).is_null() for k in key])
    frame = typed.frame.filter(~all_null & whole.is_in(candidates.implode())).select(
        LINE, *key, *[text_name(k) for k in key]
    )
    firsts = (
        frame.group_by(key, maintain_order=True)
        .agg(pl.col(LINE).first().alias("__first"), pl.len().alias("__count"))
        .filter(pl.col("__count") > 1)
    )
    dupes = (
        frame.join(firsts, on=key, how="inner", nulls_equal=True)
        .filter(pl.col(LINE) != pl.col("__first"))
        .select(LINE, "__first", _shown(key).alias("value"))
        .sort(LINE)
    )
    out.add_rows(
        typed.text,
        dupes,
        joined,
        "primary-key",
        lambda row: (
            f"expected a unique primary key ({joined}), found {row['value']!r} "
            f"already on line {row['__first']}"
        ),
        "value",
    )


#: Distinct hashes of referenced key columns, by (table, column, cast to text); shared by
#: the foreign keys of one run, since several usually point at the same key.
ReferenceCache = dict[tuple[str, str, bool], pl.Series]


def _reference_hashes(
    target: TypedTable, column: str, *, as_string: bool, cache: ReferenceCache
) -> pl.Series:
    key = (target.text.name, column, as_string)
    if key not in cache:
        expression = pl.col(column).cast(pl.String) if as_string else pl.col(column)
        # No ``unique()``: a repeated hash does not change an anti join, and keys rarely repeat.
        cache[key] = target.frame.select(expression.drop_nulls().hash()).to_series()
    return cache[key]


def covers(values: pl.Series, keys: pl.Series) -> bool:
    """Whether ``values`` (no nulls), with repeats next to each other dropped, is exactly
    ``keys``: then every value is a key and every key is used, proven by comparing
    strings, without hashing.

    This is the usual shape of a valid package in canonical form: a link table sorted by
    the key it points at and using every key of it, or the citations of a table citing
    each of its rows. Any other shape returns ``False`` (and the caller hashes).
    """
    if values.len() < keys.len() or values.dtype != keys.dtype or keys.null_count():
        return False
    changes = (values != values.shift(1)).fill_null(True)
    if int(changes.sum()) != keys.len():
        return False
    return bool((values.filter(changes) == keys).all())


#: Column holding a key's 64-bit hash in :func:`missing_hashes`.
HASH = "__hash"


def missing_hashes(rows: pl.LazyFrame, reference: pl.Series, count: int) -> pl.LazyFrame:
    """The rows (in their order, ``count`` of them) whose :data:`HASH` is not among
    ``reference``'s hashes.

    An anti join on 64-bit integers, about twice as fast as ``is_in`` on 2M rows. A join
    builds its hash table on the reference; when the rows are far fewer, the reference is
    first cut down to the hashes they hold (a semi join whose table is built on them).
    """
    known = reference.alias(HASH).to_frame().lazy()
    if count * 8 < reference.len():
        known = known.join(rows.select(HASH), on=HASH, how="semi")
    return rows.join(known, on=HASH, how="anti", maintain_order="left").drop(HASH)


def _as_key(column: str, same_types: bool) -> pl.Expr:
    """A key column as compared with the referenced one: as is, or as text when the
    two columns' types differ."""
    return pl.col(column) if same_types else pl.col(column).cast(pl.String)


def _present(columns: list[str]) -> pl.Expr:
    """Rows whose key is not entirely empty (an empty foreign key passes)."""
    return ~pl.all_horizontal([pl.col(c).is_null() for c in columns])


def _unmatched_values(  # noqa: PLR0917 - the two tables, their columns, how to compare
    typed: TypedTable,
    target: TypedTable,
    mine: str,
    theirs: str,
    same_types: bool,
    cache: ReferenceCache | None,
) -> pl.DataFrame:
    """Lines and values of ``typed``'s single-field key ``mine`` missing from ``theirs``."""
    column = typed.frame.get_column(mine)
    if same_types and not column.null_count() and covers(column, target.frame[theirs]):
        return pl.DataFrame(schema={LINE: pl.Int64, "value": pl.String})  # all found, exactly
    # A value whose hash is not among the reference hashes is certainly missing;
    # comparing 64-bit hashes is several times faster than comparing strings. (A
    # hash collision could hide one missing key: odds about rows / 2**64.)
    reference = _reference_hashes(
        target, theirs, as_string=not same_types, cache={} if cache is None else cache
    )
    rows = typed.frame.lazy()
    if column.null_count():  # else skip a filter that keeps all
        rows = rows.filter(_present([mine]))
    return (
        missing_hashes(
            rows.select(LINE, text_name(mine), _as_key(mine, same_types).hash().alias(HASH)),
            reference,
            typed.frame.height,
        )
        .select(LINE, _shown([mine]).alias("value"))
        .collect()
    )


def check_foreign_key(
    typed: TypedTable,
    fk: ForeignKey,
    tables: dict[str, TypedTable],
    out: Collector,
    cache: ReferenceCache | None = None,
    *,
    settles: frozenset[str] = frozenset(),
) -> None:
    """Rows whose foreign key is not entirely empty must match a row of the referenced
    table; an empty key passes (``required`` says whether it may be empty).

    ``settles`` names the rules of a single-field key that were left to this check
    (:func:`~relations_data.validation.pandera_checks.deferred_rules`): they are screened
    on the values not found in the referenced column only."""
    table = typed.text.name
    target = tables[fk.resource]
    out.ran("foreign-key", RULES["foreign-key"], table)
    left, right = list(fk.fields), list(fk.reference_fields)
    same_types = all(
        typed.frame.schema[mine] == target.frame.schema[theirs]
        for mine, theirs in zip(left, right, strict=True)
    )

    if len(left) == 1:
        unmatched = _unmatched_values(typed, target, left[0], right[0], same_types, cache)
        if settles:
            trusted = right[0] not in target.flagged
            values = unmatched.get_column("value") if trusted else None
            check_deferred(typed, left[0], settles, values, out)
    else:
        keys = target.frame.select(
            [
                _as_key(theirs, same_types).alias(mine)
                for mine, theirs in zip(left, right, strict=True)
            ]
        ).unique()
        unmatched = (
            typed.frame.filter(_present(left))
            .select(
                LINE,
                *[_as_key(c, same_types).alias(c) for c in left],
                _shown(left).alias("value"),
            )
            .join(keys, on=left, how="anti")
            .select(LINE, "value")
        )
    joined = ",".join(left)
    target_fields = ",".join(right)
    out.add_rows(
        typed.text,
        unmatched,
        joined,
        "foreign-key",
        lambda row: (
            f"expected the {target_fields} of a row of table {fk.resource}, found "
            f"{row['value']!r}, which is not there"
        ),
        "value",
    )
