"""Parsing text cells as their Table Schema type, the way frictionless-py reads them.

Each reader turns a string column into a typed column where a cell that does not parse
becomes null; comparing nulls before and after finds type errors cell by cell. The
grammars follow frictionless 5's value readers (``Decimal`` for numbers, ``int`` for
integers, ``strptime("%Y-%m-%d")`` for dates, an RFC 3986 scheme for URIs), so both
engines agree on what is a type error.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any

import polars as pl

from ..dtypes import polars_dtype
from ..schema import Field

_DIGITS = r"[0-9](?:_?[0-9])*"
_NUMBER = (
    rf"^\s*[+-]?(?:(?:{_DIGITS}(?:\.(?:{_DIGITS})?)?|\.{_DIGITS})(?:[eE][+-]?{_DIGITS})?"
    r"|(?i:inf|infinity|s?nan[0-9]*))\s*$"
)
_INTEGER = rf"^\s*[+-]?{_DIGITS}\s*$"
_STRING_FORMATS = {
    # rfc3986's validator requires a scheme: a letter, then letters, digits, + . -
    "uri": r"^[A-Za-z][A-Za-z0-9+.\-]*:",
    "uuid": r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$",
    "binary": r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$",
}
_DURATION = (
    r"^P(?:[0-9]+(?:[.,][0-9]+)?Y)?(?:[0-9]+(?:[.,][0-9]+)?M)?(?:[0-9]+(?:[.,][0-9]+)?W)?"
    r"(?:[0-9]+(?:[.,][0-9]+)?D)?(?:T(?:[0-9]+(?:[.,][0-9]+)?H)?(?:[0-9]+(?:[.,][0-9]+)?M)?"
    r"(?:[0-9]+(?:[.,][0-9]+)?S)?)?$"
)
_GEOPOINT = r"^\s*[+-]?[0-9]+(?:\.[0-9]+)?\s*,\s*[+-]?[0-9]+(?:\.[0-9]+)?\s*$"


def _numeric(text: pl.Expr, pattern: str, dtype: pl.DataType) -> pl.Expr:
    cleaned = text.str.strip_chars().str.replace_all("_", "", literal=True)
    special = cleaned.str.to_lowercase()
    value = (
        pl.when(special.str.contains(r"^[+]?inf(inity)?$"))
        .then(pl.lit(float("inf")))
        .when(special.str.contains(r"^-inf(inity)?$"))
        .then(pl.lit(float("-inf")))
        .when(special.str.contains(r"^[+-]?s?nan[0-9]*$"))
        .then(pl.lit(float("nan")))
        .otherwise(cleaned.cast(pl.Float64, strict=False))
        if dtype == pl.Float64
        else cleaned.cast(dtype, strict=False)
    )
    return pl.when(text.str.contains(pattern)).then(value).otherwise(None)


def _date(text: pl.Expr, format_: str) -> pl.Expr:
    if format_ == "default":
        # strptime("%Y-%m-%d") accepts one-digit months and days, and a day written with
        # a leading space (" 2"); pad them for chrono.
        parts = text.str.extract_groups(r"^([0-9]{4})-([0-9]{1,2})-([0-9]{1,2}| [1-9])$")
        padded = pl.concat_str(
            parts.struct.field("1"),
            parts.struct.field("2").str.zfill(2),
            parts.struct.field("3").str.strip_chars_start(" ").str.zfill(2),
            separator="-",
        )
        # Python has no year 0; chrono does.
        return (
            pl.when(parts.struct.field("1") != "0000")
            .then(padded.str.to_date("%Y-%m-%d", strict=False))
            .otherwise(None)
        )
    if format_ == "any":
        return text.str.to_date(strict=False)
    # A Table Schema format is a strftime pattern; chrono (Polars) reads the same directives.
    return text.str.to_date(format_, strict=False)


def _datetime(text: pl.Expr, format_: str) -> pl.Expr:
    if format_ in ("default", "any"):
        pattern = (
            r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?"
            r"(?:Z|[+-][0-9]{2}:?[0-9]{2})?$"
        )
        plain = text.str.replace(r"(?:Z|[+-][0-9]{2}:?[0-9]{2})$", "")
        return (
            pl.when(text.str.contains(pattern))
            .then(plain.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f", time_unit="us", strict=False))
            .otherwise(None)
        )
    return text.str.to_datetime(format_, time_unit="us", strict=False)


def _time(text: pl.Expr, format_: str) -> pl.Expr:
    fmt = "%H:%M:%S" if format_ in ("default", "any") else format_
    return text.str.to_time(fmt, strict=False)


def _json(kind: type) -> Callable[[pl.Expr], pl.Expr]:
    def check(value: str) -> bool:
        try:
            return isinstance(json.loads(value), kind)
        except ValueError:
            return False

    def reader(text: pl.Expr) -> pl.Expr:
        ok = text.map_elements(check, return_dtype=pl.Boolean, skip_nulls=True)
        return pl.when(ok).then(text).otherwise(None)

    return reader


#: String formats whose grammar above is frictionless' exactly (others go to its reader).
_EXACT_STRING_FORMATS = frozenset({"default", "uri", "uuid", "binary"})


def delegated(field: Field) -> bool:
    """Whether cells of ``field`` are read by frictionless' own value reader.

    Times (with ``Z``, offsets, fractions, ``24:00``), datetimes, dates in any format
    but the default one, yearmonth, duration, geopoint (three formats, with range
    checks), geojson, email, and numbers with ``decimalChar``/``groupChar``/
    ``bareNumber``: their grammars (dateutil's parser for ``any``, ISO 8601 variants)
    are frictionless' own code, which a reimplementation would only approximate. Cells
    are read one by one, so these types cost more than the vectorised ones.
    """
    kind, format_ = field.type, field.format
    extra = field.descriptor
    if kind == "string":
        return format_ not in _EXACT_STRING_FORMATS
    if kind in ("integer", "number"):
        return (
            extra.get("bareNumber", True) is not True
            or "groupChar" in extra
            or extra.get("decimalChar", ".") != "."
        )
    if kind == "date":
        return format_ != "default"
    return kind in ("time", "datetime", "yearmonth", "duration", "geopoint", "geojson", "list")


@cache
def _value_reader(descriptor: str) -> Callable[[str], Any]:
    import frictionless

    reader: Callable[[str], Any] = frictionless.Field.from_descriptor(
        json.loads(descriptor)
    ).create_value_reader()
    return reader


def _as_utc(value: dt.datetime | dt.time) -> dt.datetime | dt.time:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).replace(tzinfo=None)
    moment = dt.datetime.combine(dt.date(2000, 1, 1), value.replace(tzinfo=None))
    return (moment - (value.utcoffset() or dt.timedelta())).time()


def _frictionless_reader(field: Field, text: pl.Expr, *, ascii_too: bool = True) -> pl.Expr:
    """``text`` read by frictionless' reader of the field (null where it refuses; also
    for ASCII cells unless ``ascii_too``)."""
    plain = {k: v for k, v in field.descriptor.items() if k not in ("constraints",)}
    plain |= {
        "name": field.name,
        "type": field.type,
        "format": field.format,
        "trueValues": list(field.true_values),
        "falseValues": list(field.false_values),
    }
    key = json.dumps(plain, sort_keys=True, default=str)
    dtype = typed_dtype(field)
    keep_text = dtype == pl.String()
    kind = field.type

    def convert(value: str) -> Any:
        if not ascii_too and value.isascii():
            return None
        # frictionless is imported at the first cell read, not when the plan is built.
        result = _value_reader(key)(value)
        if result is None:
            return None
        if keep_text:
            # One text per value, so that unique and keys compare values, as frictionless
            # does (2020-1 and 2020-01 are one yearmonth).
            return value if kind == "string" else json.dumps(result, sort_keys=True, default=str)
        if isinstance(result, dt.datetime | dt.time) and result.utcoffset() is not None:
            # Values with an offset are compared as UTC (12:00+02:00 equals 10:00Z, as
            # in frictionless); the column holds no zone, so they then equal the same
            # UTC value written without one (a difference listed in docs/validation.md).
            result = _as_utc(result)
        if isinstance(result, Decimal):
            return float(result)
        return result

    return text.map_elements(convert, return_dtype=dtype, skip_nulls=True)


def _pattern(regex: str) -> Callable[[pl.Expr], pl.Expr]:
    return lambda text: pl.when(text.str.contains(regex)).then(text).otherwise(None)


def fast_expression(field: Field) -> pl.Expr | None:
    """A cheaper parse that accepts a subset of what :func:`typed_expression` accepts
    (never more), or ``None`` when the full parse is already cheap. Cells it leaves null
    are parsed again with the full grammar."""
    text = pl.col(field.name)
    if delegated(field):
        return None
    if field.type == "integer":
        return text.cast(pl.Int64, strict=False)
    if field.type == "number":
        return text.cast(pl.Float64, strict=False)
    if field.type == "date" and field.format == "default":
        return (
            pl.when(
                text.str.contains(r"^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}$")
                & ~text.str.starts_with("0000")
            )
            # Dates rarely repeat in a column, so Polars' parse cache costs more than it saves.
            .then(text.str.to_date("%Y-%m-%d", strict=False, cache=False))
            .otherwise(None)
        )
    return None


def can_fail(field: Field) -> bool:
    """Whether :func:`typed_expression` can turn a non-empty cell into null (text
    without a checked format, and ``any``, accept every value)."""
    if field.type == "string":
        return field.format != "default"
    return field.type != "any"


def unrepresentable(field: Field, text: pl.Expr) -> pl.Expr:
    """Cells that are integers by the field's grammar, whatever their size: where the
    typed column is null, an integer beyond 64 bits (frictionless reads any size), no
    type error. :func:`widened` gives them a value up to 128 bits; beyond that the
    column's other rules skip them, as they skip empty cells."""
    if field.type == "integer" and not delegated(field):
        return text.str.contains(_INTEGER)
    return pl.lit(False)


