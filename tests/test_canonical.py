"""``relations-data fmt``: one canonical form, reached in one pass, losing nothing."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from relations_data.canonical import canonical_bytes, format_package
from relations_data.cli import main
from relations_data.errors import PackageError
from relations_data.package import open_package
from tests.conftest import TABLES

# Cell text: anything a curator may type, including quotes, commas and non-ASCII.
cells = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=12)


def _write_rows(path: Path, header: list[str], rows: list[list[str]], *, crlf: bool) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n" if crlf else "\n", quoting=csv.QUOTE_ALL)
    writer.writerow(header)
    writer.writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8", newline="")


def _rows(path: Path) -> list[tuple[str, ...]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return [tuple(row) for row in csv.reader(handle)][1:]


@pytest.mark.parametrize("table", TABLES)
def test_repository_csvs_are_canonical(table: str) -> None:
    resource = open_package().resource(table)
    assert resource.path.read_bytes() == canonical_bytes(resource), (
        f"{resource.relpath} is not in canonical form: run `relations-data fmt`"
    )


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data(), crlf=st.booleans())
def test_fmt_is_idempotent_and_keeps_every_row(
    package_copy: Path, data: st.DataObject, crlf: bool
) -> None:
    resource = open_package(package_copy).resource("event_actors")
    header = list(resource.schema.field_names)
    rows = data.draw(
        st.lists(st.lists(cells, min_size=len(header), max_size=len(header)), max_size=8)
    )
    _write_rows(resource.path, header, rows, crlf=crlf)

    format_package(package_copy)
    once = resource.path.read_bytes()
    assert not format_package(package_copy, check=True).changed
    format_package(package_copy)
    assert resource.path.read_bytes() == once
    assert b"\r" not in once.replace(b'"\r', b"")  # line ends are LF outside quoted cells
    assert not once.startswith(b"\xef\xbb\xbf")

    def normalised(row: list[str] | tuple[str, ...]) -> tuple[str, ...]:
        return tuple(cell.strip(" \t\r\n") for cell in row)

    assert sorted(_rows(resource.path)) == sorted(normalised(r) for r in rows)
    keys = [row[:3] for row in _rows(resource.path)]
    assert keys == sorted(keys, key=lambda k: tuple(v.encode() for v in k))


def test_fmt_check_lists_files_and_exits_1(package_copy: Path) -> None:
    path = package_copy / "data" / "event_vessels.csv"
    header = path.read_text(encoding="utf-8").splitlines()[0]
    path.write_text(header + "\nb,v,visitor,\na,v,visitor,\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["fmt", "--check", str(package_copy)])
    assert result.exit_code == 1
    assert "event_vessels.csv" in result.output
    assert path.read_text(encoding="utf-8").endswith("b,v,visitor,\na,v,visitor,\n")
    assert CliRunner().invoke(main, ["fmt", str(package_copy)]).exit_code == 0
    assert path.read_text(encoding="utf-8").endswith("a,v,visitor,\nb,v,visitor,\n")


def test_fmt_refuses_a_malformed_table_and_writes_nothing(package_copy: Path) -> None:
    good = package_copy / "data" / "event_vessels.csv"
    header = good.read_text(encoding="utf-8").splitlines()[0]
    good.write_text(header + "\nb,v,visitor,\na,v,visitor,\n", encoding="utf-8")
    before = good.read_bytes()
    (package_copy / "data" / "vessels.csv").write_bytes(b"\xef\xbb\xbfid,name\n")
    with pytest.raises(PackageError, match=r"vessels\.csv"):
        format_package(package_copy)
    assert good.read_bytes() == before
    result = CliRunner().invoke(main, ["fmt", str(package_copy)])
    assert result.exit_code == 2
    assert "vessels.csv" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("extra", ["", ",surplus"], ids=["short", "long"])
def test_fmt_refuses_a_ragged_row_naming_file_and_line(package_copy: Path, extra: str) -> None:
    resource = open_package(package_copy).resources[-1]
    lines = resource.path.read_text(encoding="utf-8").splitlines(keepends=True)
    assert len(lines) >= 3, "the test needs a table with at least two rows"
    assert all(line.count('"') % 2 == 0 for line in lines[:3]), "line 3 must be a record"
    cells = next(csv.reader([lines[2]]))
    buffer = io.StringIO()
    # Line 3 loses its last field (short) or gains one (long).
    csv.writer(buffer, lineterminator="").writerow(cells[:-1] if not extra else cells)
    lines[2] = buffer.getvalue() + extra + "\n"
    resource.path.write_text("".join(lines), encoding="utf-8")
    before = {path: path.read_bytes() for path in (package_copy / "data").iterdir()}
    result = CliRunner().invoke(main, ["fmt", str(package_copy)])
    assert result.exit_code == 2, result.output
    assert resource.path.name in result.output
    assert "line 3" in result.output
    assert "Traceback" not in result.output
    assert {path: path.read_bytes() for path in (package_copy / "data").iterdir()} == before
