"""Unusable input: never a traceback, always exit 2 with a message naming the file."""

from __future__ import annotations

import functools
import json
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from relations_data import archive, package
from relations_data.cli import main
from relations_data.csv_reader import MAX_CELL_BYTES
from relations_data.errors import ArchiveError, PackageError, UnsafePathError
from relations_data.validation import validate
from tests.test_validation_support import fresh_copy


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return fresh_copy(tmp_path, "package", events=6)


def _events(root: Path) -> Path:
    return root / "data" / "events.csv"


def _descriptor(root: Path) -> dict[str, object]:
    data: dict[str, object] = json.loads((root / "datapackage.json").read_text("utf-8"))
    return data


def _write_descriptor(root: Path, data: dict[str, object]) -> None:
    (root / "datapackage.json").write_text(json.dumps(data), "utf-8")


def _set_path(root: Path, path: str) -> None:
    data = _descriptor(root)
    resources = data["resources"]
    assert isinstance(resources, list)
    resources[0]["path"] = path
    _write_descriptor(root, data)


def _replace_by_folder(path: Path) -> None:
    path.unlink()
    path.mkdir()


def _lines(path: Path) -> list[str]:
    return path.read_text("utf-8").split("\n")


def _rewrite_line(path: Path, index: int, change: Callable[[str], str]) -> None:
    lines = _lines(path)
    lines[index] = change(lines[index])
    path.write_text("\n".join(lines), "utf-8")


BREAKERS: dict[str, tuple[Callable[[Path], None], str]] = {
    "invalid JSON descriptor": (
        lambda r: (r / "datapackage.json").write_text("{ not json", "utf-8"),
        "datapackage.json",
    ),
    "descriptor not UTF-8": (
        lambda r: (r / "datapackage.json").write_bytes(b'{"name": "\xff"}'),
        "datapackage.json",
    ),
    "descriptor is a folder": (lambda r: _replace_by_folder(r / "datapackage.json"), "package"),
    "missing resource file": (lambda r: _events(r).unlink(), "events.csv"),
    "empty file": (lambda r: _events(r).write_bytes(b""), "events.csv"),
    "invalid UTF-8": (
        lambda r: _events(r).write_bytes(_events(r).read_bytes() + b"\xff\xfe,x\n"),
        "events.csv",
    ),
    "NUL byte": (
        lambda r: _rewrite_line(_events(r), 3, lambda s: s.replace(",", ",a\0", 1)),
        "events.csv: line 4 holds a NUL",
    ),
    "cell over the size limit": (
        lambda r: _rewrite_line(_events(r), 3, lambda s: s + "x" * (MAX_CELL_BYTES + 1)),
        "events.csv: line 4",
    ),
    "absolute resource path": (lambda r: _set_path(r, "/etc/passwd"), "absolute"),
    "resource path with ..": (lambda r: _set_path(r, "../outside.csv"), "'..'"),
    # http(s) URLs are handed to frictionless (tests/test_validation_remote.py).
    "resource path is a file URL": (lambda r: _set_path(r, "file:///etc/passwd"), "URL"),
    "resource path is an ftp URL": (lambda r: _set_path(r, "ftp://example.org/x.csv"), "URL"),
}


@pytest.mark.parametrize("kind", sorted(BREAKERS))
def test_bad_input_exits_2_naming_the_file(root: Path, kind: str) -> None:
    breaker, named = BREAKERS[kind]
    breaker(root)
    result = CliRunner().invoke(main, ["validate", str(root)])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.output.startswith("Error: ")
    assert named in result.output, result.output


@pytest.mark.parametrize("kind", sorted(BREAKERS))
def test_bad_input_raises_package_error_from_the_library(root: Path, kind: str) -> None:
    BREAKERS[kind][0](root)
    with pytest.raises(PackageError):
        validate(root)


