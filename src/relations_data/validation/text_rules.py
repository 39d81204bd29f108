"""Text rules of the Polars engine: formula triggers and canonical form.

Both look at the cells as read. One cheap pass per table (:func:`screen`) decides
whether any cell could break either rule; the exact screens run only when one could.
"""

from __future__ import annotations

import importlib
import re
from functools import cache
from typing import Any

import polars as pl

from ..canonical import canonical_bytes, canonical_frame_bytes
from ..formula import formula_expr
from ..schema import Field
from .casting import can_fail
from .findings import Collector
from .keys import sorted_by
from .reading import LINE, TextTable
from .typed import TypedTable, text_name

RULES = {
    "canonical-form": "every CSV is in canonical form (relations-data fmt)",
    "formula-trigger": (
        "no text cell starts with a spreadsheet formula trigger (= + - @ tab CR; OWASP), "
        "a plain signed number aside"
    ),
}


def _rows(typed: TypedTable, condition: pl.Expr, *columns: pl.Expr | str) -> pl.DataFrame:
    return typed.frame.filter(condition).select(LINE, *columns)


def _formula(column: pl.Expr) -> pl.Expr:
    return formula_expr(column)


@cache
def _pattern_charset(pattern: str) -> frozenset[str] | None:
    """Every character a match of ``pattern`` can contain, or ``None`` when unbounded."""
    # The standard library's own regex parser (private, so not in the type stubs).
    sre_parse: Any = importlib.import_module("re._parser")

    chars: set[str] = set()

    def walk(items: Any) -> bool:
        for op, arg in items:
            name = str(op)
            if name == "LITERAL":
                chars.add(chr(arg))
            elif name == "IN":
                members = _class_chars(arg)
                if members is None:
                    return False  # negated sets, categories such as \s
                chars.update(members)
            elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
                if not walk(arg[2]):
                    return False
            elif name == "SUBPATTERN":
                if not walk(arg[-1]):
                    return False
            elif name == "BRANCH":
                if not all(walk(branch) for branch in arg[1]):
                    return False
            elif name != "AT":
                return False
        return True

    try:
        bounded = walk(sre_parse.parse(pattern))
    except (re.error, ValueError, TypeError, OverflowError):
        return None
    return frozenset(chars) if bounded else None


def _first_chars(items: Any) -> tuple[frozenset[str], bool] | None:
    """The characters a match of the parsed sequence ``items`` can start with, and
    whether it can match the empty string; ``None`` when that is not known."""
    first: set[str] = set()
    for op, arg in items:
        name = str(op)
        if name == "AT":
            continue  # an anchor matches no character
        if name == "LITERAL":
            return frozenset(first | {chr(arg)}), False
        if name == "IN":
            chars = _class_chars(arg)
            return None if chars is None else (frozenset(first | chars), False)
        if name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT", "SUBPATTERN"):
            inner = _first_chars(arg[2] if name != "SUBPATTERN" else arg[-1])
            if inner is None:
                return None
            first |= inner[0]
            if not inner[1] and (name == "SUBPATTERN" or arg[0] > 0):
                return frozenset(first), False
            continue
        if name == "BRANCH":
            branches = [_first_chars(branch) for branch in arg[1]]
            if any(b is None for b in branches):
                return None
            first.update(*(b[0] for b in branches if b is not None))
            if not any(b[1] for b in branches if b is not None):
                return frozenset(first), False
            continue
        return None
    return frozenset(first), True


def _class_chars(arg: Any) -> set[str] | None:
    """The characters of a parsed character class, or ``None`` for a negated class or a
    category such as ``\\s``."""
    chars: set[str] = set()
    for kind, value in arg:
        if str(kind) == "LITERAL":
            chars.add(chr(value))
        elif str(kind) == "RANGE":
            chars.update(chr(c) for c in range(value[0], value[1] + 1))
        else:
            return None
    return chars


