"""``relations-data site``: the static website of a data package."""

from __future__ import annotations

from pathlib import Path

import click

from .data_commands import source_options


@click.command("site")
@click.argument("out", type=click.Path(file_okay=False, path_type=Path))
@source_options
@click.option(
    "--base-url",
    metavar="URL",
    help="Address the site will be published at, for the citations on its pages.",
)
@click.option("--no-search", is_flag=True, help="Skip the Pagefind search index.")
def site_command(
    out: Path, version: str | None, source: str | None, base_url: str | None, no_search: bool
) -> None:
    """Build the static website of the data package into the folder OUT.

    One page per record with its evidence, a chronology, a filterable timeline, the
    contradictions, the codebook, downloads and full-text search (Pagefind). Needs the
    'site' extra. An existing OUT is replaced only if it is an earlier site.

    Example: relations-data site site/ && python -m http.server -d site/
    """
    from ..site import build_site

    built = build_site(out, version=version, source=source, base_url=base_url, search=not no_search)
    click.echo(f"wrote {built.pages} pages ({built.size / 1e6:.1f} MB) to {built.path}")


COMMANDS: list[click.Command] = [site_command]