def test_what_frictionless_reads_is_reported_not_refused(root: Path) -> None:
    """A byte-order mark is read as frictionless reads it; a renamed label is a finding
    of both engines (tests/fixtures/ covers each case on its own)."""
    path = _events(root)
    _rewrite_line(path, 0, lambda s: "renamed" + s[s.index(",") :])
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    report = validate(root)
    located = {(f.engine, f.line, f.column, f.rule) for f in report.findings}
    assert ("polars", 1, "renamed", "incorrect-label") in located
    assert ("frictionless", 1, "renamed", "incorrect-label") in located


#: Rows and headers of another width than the schema: findings, as in frictionless.
RESHAPERS: dict[str, tuple[Callable[[Path], None], set[tuple[int, str, str]]]] = {
    "too many fields": (
        lambda r: _rewrite_line(_events(r), 3, lambda s: s + ",extra"),
        {(4, "", "extra-cell")},
    ),
    "too few fields": (
        lambda r: _rewrite_line(_events(r), 3, lambda s: s.rsplit(",", 2)[0]),
        # A missing cell is also an empty one: ``status`` is required.
        {(4, "status", "missing-cell"), (4, "note", "missing-cell"), (4, "status", "required")},
    ),
    "missing header column": (
        lambda r: _rewrite_line(_events(r), 0, lambda s: s.rsplit(",", 1)[0]),
        {(1, "note", "missing-label"), *((line, "", "extra-cell") for line in range(2, 8))},
    ),
    "extra header column": (
        lambda r: _rewrite_line(_events(r), 0, lambda s: s + ",extra"),
        {(1, "extra", "extra-label"), *((line, "extra", "missing-cell") for line in range(2, 8))},
    ),
}


@pytest.mark.parametrize("kind", sorted(RESHAPERS))
def test_rows_and_headers_of_another_width_are_findings_of_both_engines(
    root: Path, kind: str
) -> None:
    reshape, shape_findings = RESHAPERS[kind]
    reshape(root)
    polars = validate(root, engines=("polars",))
    frictionless = validate(root, engines=("frictionless",))
    located = {(f.line, f.column, f.rule) for f in frictionless.findings if f.table == "events"}
    assert located == shape_findings
    assert shape_findings <= {(f.line, f.column, f.rule) for f in polars.findings}
    result = CliRunner().invoke(main, ["validate", str(root), "--engine", "polars"])
    assert result.exit_code == 1, result.output


@pytest.mark.parametrize(
    ("table", "ruled"), [("observations", "date_end"), ("agreements", "date_signed_end")]
)
def test_a_header_without_labels_for_ruled_fields_skips_the_project_rules(
    root: Path, table: str, ruled: str
) -> None:
    """Fields without a label are not read; the project rules that name them (and those
    across tables) do not run, and the report says so."""
    path = root / "data" / f"{table}.csv"
    _rewrite_line(path, 0, lambda s: s.split(",", 1)[0])
    polars = validate(root, engines=("polars",))
    frictionless = validate(root, engines=("frictionless",))
    located = {(f.table, f.line, f.column, f.rule) for f in frictionless.findings}
    assert located <= {(f.table, f.line, f.column, f.rule) for f in polars.findings}
    assert (table, 1, ruled, "missing-label") in located
    assert any(f"nor across tables: {table} (" in note for note in polars.notes)


def test_other_commands_still_refuse_a_ragged_file(root: Path) -> None:
    RESHAPERS["too few fields"][0](root)
    result = CliRunner().invoke(main, ["show", "events", "--source", str(root)])
    assert "events.csv: line 4" in result.output
    assert result.exit_code == 2, result.output


def test_a_short_row_after_a_cell_spanning_lines_is_found_on_its_line(root: Path) -> None:
    path = _events(root)
    lines = _lines(path)
    lines[2] = lines[2].rsplit(",", 1)[0] + ',"a note, with a comma\nand a line break"'
    lines[3] = lines[3].rsplit(",", 2)[0]
    path.write_text("\n".join(lines), "utf-8")
    for engine in ("polars", "frictionless"):
        report = validate(root, engines=(engine,))
        missing = {(f.line, f.column) for f in report.findings if f.rule == "missing-cell"}
        assert missing == {(5, "status"), (5, "note")}, report.to_text()


