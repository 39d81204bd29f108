"""The typed loader: dtypes from the Table Schemas, load/scan/load_package, errors."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import relations_data as rd
from relations_data.errors import PackageError, UnknownTableError
from relations_data.loader import Package, load, load_package, scan, summarize_tables, tables
from tests.conftest import ROOT, TABLES, descriptor


def schema_fields(table: str, root: Path = ROOT) -> list[dict[str, Any]]:
    resource = next(r for r in descriptor()["resources"] if r["name"] == table)
    schema = json.loads((root / resource["schema"]).read_text(encoding="utf-8"))
    fields: list[dict[str, Any]] = schema["fields"]
    return fields


def expected_dtype(field: dict[str, Any]) -> pl.DataType:
    """The dtype the issue specifies for a Table Schema field."""
    enum = field.get("constraints", {}).get("enum")
    kind = field.get("type", "string")
    if kind == "string" and enum is not None:
        return pl.Enum(enum)
    by_type: dict[str, pl.DataType] = {
        "date": pl.Date(),
        "integer": pl.Int64(),
        "number": pl.Float64(),
        "boolean": pl.Boolean(),
    }
    if kind == "year":
        return pl.Int32()
    return by_type.get(kind, pl.String())


def sample_cell(field: dict[str, Any], row: int) -> str:
    """A valid CSV cell for a field (cycling through enum categories by row)."""
    enum = field.get("constraints", {}).get("enum")
    if enum is not None:
        return str(enum[row % len(enum)])
    kind = field.get("type", "string")
    samples = {
        "date": f"2017-0{1 + row % 9}-1{row % 10}",
        "integer": str(10 + row),
        "number": f"{row}.5",
        "boolean": (field.get("trueValues") or ["true"])[0],
        "year": str(2000 + row),
    }
    return str(samples.get(kind, f"v{row}-{field['name'].replace('_', '-')}"))


def write_sample_rows(package: Path, rows: int = 3) -> None:
    """Fill every CSV of a package copy with generated rows and one all-missing row."""
    for table in TABLES:
        fields = schema_fields(table, package)
        lines = [",".join(f["name"] for f in fields)]
        lines += [",".join(sample_cell(f, row) for f in fields) for row in range(rows)]
        lines.append("," * (len(fields) - 1))
        (package / "data" / f"{table}.csv").write_text("\n".join(lines) + "\n", "utf-8")


def test_tables_are_the_descriptor_resources() -> None:
    assert list(tables()) == TABLES


@pytest.mark.parametrize("table", TABLES)
def test_every_column_has_the_dtype_its_schema_implies(table: str) -> None:
    fields = schema_fields(table)
    frame = load(table)  # type: ignore[arg-type]
    assert frame.columns == [f["name"] for f in fields]
    for field in fields:
        assert frame.schema[field["name"]] == expected_dtype(field), field["name"]


@pytest.mark.parametrize("table", TABLES)
def test_values_are_parsed_and_missing_values_become_null(table: str, package_copy: Path) -> None:
    write_sample_rows(package_copy)
    fields = schema_fields(table)
    frame = load(table, source=package_copy)  # type: ignore[arg-type]
    assert frame.height == 4
    assert frame.row(-1) == (None,) * len(fields)
    first = frame.row(0, named=True)
    for field in fields:
        cell = sample_cell(field, 0)
        value = first[field["name"]]
        if field["type"] == "date":
            assert value == date.fromisoformat(cell)
        elif field["type"] in ("integer", "year"):
            assert value == int(cell)
        elif field["type"] == "number":
            assert value == float(cell)
        else:
            assert value == cell


@pytest.mark.parametrize("table", TABLES)
def test_load_scan_and_load_package_agree(table: str, package_copy: Path) -> None:
    write_sample_rows(package_copy)
    loaded = load(table, source=package_copy)  # type: ignore[arg-type]
    assert scan(table, source=package_copy).collect().equals(loaded)  # type: ignore[arg-type]
    package = load_package(source=package_copy)
    assert package[table].equals(loaded)  # type: ignore[index]
    assert getattr(package, table).equals(loaded)


def test_package_is_a_mapping_of_every_table_with_version_and_descriptor() -> None:
    package = load_package()
    assert isinstance(package, Package)
    assert list(package) == TABLES
    assert len(package) == len(TABLES)
    assert package.version == descriptor()["version"]
    assert package.descriptor["name"] == descriptor()["name"]
    assert package.events.equals(package["events"])
    assert set(TABLES) <= set(dir(package))
    assert "events" in repr(package)
    assert "events" in package and "nope" not in package


def test_unknown_table_suggests_a_close_name() -> None:
    with pytest.raises(UnknownTableError, match=r"Did you mean 'events'\?") as caught:
        load("event")  # type: ignore[arg-type]
    assert isinstance(caught.value, KeyError)
    assert "expected one of sources" in str(caught.value)
    with pytest.raises(UnknownTableError, match="Did you mean 'vessels'"):
        scan("vesels")  # type: ignore[arg-type]
    package = load_package()
    with pytest.raises(KeyError, match="Did you mean 'actors'"):
        package["actor"]  # type: ignore[index]
    with pytest.raises(AttributeError, match="Did you mean 'places'"):
        _ = package.place


def test_schema_options_booleans_formats_missing_values(tmp_path: Path) -> None:
    schema = {
        "fields": [
            {"name": "id", "type": "integer"},
            {"name": "flag", "type": "boolean", "trueValues": ["yes"], "falseValues": ["no"]},
            {"name": "day", "type": "date", "format": "%d/%m/%Y"},
            {"name": "year", "type": "year"},
            {"name": "kind", "type": "string", "constraints": {"enum": ["b", "a"]}},
            {"name": "note", "type": "string"},
        ],
        "missingValues": ["", "NA"],
    }
    package = {
        "name": "tiny",
        "version": "1.0.0",
        "resources": [{"name": "events", "path": "events.csv", "schema": schema}],
    }
    (tmp_path / "datapackage.json").write_text(json.dumps(package), "utf-8")
    (tmp_path / "events.csv").write_text(
        "id,flag,day,year,kind,note\n1,yes,31/12/2019,2019,a,NA\n2,no,NA,,b,x\n3,NA,,NA,NA,\n",
        "utf-8",
    )
    frame = load("events", source=tmp_path)
    assert frame.schema == pl.Schema(
        {
            "id": pl.Int64(),
            "flag": pl.Boolean(),
            "day": pl.Date(),
            "year": pl.Int32(),
            "kind": pl.Enum(["b", "a"]),
            "note": pl.String(),
        }
    )
    assert frame.to_dicts() == [
        {"id": 1, "flag": True, "day": date(2019, 12, 31), "year": 2019, "kind": "a", "note": None},
        {"id": 2, "flag": False, "day": None, "year": None, "kind": "b", "note": "x"},
        {"id": 3, "flag": None, "day": None, "year": None, "kind": None, "note": None},
    ]
    assert scan("events", source=tmp_path).collect().equals(frame)
    (tmp_path / "events.csv").write_text("id,flag,day,year,kind,note\n1,true,,,a,\n", "utf-8")
    with pytest.raises(PackageError, match="does not match its Table Schema"):
        load("events", source=tmp_path)


def test_a_value_outside_the_vocabulary_names_the_file_and_the_fix(package_copy: Path) -> None:
    write_sample_rows(package_copy)
    fields = schema_fields("events")
    enum_field = next(f for f in fields if "enum" in f.get("constraints", {}))
    path = package_copy / "data" / "events.csv"
    frame = pl.read_csv(path, infer_schema=False)
    frame = frame.with_columns(pl.lit("not-a-category").alias(enum_field["name"]))
    frame.write_csv(path)
    with pytest.raises(PackageError, match=r"events\.csv.*relations-data validate"):
        load("events", source=package_copy)
    with pytest.raises(PackageError, match=r"events\.csv"):
        load_package(source=package_copy)


def test_a_missing_column_is_refused(package_copy: Path) -> None:
    path = package_copy / "data" / "events.csv"
    header = path.read_text("utf-8").splitlines()[0]
    path.write_text(header.rsplit(",", 1)[0] + "\n", "utf-8")
    with pytest.raises(PackageError, match="does not match its Table Schema"):
        load("events", source=package_copy)


def test_a_missing_data_file_is_refused(package_copy: Path) -> None:
    (package_copy / "data" / "places.csv").unlink()
    with pytest.raises(PackageError, match=r"places\.csv: data file of table 'places' not found"):
        load("places", source=package_copy)


def test_source_arguments_that_contradict_each_other_are_refused(package_copy: Path) -> None:
    with pytest.raises(ValueError, match="either version= or source="):
        load("events", version="1.0.0", source=package_copy)
    with pytest.raises(ValueError, match="sha256= verifies an archive"):
        load("events", source=package_copy, sha256="0" * 64)
    with pytest.raises(ValueError, match="sha256= verifies an archive"):
        load("events", sha256="0" * 64)


def test_a_descriptor_file_is_a_source(package_copy: Path) -> None:
    write_sample_rows(package_copy)
    by_file = load("actors", source=package_copy / "datapackage.json")
    assert by_file.equals(load("actors", source=str(package_copy)))


def test_summaries_count_rows(package_copy: Path) -> None:
    write_sample_rows(package_copy, rows=5)
    summaries = summarize_tables(source=package_copy)
    assert [s.name for s in summaries] == TABLES
    assert {s.rows for s in summaries} == {6}
    assert all(s.description for s in summaries)


def test_the_public_api_is_reachable_from_the_package() -> None:
    assert rd.load is load
    assert rd.scan is scan
    assert rd.tables is tables


@pytest.mark.parametrize(
    "code", ["import relations_data", "import relations_data as rd; rd.load('events')"]
)
def test_import_and_bundled_load_stay_light(code: str) -> None:
    heavy = ["frictionless", "pandera", "pooch", "hypothesis", "requests", "matplotlib", "duckdb"]
    probe = f"{code}; import sys; print([m for m in {heavy!r} if m in sys.modules])"
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert result.stdout.strip() == "[]"


def _cell_strategy(field: dict[str, Any]) -> st.SearchStrategy[Any]:
    enum = field.get("constraints", {}).get("enum")
    kind = field.get("type", "string")
    value: st.SearchStrategy[Any]
    if enum is not None:
        value = st.sampled_from(enum)
    elif kind == "date":
        value = st.dates()
    elif kind == "integer":
        value = st.integers(-(2**63), 2**63 - 1)
    elif kind == "number":
        value = st.floats(allow_nan=False, allow_infinity=False)
    else:  # any text but the empty string, which is the missing value
        value = st.text(
            st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), min_size=1
        )
    return st.none() | value


@pytest.mark.slow
@pytest.mark.parametrize("table", TABLES)
@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_any_typed_table_written_as_csv_loads_back_unchanged(
    table: str, package_copy: Path, data: st.DataObject
) -> None:
    fields = schema_fields(table)
    rows = data.draw(
        st.lists(st.fixed_dictionaries({f["name"]: _cell_strategy(f) for f in fields}), max_size=6)
    )
    expected = pl.DataFrame(
        rows, schema={f["name"]: expected_dtype(f) for f in fields}, orient="row"
    )
    expected.write_csv(package_copy / "data" / f"{table}.csv")
    assert load(table, source=package_copy).equals(expected)  # type: ignore[arg-type]
