"""Hostile or broken packages (issue 14): names, short rows, nesting, schemas that crash,
inconsistent limits, formula injection, clobbered inputs and patterns that never finish.

Every command answers with one ``Error:`` line naming the file, exit status 2, and no
traceback; nothing is written outside its target; ``load`` never returns what
``validate`` rejects.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from hypothesis import given
from hypothesis import strategies as st

from relations_data.cli import main
from relations_data.errors import PackageError, RelationsDataError
from relations_data.loader import load, load_package, scan
from relations_data.validation import validate
from tests._synthetic import synthetic_package

EXPORT_FORMATS = ("sqlite", "duckdb", "parquet", "json", "csv")


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A small valid package (synthetic rows) in ``tmp_path / "pkg"``."""
    (tmp_path / "pkg").mkdir()
    return synthetic_package(tmp_path / "pkg")


def cli(*args: str | Path) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args])


def assert_one_error_line(result: Result, *names: str) -> None:
    """Exit 2, no traceback, and one ``Error:`` line on stderr naming each of ``names``."""
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    for name in names:
        assert name in lines[0], (name, lines[0])


def edit_json(path: Path, change: Callable[[dict], None]) -> None:
    data = json.loads(path.read_text("utf-8"))
    change(data)
    path.write_text(json.dumps(data, indent=2), "utf-8")


def append_line(path: Path, line: str) -> None:
    with path.open("a", encoding="utf-8", newline="") as handle:
        handle.write(line + "\n")


def set_cell(root: Path, table: str, column: str, value: str, row: int = 0) -> None:
    """Set one cell of a table's CSV (via the csv module, so quoting stays right)."""
    import csv
    import io

    path = root / "data" / f"{table}.csv"
    rows = list(csv.reader(io.StringIO(path.read_text("utf-8"), newline="")))
    rows[row + 1][rows[0].index(column)] = value
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator="\n").writerows(rows)
    path.write_text(out.getvalue(), "utf-8", newline="")


# -- 1. names that become file names, table names or archive entries ------------------------

BAD_NAMES = ["../../pwned", "/tmp/pwned-abs", "..", ".pwned", "Pwned", "pw ned", "a/pwned", "a\\b"]


def _rename_citations(root: Path, name: str) -> None:
    # Nothing references citations, so only the name changes.
    def rename(data: dict) -> None:
        for resource in data["resources"]:
            if resource["name"] == "citations":
                resource["name"] = name

    edit_json(root / "datapackage.json", rename)


@pytest.mark.parametrize("name", BAD_NAMES)
def test_a_resource_name_outside_the_name_pattern_is_refused_by_every_command(
    root: Path, tmp_path: Path, name: str
) -> None:
    _rename_citations(root, name)
    assert_one_error_line(cli("validate", root), "datapackage.json", repr(name))
    out = tmp_path / "exports" / "out"
    out.parent.mkdir()
    assert_one_error_line(cli("export", "--format", "parquet", out, "--source", root))
    assert_one_error_line(cli("release", "build", root, "--no-record", "--out", tmp_path / "dist"))
    with pytest.raises(PackageError, match="name"):
        load("events", source=root)
    assert not list(tmp_path.rglob("*pwned*")), "a file was written outside the target"
    assert not (tmp_path / "dist").exists()


# -- 2. short and long rows ---------------------------------------------------------------


@pytest.mark.parametrize("row", ["extra-event,2016-01-01", "a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p"])
def test_load_refuses_a_row_with_too_few_or_too_many_fields(root: Path, row: str) -> None:
    events = root / "data" / "events.csv"
    append_line(events, row)
    line = len(events.read_text("utf-8").splitlines())
    for read in (
        lambda: load("events", source=root),
        lambda: load_package(source=root),
        lambda: scan("events", source=root).collect(),
    ):
        with pytest.raises(PackageError, match=rf"events\.csv: line {line} has \d+ field"):
            read()


@pytest.mark.parametrize("fmt", ["json", "parquet"])
def test_an_export_refuses_a_truncated_csv(root: Path, tmp_path: Path, fmt: str) -> None:
    append_line(root / "data" / "events.csv", "extra-event,2016-01-01")
    out = tmp_path / f"out.{fmt}"
    assert_one_error_line(cli("export", "--format", fmt, out, "--source", root), "events.csv")
    assert not out.exists()


# -- 3. no traceback: deep nesting, bad enums, duplicate fields, SQL constraints ---------------

DEEP = "[" * 100_000 + "]" * 100_000