@cache
def _pattern_start(pattern: str) -> frozenset[str] | None:
    """Every character a match of ``pattern`` can start with (``None``: not known)."""
    sre_parse: Any = importlib.import_module("re._parser")
    try:
        found = _first_chars(sre_parse.parse(pattern))
    except (re.error, ValueError, TypeError, OverflowError, RecursionError):
        return None
    return found[0] if found is not None else None


_UNSAFE = frozenset(" \t\r\n=+-@")
_WHITESPACE = frozenset(" \t\r\n")


def free_text(field: Field) -> bool:
    """Whether a valid cell of ``field`` could start with a formula trigger or carry
    surrounding whitespace. Enum cells and cells whose pattern allows none of those
    characters cannot (an invalid cell is already reported by its own rule), nor cells
    whose pattern allows no whitespace and no trigger as the first character (an id
    such as ``^[a-z0-9]+(-[a-z0-9]+)*$``); nor can a date, which does not parse with
    spaces."""
    if field.enum is not None or field.type in ("date", "datetime", "time", "year"):
        return False
    pattern = field.constraints.get("pattern")
    if isinstance(pattern, str):
        charset = _pattern_charset(pattern)
        if charset is None:
            return True
        if not charset & _UNSAFE:
            return False
        start = _pattern_start(pattern)
        return start is None or bool(charset & _WHITESPACE) or bool(start & _UNSAFE)
    return True


def formula_fields(table: TextTable) -> list[str]:
    return [f.name for f in table.resource.schema.fields if f.type == "string" and free_text(f)]


def check_formula_triggers(
    typed: TypedTable, out: Collector, flags: dict[str, bool] | None = None
) -> None:
    table = typed.text
    fields = formula_fields(table)
    if not fields:
        return
    out.ran("formula-trigger", RULES["formula-trigger"], table.name)
    if flags is None:
        flags = dict(zip(fields, table.frame.select(_formula_flags(fields)).row(0), strict=True))
    for name in fields:
        if not flags.get(name):
            continue
        bad = _rows(
            typed,
            _formula(pl.col(text_name(name))),
            pl.col(text_name(name)).alias("value"),
        )
        out.add_rows(
            table,
            bad,
            name,
            "formula-trigger",
            lambda r: (
                f"expected text that a spreadsheet will not run as a formula, found "
                f"{r['value'][:1]!r} at the start; reword or drop the leading character"
            ),
            "value",
        )


def _formula_flags(fields: list[str]) -> list[pl.Expr]:
    return [_formula(pl.col(f)).any().alias(f"__formula_{f}") for f in fields]


def _plain_text(field: Field) -> bool:
    """Whether the typed column of ``field`` is its text column unchanged."""
    return field.type == "string" and not can_fail(field)


def _padding_fields(table: TextTable) -> list[str]:
    return [f.name for f in table.resource.schema.fields if free_text(f)]


def _holding_text(table: TextTable, columns: list[str]) -> list[str]:
    """``columns`` but those without a single cell (string kernels would still walk
    every null of them)."""
    return [c for c in columns if table.frame.get_column(c).null_count() < table.frame.height]


def _canonical_flags(table: TextTable, key_sorted: bool | None = None) -> list[pl.Expr] | None:
    """Expressions proving canonical form (see :func:`looks_canonical`), or ``None``."""
    if not table.byte_exact or tuple(table.resource.schema.missing_values) != ("",):
        return None
    columns = list(table.resource.schema.field_names)
    # Tabs, CRs and line breaks inside cells are rare: any of them sends the table to the
    # exact comparison, which decides.
    screened = _holding_text(table, _padding_fields(table))
    padded = pl.any_horizontal(
        [
            pl.col(c).str.starts_with(" ")
            | pl.col(c).str.ends_with(" ")
            | pl.col(c).str.contains_any(["\t", "\r", "\n"])
            for c in screened
        ]
        or [pl.lit(False)]
    ).any()
    key = list(table.resource.schema.primary_key) or columns
    if key_sorted is not None and all(_plain_text(table.resource.schema.field(k)) for k in key):
        in_order = pl.lit(key_sorted)  # the primary-key check has compared the same cells
    else:
        in_order = sorted_by(table.frame, key).all() if table.frame.height > 1 else pl.lit(True)
    return [padded.alias("__padded"), in_order.alias("__sorted")]


