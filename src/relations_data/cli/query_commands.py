"""Commands that answer questions: ``evidence`` (where does this come from?) and ``query``."""

from __future__ import annotations

from typing import Any

import click

from .data_commands import source_options
from .output import FORMATS, emit_frame

#: Columns of the evidence printed as text; json and csv give every column.
_TEXT_FIELDS = ("locator", "field", "note")


@click.command("evidence")
@click.argument("record_id")
@click.option("--table", help="The record's table, when several tables hold the id.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "csv"]),
    default="text",
    show_default=True,
    help="text for people, json or csv for programs (every column).",
)
@source_options
def evidence_command(
    record_id: str, table: str | None, fmt: str, version: str | None, source: str | None
) -> None:
    """Print every citation of the record RECORD_ID (of any table) with its source.

    For each: stance, source title, date (at its precision), URL, locator, field and note.

    \b
    Examples:
      relations-data evidence 1956-05-13-ussr-cambodia-diplomatic-relations
      relations-data evidence cambodia --table actors --format json
    """
    from ..records import graph_evidence, load_graph

    graph = load_graph(version=version, source=source)
    frame = graph_evidence(graph, record_id, table=table)
    if fmt != "text":
        emit_frame(frame, fmt)
        return
    for row in frame.to_dicts():
        _echo_citation(row)
    click.echo(f"{frame.height} citations of {record_id}.")


def _echo_citation(row: dict[str, Any]) -> None:
    title = row.get("source_title") or row.get("source_id")
    date = row.get("source_date_text")
    click.echo(f"{row.get('stance', '')}: {title}" + (f" ({date})" if date else ""))
    details = [("source", row.get("source_id")), ("url", row.get("source_url"))]
    details += [(name, row.get(name)) for name in _TEXT_FIELDS]
    for name, value in details:
        if value:
            click.echo(f"    {name}: {value}")


@click.command("query")
@click.argument("sql")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="table",
    show_default=True,
    help="table for people, csv or json for programs.",
)
@source_options
def query_command(sql: str, fmt: str, version: str | None, source: str | None) -> None:
    """Run the SQL query SQL over every table (Polars' SQL dialect).

    Each table is registered under its name.

    Example: relations-data query "SELECT event_type, count(*) AS n FROM events GROUP BY 1"
    """
    from ..query import run_sql

    emit_frame(run_sql(sql, version=version, source=source), fmt)


COMMANDS: list[click.Command] = [evidence_command, query_command]