@pytest.mark.parametrize("target", ["datapackage.json", "schemas/events.schema.json"])
def test_deeply_nested_json_is_one_error_line(root: Path, target: str) -> None:
    (root / target).write_text(DEEP, "utf-8")
    assert_one_error_line(cli("validate", root), Path(target).name)
    assert_one_error_line(cli("show", "events", "--source", root), Path(target).name)


def test_a_deeply_nested_descriptor_in_an_archive_is_an_archive_error(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RELATIONS_DATA_CACHE", str(tmp_path / "cache"))
    archive = tmp_path / "deep.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("pkg/datapackage.json", DEEP)
    with pytest.raises(RelationsDataError, match=r"datapackage\.json"):
        load("events", source=archive)


def _event_type(data: dict) -> dict:
    return next(f for f in data["fields"] if f["name"] == "event_type")


SCHEMA_BREAKERS: dict[str, Callable[[dict], None]] = {
    "duplicate-enum-value": lambda d: _event_type(d)["constraints"]["enum"].append(
        _event_type(d)["constraints"]["enum"][0]
    ),
    "non-string-enum-value": lambda d: _event_type(d)["constraints"]["enum"].append(7),
    "duplicate-field-name": lambda d: d["fields"].append(dict(d["fields"][-1])),
}


@pytest.mark.parametrize("kind", SCHEMA_BREAKERS)
def test_a_schema_that_would_crash_is_refused_everywhere(
    root: Path, tmp_path: Path, kind: str
) -> None:
    edit_json(root / "schemas" / "events.schema.json", SCHEMA_BREAKERS[kind])
    assert_one_error_line(cli("validate", root), "events")
    assert_one_error_line(cli("show", "events", "--source", root), "events")
    for fmt in ("json", "sqlite"):
        assert_one_error_line(
            cli("export", "--format", fmt, tmp_path / f"out.{fmt}", "--source", root), "events"
        )
    with pytest.raises(PackageError, match="events"):
        load("events", source=root)


DATA_BREAKERS: dict[str, Callable[[Path], None]] = {
    "primary-key": lambda root: append_line(
        root / "data" / "actors.csv",
        (root / "data" / "actors.csv").read_text("utf-8").splitlines()[1],
    ),
    "required": lambda root: set_cell(root, "events", "summary", ""),
    "minimum": lambda root: set_cell(root, "agreements", "amount", "-5"),
}


@pytest.mark.parametrize("kind", DATA_BREAKERS)
@pytest.mark.parametrize("fmt", ["sqlite", "duckdb"])
def test_data_breaking_a_sql_constraint_is_one_error_line(
    root: Path, tmp_path: Path, kind: str, fmt: str
) -> None:
    DATA_BREAKERS[kind](root)
    out = tmp_path / f"out.{fmt}"
    assert_one_error_line(cli("export", "--format", fmt, out, "--source", root))
    assert not out.exists()


# -- 8. one reader, one set of limits ----------------------------------------------------------


def _outcome(root: Path, tmp_path: Path) -> dict[str, int]:
    """Exit status of each command that reads the package."""
    return {
        "validate": cli("validate", root, "--engine", "polars").exit_code,
        "fmt": cli("fmt", root, "--check").exit_code,
        "load": cli("show", "events", "--source", root).exit_code,
        "export-csv": cli(
            "export", "--format", "csv", tmp_path / "csv", "--source", root
        ).exit_code,
    }


@pytest.mark.parametrize("size", [200 * 1024, 3 * 1024 * 1024])
def test_every_command_agrees_on_a_large_cell(root: Path, tmp_path: Path, size: int) -> None:
    set_cell(root, "events", "note", "x" * (size // 2) + "\n" + "y" * (size // 2))
    outcome = _outcome(root, tmp_path)
    accepted = {0, 1}  # valid or a finding: read either way
    assert len({code in accepted for code in outcome.values()}) == 1, outcome
    report = cli("validate", root)  # both engines; a finding quotes a piece of the cell
    assert report.exit_code in (1, 2) and max(map(len, report.output.splitlines())) < 2000


def test_a_huge_header_gives_a_short_error_line(root: Path, tmp_path: Path) -> None:
    events = root / "data" / "events.csv"
    lines = events.read_text("utf-8").splitlines()
    lines[0] += ",x" + "y" * 1_000_000
    events.write_text("\n".join(lines) + "\n", "utf-8")
    for result in (cli("fmt", root, "--check"), cli("show", "events", "--source", root)):
        assert_one_error_line(result, "events.csv")
        assert len(result.stderr) < 2000
    # validate reports the extra label, as frictionless does, on short lines.
    report = cli("validate", root)
    assert report.exit_code == 1
    assert "extra-label" in report.output
    assert max(map(len, report.output.splitlines())) < 2000


def test_a_nul_byte_in_a_cell_is_refused(root: Path) -> None:
    set_cell(root, "events", "note", "a\x00b")
    assert_one_error_line(cli("validate", root), "events.csv", "NUL")
    assert_one_error_line(cli("fmt", root, "--check"), "events.csv", "NUL")
    with pytest.raises(PackageError, match="NUL"):
        load("events", source=root)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
@pytest.mark.parametrize("command", [["validate"], ["fmt", "--check"]])
def test_a_fifo_as_a_data_file_is_refused_not_waited_on(root: Path, command: list[str]) -> None:
    events = root / "data" / "events.csv"
    events.unlink()
    os.mkfifo(events)
    # The timeout only guards the test run against the hang being tested for.
    done = subprocess.run(
        [sys.executable, "-m", "relations_data", command[0], str(root), *command[1:]],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert "events.csv" in done.stderr and "Traceback" not in done.stderr


# -- 9. formula injection (OWASP CSV injection) -------------------------------------------------

INJECTIONS = ["=1+1", "+1+1", "-2+3+cmd|' /C calc'!A0", "@SUM(1,1)", "\tx", "\r=x"]


@pytest.mark.parametrize("cell", INJECTIONS)
def test_a_formula_is_flagged_and_never_exported(root: Path, tmp_path: Path, cell: str) -> None:
    set_cell(root, "events", "note", cell)
    report = validate(root, engines=("polars",))
    assert [f.rule for f in report.findings if f.column == "note"] == ["formula-trigger"]
    for fmt in EXPORT_FORMATS:
        out = tmp_path / f"out-{fmt}"
        assert_one_error_line(cli("export", "--format", fmt, out, "--source", root), "note")
        assert not out.exists()


@given(st.sampled_from("=+-@\t\r"), st.text(max_size=20))
def test_owasp_triggers_start_a_formula_unless_the_cell_is_a_plain_number(
    first: str, rest: str
) -> None:
    from relations_data.formula import starts_formula

    cell = first + rest
    plain_number = first in "+-" and rest.replace(".", "", 1).isdigit() and rest.isascii()
    assert starts_formula(cell) is not plain_number


# -- 10. exports never overwrite the package's own files ---------------------------------------


@pytest.mark.parametrize(
    ("fmt", "target"),
    [
        ("json", "datapackage.json"),
        ("sqlite", "data/events.csv"),
        ("duckdb", "schemas/events.schema.json"),
        ("parquet", "data"),
        ("csv", "."),
    ],
)
def test_an_export_never_overwrites_the_package_it_reads(root: Path, fmt: str, target: str) -> None:
    before = {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}
    assert_one_error_line(cli("export", "--format", fmt, root / target, "--source", root))
    assert {p: p.read_bytes() for p in root.rglob("*") if p.is_file()} == before


def test_sqlite_export_merges_an_existing_metadata_json(root: Path, tmp_path: Path) -> None:
    metadata = tmp_path / "site" / "metadata.json"
    metadata.parent.mkdir()
    mine = {"title": "My site", "plugins": {"x": {"y": 1}}, "databases": {"other": {"a": 1}}}
    metadata.write_text(json.dumps(mine), "utf-8")
    result = cli("export", "--format", "sqlite", metadata.parent / "rel.db", "--source", root)
    assert result.exit_code == 0, result.output
    merged = json.loads(metadata.read_text("utf-8"))
    assert merged["plugins"] == mine["plugins"]
    assert merged["databases"]["other"] == {"a": 1}
    assert "events" in merged["databases"]["rel"]["tables"]


def test_an_unreadable_metadata_json_is_left_alone(root: Path, tmp_path: Path) -> None:
    metadata = tmp_path / "metadata.json"
    metadata.write_text("not json", "utf-8")
    out = tmp_path / "rel.db"
    assert_one_error_line(
        cli("export", "--format", "sqlite", out, "--source", root), "metadata.json"
    )
    assert metadata.read_text("utf-8") == "not json"
    assert not out.exists()


# -- 11. a pattern cannot make validate hang ----------------------------------------------------


def test_a_catastrophic_pattern_does_not_hang_the_default_validate(root: Path) -> None:
    def add_pattern(data: dict) -> None:
        note = next(f for f in data["fields"] if f["name"] == "note")
        note.setdefault("constraints", {})["pattern"] = "^(a+)+$"

    edit_json(root / "schemas" / "events.schema.json", add_pattern)
    set_cell(root, "events", "note", "a" * 40 + "!")
    # The timeout only guards the test run against the hang being tested for.
    done = subprocess.run(
        [sys.executable, "-m", "relations_data", "validate", str(root)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "pattern" in done.stdout
