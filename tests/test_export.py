"""Exports to SQLite, DuckDB, Parquet, JSON and CSV round-trip the loader's tables."""

from __future__ import annotations

import contextlib
import json
import sqlite3
import sys
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from relations_data.cli import main
from relations_data.dtypes import polars_schema
from relations_data.errors import ExportError, ValidationError
from relations_data.export import DATASETTE_METADATA, export
from relations_data.loader import load
from relations_data.package import open_package
from relations_data.sql import (
    create_table_sql,
    dependency_order,
    duckdb_type,
    quote_identifier,
    quote_literal,
    sqlite_type,
)
from tests._synthetic import ROWS, synthetic_package, write_synthetic_rows
from tests.conftest import ROOT, TABLES


@pytest.fixture
def synthetic(package_copy: Path) -> Path:
    """A copy of the package holding a few valid synthetic rows in every table."""
    write_synthetic_rows(package_copy)
    return package_copy


@pytest.fixture(scope="module")
def shared_synthetic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Like ``synthetic``, shared by the read-only tests of this module (faster)."""
    return synthetic_package(tmp_path_factory.mktemp("synthetic"))


def _typed(frame: pl.DataFrame, table: str, source: Path) -> pl.DataFrame:
    """``frame`` (as read back from an export) cast to the loader's dtypes."""
    schema = polars_schema(open_package(source).resource(table).schema)
    casts = [
        pl.col(name).cast(pl.String).str.to_date("%Y-%m-%d")
        if dtype == pl.Date
        else pl.col(name).cast(dtype)
        for name, dtype in schema.items()
    ]
    return frame.select(list(schema.names())).with_columns(casts)


def _sqlite_frame(database: Path, table: str) -> pl.DataFrame:
    with sqlite3.connect(database) as connection:
        cursor = connection.execute(f'SELECT * FROM "{table}" ORDER BY rowid')
        names = [d[0] for d in cursor.description]
        rows = cursor.fetchall()
    return pl.DataFrame(rows, schema=names, orient="row", infer_schema_length=None)


def test_synthetic_rows_cover_every_table() -> None:
    assert set(ROWS) == set(TABLES)


# -- SQLite -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sqlite_export(shared_synthetic: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sqlite") / "relations.db"
    return export("sqlite", out, source=shared_synthetic)


@pytest.mark.parametrize("table", TABLES)
def test_sqlite_round_trips_every_table(
    sqlite_export: Path, shared_synthetic: Path, table: str
) -> None:
    expected = load(table, source=shared_synthetic)  # type: ignore[arg-type]
    actual = _typed(_sqlite_frame(sqlite_export, table), table, shared_synthetic)
    assert expected.height == len(ROWS[table]) > 0
    assert_frame_equal(actual, expected)


@pytest.mark.parametrize("table", TABLES)
def test_sqlite_declares_the_keys_of_the_schema(
    sqlite_export: Path, shared_synthetic: Path, table: str
) -> None:
    schema = open_package(shared_synthetic).resource(table).schema
    with sqlite3.connect(sqlite_export) as connection:
        declared = {
            (row[2], row[3], row[4])
            for row in connection.execute(f'PRAGMA foreign_key_list("{table}")')
        }
        key = [
            row[1]
            for row in sorted(
                connection.execute(f'PRAGMA table_info("{table}")'), key=lambda r: r[5]
            )
            if row[5] > 0
        ]
    expected = {
        (fk.resource, column, reference)
        for fk in schema.foreign_keys
        for column, reference in zip(fk.fields, fk.reference_fields, strict=True)
    }
    assert declared == expected
    assert tuple(key) == schema.primary_key


def test_sqlite_foreign_keys_are_clean_and_enforced(sqlite_export: Path) -> None:
    with sqlite3.connect(sqlite_export) as connection:
        assert connection.execute("PRAGMA foreign_key_check").fetchall() == []
        connection.execute("PRAGMA foreign_keys = ON")
        with pytest.raises(sqlite3.IntegrityError):
            connection.execute(
                "INSERT INTO event_actors (event_id, actor_id, role) "
                "VALUES ('relations-1956', 'nobody', 'actor')"
            )


