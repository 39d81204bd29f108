"""The report: text, JSON and GitHub renderings, and the CLI's exit codes."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from relations_data.cli import main
from relations_data.package import open_package
from relations_data.validation import REPORT_VERSION, Finding, Report, TableSummary, validate
from tests.test_validation_support import fresh_copy, set_cell

ANNOTATION = re.compile(r"^::error file=([^,]+),line=(\d+),col=(\d+),title=[^:]+::(.*)$")


@pytest.fixture(scope="module")
def valid_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return fresh_copy(tmp_path_factory.mktemp("report"), "valid", events=6)


@pytest.fixture
def invalid_root(tmp_path: Path) -> tuple[Path, str, int, str]:
    root = fresh_copy(tmp_path, "invalid", events=6)
    schema = open_package(root).resource("events").schema
    field = next(f.name for f in schema.fields if f.enum and not f.name.endswith("precision"))
    set_cell(root, "events", 3, field, "no-such-value")
    return root, field, 5, "data/events.csv"


def test_valid_text_lists_tables_rows_and_passed_checks(valid_root: Path) -> None:
    result = CliRunner().invoke(main, ["validate", str(valid_root)])
    assert result.exit_code == 0, result.output
    package = open_package(valid_root)
    for resource in package.resources:
        rows = sum(1 for _ in resource.path.open("rb")) - 1
        assert re.search(
            rf"^\s+{resource.name}\s+{rows} rows\s+{resource.relpath}\s+ok$", result.output, re.M
        ), result.output
    assert "Checks passed" in result.output
    for rule in ("type", "foreign-key", "date-order", "canonical-form"):
        assert rule in result.output
    tables = len(package.resources)
    assert result.output.rstrip().splitlines()[-1].startswith(f"Valid: {tables} tables")


def test_invalid_data_exits_1_with_findings_grouped_by_table(invalid_root) -> None:
    root, field, line, _ = invalid_root
    result = CliRunner().invoke(main, ["validate", str(root)])
    assert result.exit_code == 1, result.output
    assert "events (data/events.csv):" in result.output
    assert f"line {line}, column {field}: enum" in result.output
    assert result.output.rstrip().splitlines()[-1].startswith("Invalid:")


def test_github_annotations_point_at_file_line_and_column(
    invalid_root, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, field, line, file = invalid_root
    monkeypatch.chdir(root)
    result = CliRunner().invoke(main, ["validate", ".", "--format", "github"])
    assert result.exit_code == 1
    column = open_package(root).resource("events").schema.field_names.index(field) + 1
    annotations = [ANNOTATION.match(text) for text in result.output.splitlines()]
    assert all(annotations), result.output
    places = {(m.group(1), int(m.group(2)), int(m.group(3))) for m in annotations if m}
    assert places == {(file, line, column)}
    assert len(annotations) == 2  # one per engine


def test_github_paths_are_relative_to_the_working_directory(
    invalid_root, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, _, _, file = invalid_root
    monkeypatch.chdir(root.parent)
    result = CliRunner().invoke(
        main, ["validate", root.name, "--format", "github", "--engine", "polars"]
    )
    assert f"file={root.name}/{file}," in result.output


def test_github_escaping_follows_the_workflow_command_rules() -> None:
    finding = Finding(
        table="t",
        file="data/a,b:c.csv",
        line=3,
        column="x",
        value="100%",
        rule="r",
        message="50% done\r\nnext: line",
        engine="polars",
    )
    report = Report(
        source="s",
        engines=("polars",),
        findings=[finding],
        tables=[TableSummary("t", "data/a,b:c.csv", 3, ("w", "x"))],
    )
    line = report.to_github().strip()
    assert line.startswith("::error file=data/a%2Cb%3Ac.csv,line=3,col=2,title=r (polars)::")
    assert "50%25 done%0D%0Anext: line" in line
    assert "\n" not in line


def test_json_report_structure_is_stable(invalid_root) -> None:
    root, field, line, file = invalid_root
    result = CliRunner().invoke(main, ["validate", str(root), "--format", "json"])
    assert result.exit_code == 1
    data = json.loads(result.output)
    assert data["report_version"] == REPORT_VERSION
    assert set(data) == {
        "report_version",
        "valid",
        "source",
        "engines",
        "notes",
        "tables",
        "checks",
        "summary",
        "findings",
    }
    assert data["valid"] is False
    assert {t["name"] for t in data["tables"]} == set(open_package(root).table_names)
    assert set(data["findings"][0]) == {
        "table",
        "file",
        "line",
        "column",
        "value",
        "rule",
        "message",
        "engine",
    }
    polars = [f for f in data["findings"] if f["engine"] == "polars"]
    assert polars == [
        {
            "table": "events",
            "file": file,
            "line": line,
            "column": field,
            "value": "no-such-value",
            "rule": "enum",
            "message": polars[0]["message"],
            "engine": "polars",
        }
    ]
    assert "expected one of" in polars[0]["message"] and "no-such-value" in polars[0]["message"]
    assert data["summary"]["findings"] == len(data["findings"])
    assert any(not c["passed"] for c in data["checks"])


def test_engine_option_runs_one_engine(valid_root: Path) -> None:
    for engine in ("polars", "frictionless"):
        result = CliRunner().invoke(
            main, ["validate", str(valid_root), "--engine", engine, "--format", "json"]
        )
        assert result.exit_code == 0
        assert {c["engine"] for c in json.loads(result.output)["checks"]} == {engine}


def test_long_values_are_shortened(tmp_path: Path) -> None:
    root = fresh_copy(tmp_path, "long", events=6)
    field = next(
        f
        for f in open_package(root).resource("events").schema.fields
        if f.constraints.get("maxLength")
    )
    set_cell(root, "events", 1, field.name, "z" * (int(field.constraints["maxLength"]) + 50))
    report = validate(root, engines=("polars",))
    finding = next(f for f in report.findings if f.rule == "max-length")
    assert finding.value is not None and len(finding.value) <= 60 and finding.value.endswith("…")


def test_bundled_package_is_valid() -> None:
    # The README's first command; CI runs it too, with annotations.
    report = validate(engines=("polars",))
    assert report.valid, report.to_text()
    assert {t.name for t in report.tables} == set(open_package().table_names)
