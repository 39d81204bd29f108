"""``relations-data validate``: run the validators and print the report."""

from __future__ import annotations

from pathlib import Path

import click

from .exit_status import EXIT_INVALID

_ENGINES = {
    "polars": ("polars",),
    "frictionless": ("frictionless",),
    "both": ("polars", "frictionless"),
}


@click.command("validate")
@click.argument("path", required=False, type=click.Path(path_type=Path))
@click.option(
    "--engine",
    type=click.Choice(list(_ENGINES)),
    default="both",
    show_default=True,
    help="Which validator to run: the Pandera/Polars engine, frictionless-py, or both.",
)
@click.option(
    "--format",
    "format_",
    type=click.Choice(["text", "json", "github"]),
    default="text",
    show_default=True,
    help="text for people, json for programs, github for GitHub Actions annotations.",
)
@click.option(
    "--rules/--no-rules",
    default=None,
    help="Run (or skip) the project rules the Table Schemas declare "
    "(relations-data:rules). Default: run them when datapackage.json declares "
    '"relations-data:profile": 1; otherwise only Table Schema rules run.',
)
def validate_command(path: Path | None, engine: str, format_: str, rules: bool | None) -> None:
    """Validate the data package at PATH (default: the bundled package).

    PATH is a folder holding datapackage.json, a datapackage.json, or a release .zip.
    Exit status: 0 valid, 1 invalid data, 2 unusable input or usage.

    \b
    Examples:
      relations-data validate
      relations-data validate . --engine polars
      relations-data validate relations-data-1.0.0.zip --format json
      relations-data validate --format github
      relations-data validate other-package/ --rules
    """
    from ..validation import validate

    report = validate(path, engines=_ENGINES[engine], rules=rules)
    rendered = {"text": report.to_text, "json": report.to_json, "github": report.to_github}
    click.echo(rendered[format_](), nl=False)
    if not report.valid:
        raise click.exceptions.Exit(EXIT_INVALID)


COMMANDS: list[click.Command] = [validate_command]