def looks_canonical(table: TextTable) -> bool:
    """True when the file provably equals its canonical form, without rewriting it.

    The size matched minimal quoting with LF ends (``byte_exact``), no cell has
    surrounding whitespace, and rows are sorted by primary key: that is exactly what
    :func:`~relations_data.canonical.canonical_bytes` produces.
    """
    flags = _canonical_flags(table)
    if flags is None:
        return False
    has_padding, ordered = table.frame.select(flags).row(0)
    return not has_padding and bool(ordered)


def check_canonical(table: TextTable, out: Collector, proven: bool | None = None) -> None:
    out.ran("canonical-form", RULES["canonical-form"], table.name)
    if proven if proven is not None else looks_canonical(table):
        return
    schema = table.resource.schema
    if tuple(schema.missing_values) == ("",):
        expected = canonical_frame_bytes(table.frame.drop(LINE), schema.primary_key)
    else:
        expected = canonical_bytes(table.resource)
    raw = table.raw()
    if expected == raw:
        return
    found_lines = raw.split(b"\n")
    expected_lines = expected.split(b"\n")
    line = next(
        (i for i, (a, b) in enumerate(zip(found_lines, expected_lines, strict=False)) if a != b),
        min(len(found_lines), len(expected_lines)),
    )
    shown = found_lines[line].decode("utf-8", "replace") if line < len(found_lines) else ""
    want = expected_lines[line].decode("utf-8", "replace") if line < len(expected_lines) else ""
    out.add(
        table,
        line + 1,
        None,
        shown,
        "canonical-form",
        f"expected the canonical line {want[:80]!r} (UTF-8, LF, rows sorted by primary key, "
        "minimal quoting, no surrounding spaces), found another; run `relations-data fmt`",
    )


def _suspect(column: pl.Expr) -> pl.Expr:
    """True for a cell that may start with a formula trigger, carry surrounding spaces,
    or hold a tab, CR or line break: a superset of both exact screens, at about half
    their cost (three string scans instead of eight)."""
    return (
        column.str.contains(r"^[-=+@ ]")
        | column.str.ends_with(" ")
        | column.str.contains_any(["\t", "\r", "\n"])
    )


def screen_text(
    table: TextTable,
    typed: TypedTable,
    out: Collector,
    *,
    formula: bool = True,
    canonical: bool = True,
) -> None:
    """Check formula triggers and canonical form of one table (each when asked).

    One pass evaluates the key order and :func:`_suspect` over every screened column;
    the exact formula and padding screens run only when some cell is suspect.
    """
    if not (formula or canonical):
        return
    fields = formula_fields(table) if formula else []
    flags = _canonical_flags(table, typed.key_sorted) if canonical else None
    padding = _padding_fields(table) if flags is not None else []
    columns = _holding_text(table, list(dict.fromkeys(fields + padding)))
    screens = [_suspect(pl.col(c)).any().alias(f"__suspect_{c}") for c in columns]
    if flags is not None:
        screens.append(flags[1])
    row: dict[str, Any] = table.frame.select(screens).row(0, named=True) if screens else {}
    if any(row.get(f"__suspect_{c}") for c in columns):
        exact = _formula_flags(fields) + (flags[:1] if flags is not None else [])
        row |= table.frame.select(exact).row(0, named=True)
    if formula:
        check_formula_triggers(typed, out, {f: bool(row.get(f"__formula_{f}")) for f in fields})
    if canonical:
        proven = flags is not None and not row.get("__padded") and bool(row["__sorted"])
        check_canonical(table, out, proven)
