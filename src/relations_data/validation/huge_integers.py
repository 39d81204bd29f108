"""Column constraints of integers beyond 128 bits, which no Polars type holds.

frictionless reads integers of any size (Python's ``int``); the typed column holds up to
128 bits (:func:`~relations_data.validation.casting.widened`), and a larger cell is left
null there, so the vectorised checks skip it. Such cells are rare enough to be checked
here one by one, with Python integers, against ``unique``, ``enum`` and the bounds, and
reported as the vectorised checks report them. (Keys holding them are not compared: a
difference listed in docs/validation.md.)
"""

from __future__ import annotations

import operator
from collections.abc import Callable

import polars as pl

from ..schema import Field
from .casting import beyond_typed_column, parse_constraint
from .findings import Collector
from .pandera_checks import BOUND_RULES, column_rules
from .reading import LINE
from .typed import TypedTable, text_name

#: Whether a value keeps each Table Schema bound.
_HOLDS: dict[str, Callable[[int, int], bool]] = {
    "minimum": operator.ge,
    "maximum": operator.le,
    "exclusiveMinimum": operator.gt,
    "exclusiveMaximum": operator.lt,
}


def _huge_cells(typed: TypedTable, field: Field) -> list[tuple[int, str]]:
    text = pl.col(text_name(field.name))
    return (
        typed.frame.filter(beyond_typed_column(field, pl.col(field.name), text))
        .select(LINE, text)
        .rows()
    )


def _broken(field: Field, value: int) -> list[str]:
    """The rules (other than ``unique``) that ``value`` breaks."""
    broken = []
    if field.enum is not None and value not in [parse_constraint(field, v) for v in field.enum]:
        broken.append("enum")
    for name, (rule, _) in BOUND_RULES.items():
        bound = parse_constraint(field, field.constraints.get(name))
        if isinstance(bound, int) and not _HOLDS[name](value, bound):
            broken.append(rule)
    return broken


def check_huge_integers(typed: TypedTable, out: Collector) -> None:
    """Report the constraint violations of integer cells beyond 128 bits."""
    for field in typed.schema.fields:
        if field.type != "integer" or not field.constraints:
            continue
        cells = _huge_cells(typed, field)
        if not cells:
            continue
        expected = {rule.rule: rule.expected for rule in column_rules(field)}
        first_line: dict[int, int] = {}
        for line, cell in cells:
            value = int(cell)
            for rule in _broken(field, value):
                out.add(typed.text, line, field.name, cell, rule,
                        f"expected {expected[rule]}, found {cell!r}")  # fmt: skip
            if field.unique and value in first_line:
                out.add(
                    typed.text,
                    line,
                    field.name,
                    cell,
                    "unique",
                    f"expected {expected['unique']}, found {cell!r}, "
                    f"already on line {first_line[value]}",
                )
            first_line.setdefault(value, line)
