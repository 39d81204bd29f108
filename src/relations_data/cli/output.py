"""Printing a table as the terminal, a spreadsheet or a program wants it."""

from __future__ import annotations

import json
import shutil
from datetime import date, datetime

import click
import polars as pl

#: The formats ``show``, ``tables`` and ``query`` print.
FORMATS = ("table", "csv", "json")


def _json_default(value: object) -> str:
    if isinstance(value, date | datetime):
        return value.isoformat()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def emit_frame(frame: pl.DataFrame, fmt: str, *, rows: int | None = None) -> None:
    """Print ``frame``: a table wrapped to the terminal's width, CSV or JSON records."""
    if fmt == "csv":
        click.echo(frame.write_csv(), nl=False)
    elif fmt == "json":
        text = json.dumps(frame.to_dicts(), ensure_ascii=False, indent=2, default=_json_default)
        click.echo(text)
    else:
        width = shutil.get_terminal_size().columns
        shown = frame.height if rows is None else rows
        # Polars wraps long cells to fit tbl_width_chars; fmt_str_lengths caps each cell.
        with pl.Config(
            tbl_rows=shown,
            tbl_cols=-1,
            fmt_str_lengths=max(width // 2, 20),
            tbl_width_chars=width,
            tbl_hide_dataframe_shape=True,
        ):
            click.echo(frame)
