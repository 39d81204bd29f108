"""Commands for releases: ``release build``, ``release check`` and ``diff``."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import ValidationError
from .exit_status import EXIT_INVALID


@click.group("release")
def release_group() -> None:
    """Build reproducible release archives and check version bumps.

    Example: relations-data release check --against git:origin/main
    """


@release_group.command("build")
@click.argument("path", required=False, type=click.Path(path_type=Path))
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("dist"),
    show_default=True,
    help="Folder for the archive and its .sha256 file.",
)
@click.option(
    "--registry",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Registry file to record the release in (default: the checkout's releases.txt).",
)
@click.option("--no-record", is_flag=True, help="Do not record the release in any registry.")
@click.option(
    "--replace",
    is_flag=True,
    help="Replace another sha256 already recorded for this version (never published).",
)
def build_command(
    path: Path | None, out: Path, registry: Path | None, no_record: bool, replace: bool
) -> None:
    """Validate the data package and write relations-data-<version>.zip.

    The archive holds the descriptor (with bytes and sha256 of every table), the CSVs,
    Parquet copies, the schemas and the documents; building twice gives the same bytes.
    Its sha256 goes to <archive>.sha256 and to the registry of releases. PATH is a folder
    or a datapackage.json; without it, the package in the current folder. Invalid data
    is refused with exit status 1.

    Example: relations-data release build --out dist
    """
    from ..release import build_release

    try:
        built = build_release(
            path or Path(), out, registry=registry, record=not no_record, replace=replace
        )
    except ValidationError as error:
        click.secho(f"Error: {error}", fg="red", err=True)
        raise SystemExit(EXIT_INVALID) from None
    click.echo(f"Wrote {built.archive} ({len(built.entries)} files).")
    click.echo(f"Wrote {built.checksum_file}: {built.sha256}  {built.archive.name}")
    if built.registry is not None:
        click.echo(f"Recorded '{built.registry_line}' in {built.registry}.")
    else:
        click.echo("Not recorded in any registry.")
    for warning in built.warnings:
        click.secho(f"Warning: {warning}", fg="yellow", err=True)


@release_group.command("check")
@click.argument("path", required=False, type=click.Path(path_type=Path))
@click.option(
    "--against",
    metavar="VERSION|PATH|git:REF",
    help="Earlier package to compare with (default: the latest release in the registry).",
)
def check_command(path: Path | None, against: str | None) -> None:
    """Check that datapackage.json's version is bumped far enough for its changes.

    Classifies every change since AGAINST by the Data Package version rules (major:
    field removed, renamed, reordered or retyped, constraint tightened, resource or
    identified rows removed; minor: rows, resources or optional fields added, constraint
    loosened; patch: values corrected, descriptions edited) and exits 1 when the version
    is not bumped at least that far, goes backwards, or stays equal while the data
    changed. git:REF reads the package at a git revision without network.

    Example: relations-data release check --against git:origin/main
    """
    from ..versioning import check_release

    result = check_release(path or Path(), against)
    click.echo(result.to_text(), nl=False)
    if not result.ok:
        raise SystemExit(EXIT_INVALID)


@click.command("diff")
@click.argument("old")
@click.argument("new")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "markdown"]),
    default="text",
    show_default=True,
    help="Plain text, or Markdown ready for CHANGELOG.md.",
)
@click.option(
    "--limit",
    type=click.IntRange(min=0),
    default=20,
    show_default=True,
    help="Rows listed per table and kind of change (0: all).",
)
def diff_command(old: str, new: str, output_format: str, limit: int) -> None:
    """Show what changed from OLD to NEW: schema changes and rows added, removed, changed.

    OLD and NEW are each a released version (X.Y.Z), a folder, a datapackage.json, a
    release .zip, or git:REF. Rows are matched by primary key; each changed field is
    shown with its old and new value.

    Example: relations-data diff 1.0.0 . --format markdown
    """
    from ..diff import diff_packages

    result = diff_packages(old, new)
    shown = None if limit == 0 else limit
    text = result.to_markdown(shown) if output_format == "markdown" else result.to_text(shown)
    click.echo(text, nl=False)


COMMANDS: list[click.Command] = [release_group, diff_command]
