"""Commands that read and tidy the tables: ``fmt`` (and ``tables``, ``show``, ``download``)."""

from __future__ import annotations

from pathlib import Path

import click

from ..canonical import format_package
from . import EXIT_INVALID


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


COMMANDS: list[click.Command] = [fmt_command]
