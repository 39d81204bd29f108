"""``relations-data tables`` and ``show``: thin commands over the loader."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from click.testing import CliRunner

from relations_data.cli import main
from tests.conftest import TABLES
from tests.test_loader import write_sample_rows


def test_tables_lists_every_table_with_rows_and_description(package_copy: Path) -> None:
    write_sample_rows(package_copy, rows=2)
    result = CliRunner().invoke(main, ["tables", "--source", str(package_copy), "--format", "csv"])
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.output)))
    assert rows[0] == ["name", "rows", "description"]
    assert [row[0] for row in rows[1:]] == TABLES
    assert all(row[1] == "3" and row[2] for row in rows[1:])


def test_show_prints_the_first_rows_with_dtypes(package_copy: Path) -> None:
    write_sample_rows(package_copy, rows=5)
    result = CliRunner().invoke(
        main, ["show", "events", "--limit", "2", "--source", str(package_copy)]
    )
    assert result.exit_code == 0, result.output
    assert "date" in result.output and "enum" in result.output
    assert result.output.rstrip().endswith("2 of 6 rows of events.")


def test_show_an_unknown_table_is_a_clean_error() -> None:
    result = CliRunner().invoke(main, ["show", "evnts"])
    assert result.exit_code == 2
    assert "Error: Unknown table 'evnts'" in result.output
    assert "Did you mean 'events'?" in result.output
    assert "Traceback" not in result.output


def test_version_and_source_together_are_a_usage_error(package_copy: Path) -> None:
    result = CliRunner().invoke(
        main, ["tables", "--version", "1.0.0", "--source", str(package_copy)]
    )
    assert result.exit_code == 2
    assert "either --version or --source" in result.output


def test_download_refuses_a_malformed_sha256() -> None:
    result = CliRunner().invoke(main, ["download", "1.0.0", "--sha256", "xyz"])
    assert result.exit_code == 2
    assert "64 hex digits" in result.output
