"""Spreadsheet formula injection ("CSV injection"), by the OWASP rules.

A spreadsheet runs a cell as a formula when it starts with ``=``, ``+``, ``-`` or ``@``,
and a leading tab or carriage return can hide such a start
(https://owasp.org/www-community/attacks/CSV_Injection). ``-2+3+cmd|' /C calc'!A0``
is a formula. The only exception kept here is a plain signed number (``-5``, ``+3.25``):
a spreadsheet reads it as the number it is. ``validate`` reports every other such cell
(rule ``formula-trigger``) and no export writes one.
"""

from __future__ import annotations

import re

import polars as pl

#: First characters that make a spreadsheet cell a formula (OWASP).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = r"^[+-](?:[0-9]+\.?[0-9]*|\.[0-9]+)$"
_PLAIN_NUMBER_RE = re.compile(_PLAIN_NUMBER)


def starts_formula(cell: str) -> bool:
    """Whether a spreadsheet could run ``cell`` as a formula.

    Examples
    --------
    >>> starts_formula("-2+3+cmd|' /C calc'!A0"), starts_formula("-5"), starts_formula("a=b")
    (True, False, False)
    """
    return cell.startswith(FORMULA_TRIGGERS) and not _PLAIN_NUMBER_RE.match(cell)


def formula_expr(column: pl.Expr) -> pl.Expr:
    """:func:`starts_formula` as a Polars expression over a text column."""
    starts = pl.any_horizontal([column.str.starts_with(t) for t in FORMULA_TRIGGERS])
    return starts & ~column.str.contains(_PLAIN_NUMBER)