def beyond_typed_column(field: Field, typed: pl.Expr, text: pl.Expr) -> pl.Expr:
    """Cells of ``field`` (``text`` as written, ``typed`` parsed) that are integers by
    its grammar yet null in the typed column: too large for it, and no type error."""
    return text.is_not_null() & typed.is_null() & unrepresentable(field, text)


#: Bounds of Int64 and of Polars' widest integer type, Int128.
INT64_RANGE = (-(2**63), 2**63 - 1)
INT128_RANGE = (-(2**127), 2**127 - 1)


def _wide_integer(cell: str) -> int | None:
    # Python's int reads the grammar frictionless reads (signs, spaces, ``_``, any
    # Unicode digit); Polars' casts do not, and these cells are few.
    value = int(cell)
    return value if INT128_RANGE[0] <= value <= INT128_RANGE[1] else None


def widened(field: Field, typed: pl.Expr, text: pl.Expr) -> pl.Expr:
    """An integer column holding cells beyond 64 bits, as Int128: ``typed`` where it has
    a value, those cells read exactly, null elsewhere (empty cells and type errors)."""
    wide = pl.Int128()
    return (
        pl.when(typed.is_not_null())
        .then(typed.cast(wide))
        .when(unrepresentable(field, text))
        .then(text.map_elements(_wide_integer, return_dtype=wide, skip_nulls=True))
        .otherwise(None)
    )


