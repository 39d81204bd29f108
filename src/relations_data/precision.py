"""Dates shown as precisely as the sources give them: "November 2017", never a false day.

A partial date is stored as the interval it denotes (``date_start`` … ``date_end``) with a
precision (``day``, ``month``, ``year``). Which columns form such a group is read from the
Table Schema's field names, so the 1.x and 2.x layouts (``published``/``published_end``/
``published_precision``, ``date_signed``/``date_signed_end``/``date_precision``,
``start``/``start_precision``) are found without a list of columns in code.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date

from .schema import TableSchema

#: The precisions a date can be shown at, finest first.
PRECISIONS = ("day", "month", "year")


@dataclass(frozen=True)
class DateGroup:
    """A date column, the column ending its interval (if any) and its precision column."""

    start: str
    end: str | None
    precision: str | None


def _month(value: date) -> str:
    # calendar.month_name is English unless the program calls setlocale, which we never do.
    return calendar.month_name[value.month]


def format_date(value: date, precision: str | None = "day") -> str:
    """One date at a precision.

    >>> from datetime import date
    >>> format_date(date(2017, 11, 1), "month")
    'November 2017'
    >>> format_date(date(1956, 5, 13), "day")
    '13 May 1956'
    """
    if precision == "year":
        return str(value.year)
    if precision == "month":
        return f"{_month(value)} {value.year}"
    return f"{value.day} {_month(value)} {value.year}"


def machine_date(value: date, precision: str | None = "day") -> str:
    """The ISO 8601 form at the same precision, for ``<time datetime=…>``.

    >>> from datetime import date
    >>> machine_date(date(2017, 11, 1), "month")
    '2017-11'
    """
    if precision == "year":
        return f"{value.year:04d}"
    if precision == "month":
        return f"{value.year:04d}-{value.month:02d}"
    return value.isoformat()


def format_interval(start: date | None, end: date | None, precision: str | None = "day") -> str:
    """An interval at a precision, without repeating what both ends share.

    >>> from datetime import date
    >>> format_interval(date(2017, 11, 1), date(2017, 11, 30), "month")
    'November 2017'
    >>> format_interval(date(1975, 1, 1), date(1979, 12, 31), "year")
    '1975–1979'
    >>> format_interval(date(2017, 9, 1), date(2017, 11, 30), "month")
    'September–November 2017'
    >>> format_interval(date(2018, 3, 13), date(2018, 3, 15), "day")
    '13–15 March 2018'
    """
    if start is None:
        return "" if end is None else format_date(end, precision)
    first = format_date(start, precision)
    if end is None or format_date(end, precision) == first:
        return first
    last = format_date(end, precision)
    if precision == "year":
        return f"{start.year}–{end.year}"
    if start.year == end.year:
        if precision == "month":
            return f"{_month(start)}–{last}"
        if start.month == end.month:
            return f"{start.day}–{last}"
        return f"{start.day} {_month(start)} – {last}"
    return f"{first} – {last}"


def date_groups(schema: TableSchema) -> tuple[DateGroup, ...]:
    """The date columns of a table, each with its end and precision column when it has them.

    >>> from relations_data.package import open_package
    >>> date_groups(open_package().resource("events").schema)[0]
    DateGroup(start='date_start', end='date_end', precision='date_precision')
    """
    names = schema.field_names
    dates = [f.name for f in schema.fields if f.type == "date"]
    precisions = [n for n in names if n.endswith("_precision")]
    groups: list[DateGroup] = []
    taken: set[str] = set()
    for name in dates:
        if name in taken:
            continue
        stem = name.removesuffix("_start")
        end = next((c for c in (f"{name}_end", f"{stem}_end") if c != name and c in dates), None)
        candidates = [f"{name}_precision", f"{stem}_precision", f"{name.split('_')[0]}_precision"]
        precision = next((c for c in candidates if c in precisions), None)
        if precision is None and len(precisions) == 1:
            # One precision column for the whole row (1.x memberships: start and end).
            precision = precisions[0]
        groups.append(DateGroup(name, end, precision))
        taken.add(name)
        if end is not None:
            taken.add(end)
    return tuple(groups)