def test_link_leading_outside_the_package_is_refused(root: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.csv"
    outside.write_bytes(_events(root).read_bytes())
    _events(root).unlink()
    _events(root).symlink_to(outside)
    result = CliRunner().invoke(main, ["validate", str(root)])
    assert result.exit_code == 2
    assert "outside the package" in result.output


def test_unsafe_paths_are_refused_before_frictionless_reads_anything(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import frictionless

    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("frictionless was called")

    monkeypatch.setattr(frictionless, "Package", forbidden)
    _set_path(root, "file:///etc/passwd")
    with pytest.raises(UnsafePathError):
        validate(root, engines=("frictionless",))


def test_frictionless_gets_a_descriptor_without_urls_or_outside_paths(root: Path) -> None:
    from relations_data.validation.frictionless_engine import safe_descriptor

    data = _descriptor(root)
    resources = data["resources"]
    assert isinstance(resources, list)
    resources[0]["dialect"] = "../../etc/dialect.json"
    resources[0]["profile"] = "https://example.org/profile.json"
    _write_descriptor(root, data)
    described = safe_descriptor(package.open_package(root))
    text = json.dumps(described)
    assert "example.org" not in text and "../" not in text
    assert all(isinstance(r["schema"], dict) for r in described["resources"])


def _zip(root: Path, target: Path, rename: Callable[[str], str] = lambda n: n) -> Path:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as bundle:
        for path in sorted(root.rglob("*")):
            if path.is_file():
                bundle.write(path, rename(path.relative_to(root).as_posix()))
    return target


def test_a_release_zip_validates(root: Path, tmp_path: Path) -> None:
    archive_path = _zip(root, tmp_path / "release.zip")
    result = CliRunner().invoke(main, ["validate", str(archive_path), "--engine", "polars"])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("/abs/evil.csv", "absolute"),
        ("../evil.csv", "leaves the archive"),
        ("a/../../evil.csv", "leaves"),
    ],
)
def test_zip_entries_with_unsafe_names_are_refused(
    root: Path, tmp_path: Path, name: str, message: str
) -> None:
    archive_path = _zip(root, tmp_path / "evil.zip")
    with zipfile.ZipFile(archive_path, "a") as bundle:
        bundle.writestr(zipfile.ZipInfo(name), b"x")
    result = CliRunner().invoke(main, ["validate", str(archive_path)])
    assert result.exit_code == 2
    assert "evil.zip" in result.output and message in result.output
    assert not (tmp_path.parent / "evil.csv").exists()