def typed_expression(field: Field, column: str | None = None) -> pl.Expr:
    """The field's column (or ``column``) parsed as its type; a cell that does not parse
    becomes null."""
    text = pl.col(column or field.name)
    kind, format_ = field.type, field.format
    if delegated(field):
        return _frictionless_reader(field, text)
    if kind == "string":
        regex = _STRING_FORMATS.get(format_)
        return _pattern(regex)(text) if regex else text
    if kind in ("integer", "number"):
        grammar = _numeric(
            text, *((_INTEGER, pl.Int64()) if kind == "integer" else (_NUMBER, pl.Float64()))
        )
        # Python's int and Decimal read any Unicode digit (fullwidth, Arabic-Indic...).
        return (
            pl.when(text.str.contains(r"[^\x00-\x7F]"))
            .then(_frictionless_reader(field, text, ascii_too=False))
            .otherwise(grammar)
        )
    if kind == "boolean":
        return (
            pl.when(text.is_in(list(field.true_values)))
            .then(pl.lit(True))
            .when(text.is_in(list(field.false_values)))
            .then(pl.lit(False))
            .otherwise(None)
        )
    if kind == "date" and format_ == "default":
        # strptime reads any Unicode digit (fullwidth, Arabic-Indic...); chrono does not.
        return (
            pl.when(text.str.contains(r"[^\x00-\x7F]"))
            .then(_frictionless_reader(field, text, ascii_too=False))
            .otherwise(_date(text, format_))
        )
    if kind == "date":
        return _date(text, format_)
    if kind == "datetime":
        return _datetime(text, format_)
    if kind == "time":
        return _time(text, format_)
    if kind == "year":
        return pl.when(text.str.contains(r"^[0-9]{4}$")).then(text.cast(pl.Int32, strict=False))
    if kind == "yearmonth":
        return _pattern(r"^[0-9]{4}-(?:0[1-9]|1[0-2])$")(text)
    if kind == "duration":
        return _pattern(_DURATION)(text.str.strip_chars())
    if kind == "geopoint":
        return _pattern(_GEOPOINT)(text)
    if kind in ("object", "geojson"):
        return _json(dict)(text)
    if kind == "array":
        return _json(list)(text)
    return text  # "any" and unknown types accept every value


def typed_dtype(field: Field) -> pl.DataType:
    """Dtype of :func:`typed_expression` (enums are checked as strings, not ``pl.Enum``)."""
    if field.type in ("integer", "number", "boolean", "date", "datetime", "year"):
        return polars_dtype(field)
    if field.type == "time":
        return pl.Time()
    return pl.String()


def parse_constraint(field: Field, value: Any) -> Any:
    """A constraint value (``minimum``, ``enum`` item...) read as the field's type."""
    kind = field.type
    try:
        if kind == "integer":
            return int(value)
        if kind == "number":
            return float(Decimal(str(value)))
        if kind == "year":
            return int(value)
        if kind == "date" and isinstance(value, str):
            return dt.date.fromisoformat(value)
        if kind == "datetime" and isinstance(value, str):
            moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
            return _as_utc(moment) if moment.tzinfo is not None else moment
        if kind == "time" and isinstance(value, str):
            return dt.time.fromisoformat(value)
        if kind == "boolean" and isinstance(value, str):
            return value in field.true_values
    except (ValueError, TypeError, InvalidOperation):
        return value
    return value
