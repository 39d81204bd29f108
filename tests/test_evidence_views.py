"""Evidence in the SQL exports and in Datasette: views, counts, comments, canned queries."""

from __future__ import annotations

import contextlib
import json
import socket
import sqlite3
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest

from relations_data.export import DATASETTE_METADATA, export
from relations_data.package import open_package
from relations_data.records import EVIDENCE_TABLE, load_graph
from relations_data.serve import DATABASE, datasette_command, exported_database
from relations_data.views import COUNTS_VIEW, EVIDENCE_VIEW, evidence_layout
from tests.conftest import ROOT

GRAPH = load_graph(source=ROOT)
LAYOUT = evidence_layout(open_package(ROOT))
assert LAYOUT is not None
CITED = [t for t in LAYOUT.cited_tables if GRAPH.rows.get(t)]


def _expected_counts(table: str) -> dict[str, dict[str, int]]:
    counts = {}
    for record_id in GRAPH.rows[table]:
        citations = GRAPH.evidence(table, record_id)
        row = {s: sum(c["stance"] == s for c in citations) for s in LAYOUT.stances}
        row["citations"] = len(citations)
        counts[record_id] = row
    return counts


@pytest.fixture(scope="module")
def sqlite_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return export("sqlite", tmp_path_factory.mktemp("views") / "r.db", source=ROOT)


@pytest.mark.parametrize("table", CITED)
def test_sqlite_evidence_views_match_the_citations(sqlite_db: Path, table: str) -> None:
    with contextlib.closing(sqlite3.connect(sqlite_db)) as connection:
        connection.row_factory = sqlite3.Row
        rows = connection.execute(f'SELECT * FROM "{COUNTS_VIEW.format(table=table)}"').fetchall()
        counts = {row["id"]: dict(zip(row.keys()[1:], tuple(row)[1:], strict=True)) for row in rows}
        assert counts == _expected_counts(table)
        evidence = connection.execute(
            f'SELECT id, source_title, citation_locator FROM "{EVIDENCE_VIEW.format(table=table)}"'
        ).fetchall()
        expected = sum(max(1, c["citations"]) for c in counts.values())
        assert len(evidence) == expected
        assert all(r["source_title"] for r in evidence if r["citation_locator"] is not None)
        assert connection.execute("PRAGMA foreign_key_check").fetchall() == []
        keys = connection.execute(f"PRAGMA foreign_key_list('{table}_citations')").fetchall()
        assert {k["table"] for k in keys} == {table, LAYOUT.source.table}


def test_datasette_metadata_has_the_evidence_query_and_labels(sqlite_db: Path) -> None:
    metadata = json.loads((sqlite_db.parent / DATASETTE_METADATA).read_text(encoding="utf-8"))
    database = metadata["databases"][sqlite_db.stem]
    query = database["queries"]["evidence"]["sql"]
    table = CITED[0]
    record_id = max(GRAPH.rows[table], key=lambda r: len(GRAPH.evidence(table, r)))
    with contextlib.closing(sqlite3.connect(sqlite_db)) as connection:
        found = connection.execute(query, {"record_id": record_id}).fetchall()
    assert len(found) == len(GRAPH.evidence(table, record_id)) > 0
    assert database["tables"][table]["label_column"] in GRAPH.schemas[table].field_names
    for cited in CITED:
        assert database["tables"][EVIDENCE_VIEW.format(table=cited)]["description"]


def test_duckdb_has_the_views_and_the_schema_descriptions(tmp_path: Path) -> None:
    duckdb = pytest.importorskip("duckdb")
    path = export("duckdb", tmp_path / "r.duckdb", source=ROOT)
    connection = duckdb.connect(str(path), read_only=True)
    try:
        for table in CITED:
            relation = connection.sql(f'SELECT * FROM "{COUNTS_VIEW.format(table=table)}"')
            names = relation.columns
            counts = {
                row[0]: {k: int(v) for k, v in zip(names[1:], row[1:], strict=True)}
                for row in relation.fetchall()
            }
            assert counts == _expected_counts(table)
        comments = dict(
            connection.sql("SELECT table_name, comment FROM duckdb_tables()").fetchall()
        )
        columns = {
            (t, c): comment
            for t, c, comment in connection.sql(
                "SELECT table_name, column_name, comment FROM duckdb_columns()"
            ).fetchall()
        }
    finally:
        connection.close()
    for resource in open_package(ROOT).resources:
        assert comments[resource.name] == (resource.description or resource.title)
        for field in resource.schema.fields:
            if field.description:
                assert field.description in columns[(resource.name, field.name)]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _get(url: str) -> bytes:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=10) as response:
        return bytes(response.read())


@pytest.fixture
def datasette() -> Iterator[str]:
    pytest.importorskip("datasette")
    with exported_database(ROOT) as database:
        port = _free_port()
        process = subprocess.Popen(
            datasette_command(database, port), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    _get(f"{url}/-/versions.json")
                    break
                except OSError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        raise
                    time.sleep(0.2)
            yield url
        finally:
            process.terminate()
            process.wait(timeout=30)


def test_serve_leads_from_an_event_page_to_its_evidence(datasette: str) -> None:
    table = "events" if "events" in CITED else CITED[0]
    record_id = max(GRAPH.rows[table], key=lambda r: len(GRAPH.evidence(table, r)))
    page = _get(f"{datasette}/{DATABASE}/{table}/{record_id}").decode("utf-8")
    link = f"/{DATABASE}/{table}_citations?record_id={record_id}"
    assert link in page, "the record's page links to its citations"
    data = f"/{DATABASE}/{table}_citations.json?record_id={record_id}&_shape=array"
    citations = json.loads(_get(f"{datasette}{data}"))
    expected = GRAPH.frames[EVIDENCE_TABLE].filter(
        pl.col("record_table").cast(pl.String) == table, pl.col("record_id") == record_id
    )
    assert len(citations) == expected.height > 0
    evidence = json.loads(
        _get(f"{datasette}/{DATABASE}/evidence.json?record_id={record_id}&_shape=array")
    )
    assert {(e["source_id"], e["locator"]) for e in evidence} == set(
        expected.select("source_id", "locator").iter_rows()
    )
    assert all(e["source_title"] for e in evidence)