def test_zip_bomb_is_refused_by_its_uncompressed_size(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive_path = _zip(root, tmp_path / "bomb.zip")
    with zipfile.ZipFile(archive_path, "a", zipfile.ZIP_DEFLATED) as bundle:
        bundle.writestr("padding.bin", b"\0" * 8_000_000)  # compresses to a few KiB
    assert archive_path.stat().st_size < 200_000
    small = functools.partial(archive.extract_zip, max_bytes=2_000_000)
    monkeypatch.setattr(package, "extract_zip", small)
    result = CliRunner().invoke(main, ["validate", str(archive_path)])
    assert result.exit_code == 2
    assert "bomb.zip" in result.output and "exceeds the limit" in result.output
    with pytest.raises(ArchiveError):
        archive.extract_zip(archive_path, tmp_path / "out", max_bytes=2_000_000)


def test_not_a_zip_is_refused(tmp_path: Path) -> None:
    fake = tmp_path / "fake.zip"
    fake.write_bytes(b"PK\x03\x04 this is not a zip")
    result = CliRunner().invoke(main, ["validate", str(fake)])
    assert result.exit_code == 2 and "fake.zip" in result.output


def test_usage_errors_exit_2(root: Path) -> None:
    result = CliRunner().invoke(main, ["validate", str(root), "--engine", "nope"])
    assert result.exit_code == 2
    result = CliRunner().invoke(main, ["validate", str(root), "--format", "xml"])
    assert result.exit_code == 2


def test_unknown_engine_is_a_package_error(root: Path) -> None:
    with pytest.raises(PackageError, match="expected engines"):
        validate(root, engines=("pandas",))


def test_first_unusable_file_in_package_order_is_named(root: Path) -> None:
    # Larger files are read first; the error must still be that of a sequential read.
    resources = package.open_package(root).resources
    first, last = resources[0], resources[-1]
    assert first.path.stat().st_size < last.path.stat().st_size
    _rewrite_line(first.path, 1, lambda line: line + ",\0")
    _rewrite_line(last.path, 1, lambda line: line + ",\0")
    with pytest.raises(PackageError, match=first.path.name) as caught:
        validate(root)
    assert last.path.name not in str(caught.value)


def test_messages_name_the_entry_of_a_zip(root: Path, tmp_path: Path) -> None:
    import zipfile

    _rewrite_line(_events(root), 3, lambda s: s + "\0")
    archive = tmp_path / "release.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for path in sorted(root.rglob("*")):
            if path.is_file():
                zipped.write(path, path.relative_to(root).as_posix())
    with pytest.raises(PackageError) as caught:
        validate(archive)
    assert str(caught.value).startswith(f"{archive}:data/events.csv: line 4")


def _one_table(folder: Path, raw: bytes, **resource: object) -> Path:
    """A package of one table ``t`` (fields id: integer, name) read from ``raw``."""
    fields = [{"name": "id", "type": "integer"}, {"name": "name"}]
    entry = {"name": "t", "path": "t.csv", "schema": {"fields": fields}, **resource}
    (folder / "t.csv").write_bytes(raw)
    (folder / "datapackage.json").write_text(json.dumps({"resources": [entry]}), "utf-8")
    return folder


@pytest.mark.parametrize("csv_limit", [None, 2**31 - 2])  # frictionless raises the limit
@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
def test_the_dialect_reader_refuses_a_cell_over_the_limit_naming_the_line(
    tmp_path: Path, encoding: str, csv_limit: int | None
) -> None:
    import csv

    text = f"id;name\n1;a\n2;{'é' * (MAX_CELL_BYTES // 2 + 1)}\n"
    root = _one_table(
        tmp_path, text.encode(encoding), dialect={"delimiter": ";"}, encoding=encoding
    )
    before = csv.field_size_limit()
    try:
        if csv_limit is not None:
            csv.field_size_limit(csv_limit)
        with pytest.raises(PackageError, match=r"t\.csv: line 3, cell 2 holds \d+ bytes"):
            validate(root, engines=("polars",))
    finally:
        csv.field_size_limit(before)


@pytest.mark.parametrize("encoding", ["utf-8", "latin-1", "utf-16"])
def test_the_dialect_reader_refuses_a_nul_naming_the_line(tmp_path: Path, encoding: str) -> None:
    raw = "id;name\n1;a\n2;b\0c\n".encode(encoding)
    root = _one_table(tmp_path, raw, dialect={"delimiter": ";"}, encoding=encoding)
    with pytest.raises(PackageError, match=r"t\.csv: line 3 holds a NUL"):
        validate(root, engines=("polars",))


def test_a_utf16_file_is_read_not_refused_for_its_zero_bytes(tmp_path: Path) -> None:
    root = _one_table(tmp_path, "id,name\n1,a\n2\nx,b\n".encode("utf-16"), encoding="utf-16")
    for engine in ("polars", "frictionless"):
        report = validate(root, engines=(engine,))
        located = {(f.line, f.column, f.rule) for f in report.findings}
        assert located == {(3, "name", "missing-cell"), (4, "id", "type")}, report.to_text()
