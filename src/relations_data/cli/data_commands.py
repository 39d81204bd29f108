"""Commands that read and tidy the tables: ``fmt``, ``tables``, ``show`` and ``download``."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from types import TracebackType
from typing import Any

import click

from ..canonical import format_package
from .exit_status import EXIT_INVALID
from .output import FORMATS, emit_frame


@click.command("fmt")
@click.argument("path", required=False, type=click.Path(path_type=Path))
@click.option("--check", is_flag=True, help="Only list files not in canonical form; exit 1 if any.")
def fmt_command(path: Path | None, check: bool) -> None:
    """Write every CSV of the data package in canonical form.

    Canonical form: UTF-8 without BOM, LF line ends, header in schema order, rows sorted
    by primary key, minimal quoting, no spaces around cells. PATH is a folder or a
    datapackage.json; without it, the package in the current folder.

    Example: relations-data fmt --check
    """
    result = format_package(path or Path(), check=check)
    for changed in result.changed:
        click.echo(f"{'would reformat' if check else 'reformatted'} {changed}")
    click.echo(
        f"{len(result.changed)} of {len(result.checked)} files "
        f"{'not in canonical form' if check else 'reformatted'}."
    )
    if check and result.changed:
        raise SystemExit(EXIT_INVALID)


def _one_source(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is not None and ctx.params.get("version") is not None:
        raise click.UsageError("Pass either --version or --source, not both.")
    return value


def _sha256(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    from ..remote import normalize_sha256

    try:
        return None if value is None else normalize_sha256(value)
    except ValueError as error:
        raise click.BadParameter(str(error)) from None


def source_options(command: Any) -> Any:
    """``--version`` and ``--source``: which data package to read (default: the bundled)."""
    command = click.option(
        "--source",
        metavar="PATH|URL",
        callback=_one_source,
        help="A package folder, datapackage.json, release .zip or registered release URL.",
    )(command)
    return click.option(
        "--version",
        "version",
        metavar="X.Y.Z",
        is_eager=True,
        help="A released version (downloaded once, verified and cached).",
    )(command)


def _format_option(command: Any) -> Any:
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(FORMATS),
        default="table",
        show_default=True,
        help="table (wrapped to the terminal) for people, csv or json for programs.",
    )(command)


def _columns(value: str | None) -> list[str] | None:
    return [c.strip() for c in value.split(",") if c.strip()] if value else None


def _select(frame: Any, columns: list[str] | None, where: str | None) -> Any:
    from ..errors import ArgumentError
    from ..query import filter_frame

    if where:
        frame = filter_frame(frame, where)
    if columns:
        unknown = [c for c in columns if c not in frame.columns]
        if unknown:
            raise ArgumentError(
                f"Unknown column(s) {', '.join(unknown)}: expected some of "
                f"{', '.join(frame.columns)}."
            )
        frame = frame.select(columns)
    return frame


_COLUMNS_HELP = "Comma-separated columns to print, in this order."
_WHERE_HELP = "Only rows matching this SQL condition, e.g. \"status = 'occurred'\"."


@click.command("tables")
@_format_option
@click.option("--columns", help=_COLUMNS_HELP + " (name, rows, title, description)")
@click.option("--where", help=_WHERE_HELP)
@source_options
def tables_command(
    fmt: str, columns: str | None, where: str | None, version: str | None, source: str | None
) -> None:
    """List the tables: name, number of rows and description.

    \b
    Examples:
      relations-data tables
      relations-data tables --where "rows > 20" --columns name,rows --format csv
    """
    import polars as pl

    from ..loader import summarize_tables

    summaries = summarize_tables(version=version, source=source)
    frame = pl.DataFrame(
        [s._asdict() for s in summaries],
        schema={"name": pl.String, "rows": pl.Int64, "title": pl.String, "description": pl.String},
    )
    frame = _select(frame, _columns(columns) or ["name", "rows", "description"], where)
    emit_frame(frame, fmt)


@click.command("show")
@click.argument("table")
@click.option(
    "--limit",
    "-n",
    default=10,
    show_default=True,
    type=click.IntRange(min=0),
    help="Rows (0: all).",
)
@_format_option
@click.option("--columns", help=_COLUMNS_HELP)
@click.option("--where", help=_WHERE_HELP)
@source_options
def show_command(  # noqa: PLR0917 (click passes each option as an argument)
    table: str,
    limit: int,
    fmt: str,
    columns: str | None,
    where: str | None,
    version: str | None,
    source: str | None,
) -> None:
    """Print the first rows of TABLE, optionally filtered and narrowed to some columns.

    \b
    Examples:
      relations-data show events --limit 5
      relations-data show events --where "date_precision = 'day'" --columns id,summary
      relations-data show citations --format csv --limit 0 > citations.csv
    """
    from ..loader import load

    frame = _select(load(table, version=version, source=source), _columns(columns), where)  # type: ignore[arg-type]
    total = frame.height
    if limit:
        frame = frame.head(limit)
    emit_frame(frame, fmt)
    if fmt == "table":
        click.echo(f"{frame.height} of {total} rows of {table}.")


class _ClickProgress:
    """pooch's progress-bar protocol (``total``, ``update``, ``reset``, ``close``) on click."""

    def __init__(self) -> None:
        self.total = 0
        self._shown = 0
        self._finishing = False
        self._stack = contextlib.ExitStack()
        self._bar: Any = None

    def update(self, n: int) -> None:
        if self._bar is None:
            if not self.total:  # size unknown: no bar, just the final size
                return
            bar = click.progressbar(length=self.total, label="Downloading", file=sys.stderr)
            self._bar = self._stack.enter_context(bar)
        # pooch's last call is update(total) after reset(): move to the end.
        step = n - self._shown if self._finishing else min(n, self.total - self._shown)
        if step > 0:
            self._bar.update(step)
            self._shown += step

    def reset(self) -> None:
        self._finishing = True

    def close(self) -> None:
        self._stack.close()

    def __enter__(self) -> _ClickProgress:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


@click.command("download")
@click.argument("version")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to save the archive in (default: only the cache).",
)
@click.option(
    "--sha256",
    metavar="HEX",
    callback=_sha256,
    help="The archive's sha256, for a release newer than this install.",
)
def download_command(version: str, out: Path | None, sha256: str | None) -> None:
    """Download the release archive of VERSION, verify its sha256 and cache it.

    Example: relations-data download 1.0.0 --out downloads/
    """
    from ..remote import download_release

    with _ClickProgress() as progress:
        path = download_release(version, out, sha256=sha256, progress=progress)
    click.echo(f"{path} (sha256 verified)")


COMMANDS: list[click.Command] = [fmt_command, tables_command, show_command, download_command]
