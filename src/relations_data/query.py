"""SQL over every table of a data package, with Polars' SQL context (no parser of ours)."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from .errors import ArgumentError


def run_sql(
    sql: str,
    *,
    version: str | None = None,
    source: str | Path | None = None,
    sha256: str | None = None,
) -> pl.DataFrame:
    """Run a SQL query over every table, each registered under its name.

    Examples
    --------
    >>> from relations_data.query import run_sql
    >>> run_sql("SELECT count(*) AS n FROM events WHERE date_precision = 'day'")["n"][0] > 0
    True
    """
    from .loader import load_package

    package = load_package(version=version, source=source, sha256=sha256)
    context = pl.SQLContext({name: package[name] for name in package}, eager=True)
    try:
        return context.execute(sql, eager=True)
    except (pl.exceptions.PolarsError, pl.exceptions.SQLInterfaceError) as error:
        raise ArgumentError(f"The query failed: {str(error).splitlines()[0]}") from None


def filter_frame(frame: pl.DataFrame, where: str) -> pl.DataFrame:
    """Rows of ``frame`` matching ``where``, a SQL condition (``status = 'occurred'``).

    Examples
    --------
    >>> import polars as pl
    >>> filter_frame(pl.DataFrame({"a": [1, 2, 3]}), "a >= 2").height
    2
    """
    try:
        return frame.filter(pl.sql_expr(where))
    except (pl.exceptions.PolarsError, pl.exceptions.SQLInterfaceError) as error:
        raise ArgumentError(f"The filter {where!r} failed: {str(error).splitlines()[0]}") from None
