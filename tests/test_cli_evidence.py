"""``evidence``, ``query`` and the output options of ``show``/``tables``; closed pipes."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

import polars as pl
import pytest
from click.testing import CliRunner

from relations_data.cli import main
from relations_data.records import EVIDENCE_TABLE, load_graph
from tests.conftest import ROOT

GRAPH = load_graph(source=ROOT)


def _cited(table: str) -> str:
    """A record of ``table`` with the most citations."""
    return max(sorted(GRAPH.rows[table]), key=lambda r: len(GRAPH.evidence(table, r)))


def _run(*args: str) -> str:
    result = CliRunner().invoke(main, [*args, "--source", str(ROOT)])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize(
    "table", GRAPH.evidence_reference.tables if GRAPH.evidence_reference else ()
)
def test_evidence_lists_every_citation_of_a_record_of_any_table(table: str) -> None:
    if not GRAPH.rows.get(table):
        pytest.skip(f"no {table} in this data")
    record_id = _cited(table)
    expected = GRAPH.evidence(table, record_id)
    rows = list(
        csv.DictReader(
            io.StringIO(_run("evidence", record_id, "--table", table, "--format", "csv"))
        )
    )
    assert len(rows) == len(expected) > 0
    assert {(r["source_id"], r["locator"]) for r in rows} == {
        (c["source_id"], c["locator"]) for c in expected
    }
    assert all(r["source_title"] for r in rows)
    records = json.loads(_run("evidence", record_id, "--table", table, "--format", "json"))
    assert [r["locator"] for r in records] == [r["locator"] for r in rows]
    text = _run("evidence", record_id, "--table", table)
    for citation in expected:
        assert f"locator: {citation['locator']}" in text
        assert str(citation["source"]["title"]) in text
    assert text.rstrip().endswith(f"{len(expected)} citations of {record_id}.")


def test_evidence_of_an_unknown_record_is_a_clean_error() -> None:
    result = CliRunner().invoke(main, ["evidence", "no-such-record", "--source", str(ROOT)])
    assert result.exit_code == 2
    assert "Error: No record with id 'no-such-record'" in result.output
    assert "Traceback" not in result.output


def test_show_filters_with_sql_and_picks_columns() -> None:
    events = GRAPH.frames["events"]
    expected = events.filter(pl.col("date_precision") == "day")["id"].to_list()
    output = _run(
        "show",
        "events",
        "--limit",
        "0",
        "--format",
        "csv",
        "--columns",
        "id,date_start",
        "--where",
        "date_precision = 'day'",
    )
    frame = pl.read_csv(io.StringIO(output))
    assert frame.columns == ["id", "date_start"]
    assert frame["id"].to_list() == expected


def test_show_refuses_an_unknown_column_and_a_bad_filter() -> None:
    for options in (["--columns", "id,nope"], ["--where", "id ==="]):
        result = CliRunner().invoke(main, ["show", "events", *options])
        assert result.exit_code == 2, result.output
        assert result.output.startswith("Error: ")


def test_show_as_json_round_trips() -> None:
    records = json.loads(_run("show", "citations", "--limit", "0", "--format", "json"))
    assert len(records) == GRAPH.frames[EVIDENCE_TABLE].height


def test_query_runs_sql_over_every_table() -> None:
    output = _run(
        "query",
        "SELECT record_table, count(*) AS n FROM citations GROUP BY record_table "
        "ORDER BY record_table",
        "--format",
        "csv",
    )
    frame = pl.read_csv(io.StringIO(output))
    counts = GRAPH.frames[EVIDENCE_TABLE]["record_table"].cast(pl.String).value_counts()
    assert dict(frame.iter_rows()) == dict(counts.iter_rows())


@pytest.mark.parametrize("fmt", ["table", "csv", "json"])
def test_a_closed_pipe_ends_quietly_with_success(fmt: str) -> None:
    # Some megabytes of output, far more than any pipe buffer holds, but bounded so that
    # the test's time does not grow with the data.
    sql = "SELECT a.* FROM citations a CROSS JOIN events b LIMIT 20000"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "relations_data",
            "query",
            sql,
            "--format",
            fmt,
            "--source",
            str(ROOT),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.read(100)
    process.stdout.close()
    error = process.stderr.read()
    assert process.wait(timeout=120) == 0, error
    assert error == b""