def test_sqlite_checks_vocabularies(sqlite_export: Path) -> None:
    with sqlite3.connect(sqlite_export) as connection, pytest.raises(sqlite3.IntegrityError):
        connection.execute("UPDATE events SET status = 'rumoured'")


def test_sqlite_export_writes_datasette_metadata(
    sqlite_export: Path, shared_synthetic: Path
) -> None:
    metadata = json.loads((sqlite_export.parent / DATASETTE_METADATA).read_text("utf-8"))
    descriptor = json.loads((shared_synthetic / "datapackage.json").read_text("utf-8"))
    assert metadata["title"] == descriptor["title"]
    assert metadata["license"] == descriptor["licenses"][0]["name"]
    assert metadata["source_url"].startswith("https://")
    tables = metadata["databases"][sqlite_export.stem]["tables"]
    package = open_package(shared_synthetic)
    names = list(package.table_names)
    assert list(tables)[: len(names)] == names
    # The rest describe the evidence views and derived citation tables (test_evidence_views).
    assert all(
        t.endswith(("_citations", "_evidence", "_evidence_counts"))
        for t in tables
        if t not in names
    )
    for resource in package.resources:
        assert tables[resource.name]["description"] == resource.description
        columns = tables[resource.name]["columns"]
        assert list(columns) == list(resource.schema.field_names)
        for field in resource.schema.fields:
            assert field.description in columns[field.name]


def test_create_table_sql_quotes_identifiers_and_derives_everything() -> None:
    package = open_package(ROOT)
    for resource in package.resources:
        sql = create_table_sql(resource.schema, sqlite_type)
        for field in resource.schema.fields:
            assert f'"{field.name}"' in sql
            for value in field.enum or ():
                assert f"'{value}'" in sql
        assert sql.count("FOREIGN KEY") == len(resource.schema.foreign_keys)
        with sqlite3.connect(":memory:") as connection:
            connection.execute(sql)  # valid SQL on its own


def test_dependency_order_puts_referenced_tables_first() -> None:
    order = [r.name for r in dependency_order(open_package(ROOT))]
    assert sorted(order) == sorted(TABLES)
    for resource in open_package(ROOT).resources:
        for fk in resource.schema.foreign_keys:
            assert order.index(fk.resource) <= order.index(resource.name)


def test_broken_foreign_key_refuses_the_sqlite_export(package_copy: Path, tmp_path: Path) -> None:
    rows = {**ROWS, "event_actors": [{"event_id": "relations-1956", "actor_id": "nobody"}]}
    rows["event_actors"][0]["role"] = "actor"
    write_synthetic_rows(package_copy, rows)
    out = tmp_path / "out" / "relations.db"
    with pytest.raises(ValidationError, match="event_actors"):
        export("sqlite", out, source=package_copy)
    assert list(out.parent.iterdir()) == []


# -- DuckDB -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def duckdb_export(shared_synthetic: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("duckdb")
    out = tmp_path_factory.mktemp("duckdb") / "relations.duckdb"
    return export("duckdb", out, source=shared_synthetic)


