"""Commands that publish the data in other forms: ``export``, ``codebook``, ``coverage``,
``timeline``.

Without ``--source`` each reads the data package in the current folder if there is one
(a checkout), else the copy bundled with the installed package.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import get_args

import click

from ..codebook import local_or_bundled, write_codebook
from ..coverage import write_coverage
from ..export import DATASETTE_METADATA, ExportFormat, export
from ..timeline import draw_timeline
from .exit_status import EXIT_INVALID

_SOURCE_HELP = (
    "Data package to read: a folder, datapackage.json or release .zip. Default: the package "
    "in the current folder, else the bundled copy."
)


def _source(source: Path | None) -> Path | None:
    return source if source is not None else local_or_bundled()


@click.command("export")
@click.option(
    "--format",
    "fmt",
    required=True,
    type=click.Choice(get_args(ExportFormat)),
    help="sqlite/duckdb/json: one file; parquet/csv: a folder.",
)
@click.argument("out", type=click.Path(path_type=Path))
@click.option("--source", type=click.Path(path_type=Path), help=_SOURCE_HELP)
def export_command(fmt: str, out: Path, source: Path | None) -> None:
    """Export every table to SQLite, DuckDB, Parquet, JSON or CSV.

    SQLite also gets a Datasette metadata.json beside OUT (run: datasette OUT -m
    metadata.json). The output appears only once complete.

    Example: relations-data export --format sqlite relations.db
    """
    written = export(fmt, out, source=_source(source))
    click.echo(f"wrote {written}")
    if fmt == "sqlite":
        click.echo(f"wrote {written.parent / DATASETTE_METADATA}")


def _generated_document_options(
    what: str, default: str
) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """The options of a command writing a document generated from the data: ``--check``,
    ``--out`` and ``--source``."""

    def decorate(command: Callable[..., None]) -> Callable[..., None]:
        command = click.option("--source", type=click.Path(path_type=Path), help=_SOURCE_HELP)(
            command
        )
        command = click.option(
            "--out",
            type=click.Path(path_type=Path),
            help=f"{what}. Default: {default} in the current folder.",
        )(command)
        return click.option(
            "--check", is_flag=True, help="Only check that OUT is up to date; exit 1 if stale."
        )(command)

    return decorate


@click.command("codebook")
@_generated_document_options("Codebook file", "docs/codebook.md")
def codebook_command(check: bool, out: Path | None, source: Path | None) -> None:
    """Write the codebook (docs/codebook.md) from the Table Schemas and the data.

    Tables, fields, types, constraints, vocabularies with definitions, row counts and a
    Mermaid diagram of the keys.

    Example: relations-data codebook --check
    """
    result = write_codebook(out, source=_source(source), check=check)
    _report_generated(result.path, stale=result.stale, check=check, command="codebook")


def _report_generated(path: Path, *, stale: bool, check: bool, command: str) -> None:
    """The outcome of a generated document's write or freshness check (exit 1 if stale)."""
    if check:
        if stale:
            click.echo(
                f"{path} is stale: it differs from the schemas and data; "
                f"run 'relations-data {command}' and commit the result.",
                err=True,
            )
            raise SystemExit(EXIT_INVALID)
        click.echo(f"{path} is up to date.")
    else:
        click.echo(f"{'wrote' if stale else 'unchanged'} {path}")


@click.command("coverage")
@_generated_document_options("Coverage document", "docs/coverage.md")
def coverage_command(check: bool, out: Path | None, source: Path | None) -> None:
    """Regenerate the counts section of docs/coverage.md from the data.

    Only the part between the coverage markers is written (events by class and decade,
    sources by kind, claims by verdict); the scope, rules and gaps around it are prose.

    Example: relations-data coverage --check
    """
    result = write_coverage(out, source=_source(source), check=check)
    _report_generated(result.path, stale=result.stale, check=check, command="coverage")


@click.command("timeline")
@click.argument("out", type=click.Path(path_type=Path))
@click.option("--source", type=click.Path(path_type=Path), help=_SOURCE_HELP)
def timeline_command(out: Path, source: Path | None) -> None:
    """Draw the events on a time axis, one lane per class, as OUT.png, OUT.svg or OUT.pdf.

    Needs the 'timeline' extra (matplotlib).

    Example: relations-data timeline docs/timeline.png
    """
    click.echo(f"wrote {draw_timeline(out, source=_source(source))}")


@click.command("serve")
@click.option(
    "--port", default=8001, show_default=True, type=click.IntRange(0, 65535), help="TCP port."
)
@click.option("--source", type=click.Path(path_type=Path), help=_SOURCE_HELP)
def serve_command(port: int, source: Path | None) -> None:
    """Browse the data in Datasette on http://127.0.0.1:PORT/ (Ctrl-C stops it).

    Serves the SQLite export with its metadata: each record's page links to its
    citations, the evidence views and the canned queries 'evidence' and
    'contradictions'. Needs the 'serve' extra (datasette).

    Example: relations-data serve --port 8001
    """
    from ..serve import DATABASE, serve

    click.echo(f"Serving http://127.0.0.1:{port}/{DATABASE} (Ctrl-C to stop)", err=True)
    raise SystemExit(serve(port, source=_source(source)))


COMMANDS: list[click.Command] = [
    export_command,
    codebook_command,
    coverage_command,
    timeline_command,
    serve_command,
]
