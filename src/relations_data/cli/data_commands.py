"""Commands that read and tidy the tables: ``fmt``, ``tables``, ``show`` and ``download``."""

from __future__ import annotations

import contextlib
import shutil
import sys
from pathlib import Path
from types import TracebackType
from typing import Any

import click

from ..canonical import format_package
from .exit_status import EXIT_INVALID


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


def _source_options(command: Any) -> Any:
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


@click.command("tables")
@_source_options
def tables_command(version: str | None, source: str | None) -> None:
    """List the tables: name, number of rows and description.

    Example: relations-data tables
    """
    from ..loader import summarize_tables

    summaries = summarize_tables(version=version, source=source)
    width = max(len("table"), *(len(s.name) for s in summaries))
    click.echo(f"{'table':<{width}}  {'rows':>8}  description")
    for summary in summaries:
        click.echo(f"{summary.name:<{width}}  {summary.rows:>8}  {summary.description}")


@click.command("show")
@click.argument("table")
@click.option(
    "--limit", "-n", default=10, show_default=True, type=click.IntRange(min=0), help="Rows."
)
@_source_options
def show_command(table: str, limit: int, version: str | None, source: str | None) -> None:
    """Print the first rows of TABLE with the dtypes of its columns.

    Example: relations-data show events --limit 5
    """
    import polars as pl

    from ..loader import load

    frame = load(table, version=version, source=source)  # type: ignore[arg-type]
    columns = shutil.get_terminal_size().columns
    with pl.Config(tbl_rows=limit, tbl_cols=-1, fmt_str_lengths=40, tbl_width_chars=columns):
        click.echo(frame.head(limit))
    click.echo(f"{min(limit, frame.height)} of {frame.height} rows of {table}.")


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