@pytest.fixture(scope="module")
def parquet_export(shared_synthetic: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return export("parquet", tmp_path_factory.mktemp("parquet") / "tables", source=shared_synthetic)


@pytest.mark.parametrize("table", TABLES)
def test_duckdb_round_trips_with_matching_types(
    duckdb_export: Path, shared_synthetic: Path, table: str
) -> None:
    import duckdb

    resource = open_package(shared_synthetic).resource(table)
    with duckdb.connect(str(duckdb_export), read_only=True) as connection:
        described = connection.execute(f'DESCRIBE "{table}"').fetchall()
        rows = connection.execute(f'SELECT * FROM "{table}"').fetchall()
        foreign = connection.execute(
            "SELECT count(*) FROM duckdb_constraints() "
            "WHERE table_name = ? AND constraint_type = 'FOREIGN KEY'",
            [table],
        ).fetchone()
    assert [name for name, *_ in described] == list(resource.schema.field_names)
    for (name, sql_type, *_), field in zip(described, resource.schema.fields, strict=True):
        dtype = polars_schema(resource.schema)[name]
        expected_prefix = {
            pl.String: "VARCHAR",
            pl.Date: "DATE",
            pl.Float64: "DOUBLE",
            pl.Int64: "BIGINT",
            pl.Boolean: "BOOLEAN",
        }.get(dtype.base_type(), "ENUM(")
        assert sql_type.startswith(expected_prefix), (name, sql_type, dtype)
        assert sql_type == duckdb_type(field)
    assert foreign == (len(resource.schema.foreign_keys),)
    expected = load(table, source=shared_synthetic).rows()  # type: ignore[arg-type]
    assert sorted(rows, key=repr) == sorted(expected, key=repr)
    assert len(rows) == len(ROWS[table])


def test_missing_duckdb_names_the_extra(
    synthetic: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "duckdb", None)  # makes "import duckdb" fail
    with pytest.raises(ExportError, match=r"relations-data\[duckdb\]"):
        export("duckdb", tmp_path / "relations.duckdb", source=synthetic)
    assert not (tmp_path / "relations.duckdb").exists()


# -- Parquet, JSON, CSV -----------------------------------------------------------------------


@pytest.mark.parametrize("table", TABLES)
def test_parquet_round_trips_with_the_loader_dtypes(
    parquet_export: Path, shared_synthetic: Path, table: str
) -> None:
    out = parquet_export
    frame = pl.read_parquet(out / f"{table}.parquet")
    expected = load(table, source=shared_synthetic)  # type: ignore[arg-type]
    assert frame.schema == expected.schema
    assert_frame_equal(frame, expected)
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{t}.parquet" for t in TABLES)


def test_json_round_trips_every_table(synthetic: Path, tmp_path: Path) -> None:
    out = export("json", tmp_path / "relations.json", source=synthetic)
    document: dict[str, list[dict[str, Any]]] = json.loads(out.read_text("utf-8"))
    assert list(document) == TABLES
    for table in TABLES:
        names = list(open_package(synthetic).resource(table).schema.field_names)
        frame = pl.DataFrame(document[table], schema=names, orient="row")
        if document[table]:
            frame = pl.DataFrame(
                [[record[n] for n in names] for record in document[table]],
                schema=names,
                orient="row",
                infer_schema_length=None,
            )
        expected = load(table, source=synthetic)  # type: ignore[arg-type]
        assert_frame_equal(_typed(frame, table, synthetic), expected)


def test_csv_export_is_a_valid_copy_of_the_package(synthetic: Path, tmp_path: Path) -> None:
    out = export("csv", tmp_path / "csv", source=synthetic)
    assert (out / "datapackage.json").read_bytes() == (synthetic / "datapackage.json").read_bytes()
    for table in TABLES:
        assert_frame_equal(
            load(table, source=out),  # type: ignore[arg-type]
            load(table, source=synthetic),  # type: ignore[arg-type]
        )


# -- atomicity and targets --------------------------------------------------------------------


def test_failing_parquet_export_leaves_no_output(
    synthetic: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    written: list[object] = []
    original = pl.DataFrame.write_parquet

    def fail_on_third(self: pl.DataFrame, *args: Any, **kwargs: Any) -> None:
        written.append(args[0])
        if len(written) == 3:
            raise OSError("disk full")
        original(self, *args, **kwargs)

    monkeypatch.setattr(pl.DataFrame, "write_parquet", fail_on_third)
    parent = tmp_path / "exports"
    parent.mkdir()
    with pytest.raises(ExportError, match="disk full"):  # the library's own error (issue 14)
        export("parquet", parent / "parquet", source=synthetic)
    assert len(written) == 3
    assert list(parent.iterdir()) == []


def test_failing_sqlite_export_keeps_the_previous_one(
    synthetic: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = export("sqlite", tmp_path / "relations.db", source=synthetic)
    before = out.read_bytes()
    metadata_before = (tmp_path / DATASETTE_METADATA).read_bytes()

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("metadata writer failed")

    monkeypatch.setattr("relations_data.export.datasette_metadata", broken)
    with pytest.raises(RuntimeError):
        export("sqlite", out, source=synthetic)
    assert out.read_bytes() == before
    assert (tmp_path / DATASETTE_METADATA).read_bytes() == metadata_before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [out.name, DATASETTE_METADATA, "package"]
    )


def test_folder_export_replaces_an_earlier_export_only(synthetic: Path, tmp_path: Path) -> None:
    out = export("parquet", tmp_path / "parquet", source=synthetic)
    export("parquet", out, source=synthetic)  # an earlier export is replaced
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(ExportError, match=r"notes\.txt"):
        export("parquet", out, source=synthetic)
    assert (out / "notes.txt").read_text(encoding="utf-8") == "mine"


def test_exporting_into_the_current_folder_deletes_nothing(
    synthetic: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ExportError, match="left as is"):
        export("csv", ".", source=synthetic)
    assert (tmp_path / "notes.txt").read_text(encoding="utf-8") == "mine"


def test_unknown_format_and_folder_target_are_refused(synthetic: Path, tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="expected one of sqlite"):
        export("xlsx", tmp_path / "x.xlsx", source=synthetic)
    with pytest.raises(ExportError, match="folder"):
        export("sqlite", tmp_path, source=synthetic)


# -- CLI and the real data --------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["sqlite", "json", "parquet", "csv"])
def test_export_command(synthetic: Path, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"export-{fmt}"
    result = CliRunner().invoke(
        main, ["export", "--format", fmt, str(out), "--source", str(synthetic)]
    )
    assert result.exit_code == 0, result.output
    assert f"wrote {out}" in result.output
    assert out.exists()


def test_export_command_reports_library_errors(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["export", "--format", "sqlite", str(tmp_path), "--source", str(ROOT)]
    )
    assert result.exit_code == 2
    assert "Error:" in result.output


def test_sqlite_export_of_the_repository_data(tmp_path: Path) -> None:
    out = export("sqlite", tmp_path / "relations.db", source=ROOT)
    with sqlite3.connect(out) as connection:
        assert connection.execute("PRAGMA foreign_key_check").fetchall() == []
        for table in TABLES:
            (count,) = connection.execute(f'SELECT count(*) FROM "{table}"').fetchone()
            assert count == load(table, source=ROOT).height  # type: ignore[arg-type]


def test_duckdb_export_of_the_repository_data(tmp_path: Path) -> None:
    duckdb = pytest.importorskip("duckdb")
    out = export("duckdb", tmp_path / "relations.duckdb", source=ROOT)
    with duckdb.connect(str(out), read_only=True) as connection:
        for table in TABLES:
            (count,) = connection.execute(f'SELECT count(*) FROM "{table}"').fetchone()
            assert count == load(table, source=ROOT).height  # type: ignore[arg-type]


# SQLite reserves names starting with "sqlite_" for itself; NUL ends a C string.
_SQL_TEXT = st.text(min_size=1, max_size=30).filter(
    lambda text: "\x00" not in text and not text.lower().startswith("sqlite_")
)


@settings(max_examples=50, deadline=None)
@given(name=_SQL_TEXT, value=_SQL_TEXT)
def test_quoting_keeps_any_identifier_and_literal(name: str, value: str) -> None:
    with contextlib.closing(sqlite3.connect(":memory:")) as connection:
        connection.execute(f"CREATE TABLE {quote_identifier(name)} ({quote_identifier(name)} TEXT)")
        columns = connection.execute(f"PRAGMA table_info({quote_identifier(name)})").fetchall()
        (selected,) = connection.execute(f"SELECT {quote_literal(value)}").fetchone()
    assert columns[0][1] == name
    assert selected == value
