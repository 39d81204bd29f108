"""Counting the fields of every CSV record, to refuse ragged rows before Polars reads them.

Polars pads a short row with empty cells silently, so both readers (``fmt``'s in
:mod:`.canonical` and the validator's in :mod:`.validation.reading`) count the fields
here first. A leaf module: ``fmt`` needs this guard without importing the validators.
"""

from __future__ import annotations

import csv
import io

import polars as pl

from .errors import PackageError


def _unused_byte(raw: bytes) -> str:
    for candidate in ("\x1f", "\x1e", "\x1d", "\x1c", "\x01", "\x02"):
        if candidate.encode() not in raw:
            return candidate
    return ""


def _field_counts_fast(raw: bytes, separator: str) -> pl.DataFrame | None:
    """Field count of every physical line, or ``None`` when a quoted cell spans lines.

    Quoted segments are removed before commas are counted, so commas inside quotes do
    not count; a line with an odd number of quotes means a record spans lines, which the
    (slower) :mod:`csv` reader handles instead.
    """
    lines = pl.read_csv(
        raw,
        has_header=False,
        separator=separator,
        quote_char=None,
        schema={"text": pl.String()},
        empty_string_is_null=False,
        raise_if_empty=False,
    ).with_row_index("line", offset=1)
    counted = lines.select(
        "line",
        quotes=pl.col("text").str.count_matches('"', literal=True),
        fields=pl.col("text").str.replace_all(r'"[^"]*"', "").str.count_matches(",", literal=True)
        + 1,
    )
    if counted.select((pl.col("quotes") % 2 == 1).any()).item():
        return None
    return counted.select("line", "fields")


def _field_counts_csv(text: str) -> pl.DataFrame:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    lines: list[int] = []
    fields: list[int] = []
    start = 1
    try:
        for record in reader:
            lines.append(start)
            fields.append(len(record))
            start = reader.line_num + 1
    except csv.Error as error:
        raise PackageError(f"malformed CSV at line {reader.line_num} ({error})") from None
    return pl.DataFrame(
        {"line": lines, "fields": fields}, schema={"line": pl.Int64, "fields": pl.Int64}
    )


def check_field_counts(raw: bytes, text: str, expected: int, where: str) -> pl.Series:
    """Refuse rows with too many or too few fields; return the line of every data record.

    Polars pads short rows with empty strings silently, so the count is taken here, from
    the file itself, before Polars parses it.
    """
    separator = _unused_byte(raw)
    counts = _field_counts_fast(raw, separator) if separator else None
    if counts is None:
        try:
            counts = _field_counts_csv(text)
        except PackageError as error:
            raise PackageError(f"{where}: {error}.") from None
    wrong = counts.filter(pl.col("fields") != expected)
    if wrong.height:
        line, found = wrong.row(0)
        more = f" ({wrong.height - 1} more ragged line(s))" if wrong.height > 1 else ""
        raise PackageError(
            f"{where}: line {line} has {found} field(s) but the header and schema have "
            f"{expected}{more}; every row needs exactly {expected} comma-separated fields."
        )
    return counts["line"].slice(1).cast(pl.Int64)
