"""Building release archives: contents, reproducibility, refusal of invalid data, registry."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import zipfile
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from relations_data.archive import extract_zip
from relations_data.canonical import format_package
from relations_data.cli import main
from relations_data.errors import ReleaseError, ValidationError
from relations_data.loader import load
from relations_data.registry import parse_registry
from relations_data.release import BuiltRelease, archive_name, build_release
from tests.conftest import ROOT, TABLES

#: A few valid rows (CSV lines without header), so tests do not wait for the curation.
VALID_ROWS = {
    "sources": [
        "example-news,An example report,Example Agency,,2017-09-01,2017-09-01,day,"
        "https://example.org/report,news,independent_media,independent,en,"
    ],
    "actors": [
        "cambodia,Kingdom of Cambodia,state,KHM,,Q424,,,",
        "russia,Russian Federation,state,RUS,,Q159,,,",
    ],
    "citations": [
        "actors,cambodia,example-news,¶1,supports,,",
        "actors,russia,example-news,¶2,supports,,",
    ],
}


def use_valid_rows(package: Path) -> Path:
    """Replace the rows of a package copy by ``VALID_ROWS``, in canonical form.

    The curated rows are dropped so that these tests depend neither on the curation's
    progress nor on its content.
    """
    for path in sorted((package / "data").glob("*.csv")):
        header = path.read_text(encoding="utf-8").splitlines()[0]
        lines = VALID_ROWS.get(path.stem, [])
        path.write_text("".join(f"{line}\n" for line in [header, *lines]), encoding="utf-8")
    format_package(package)
    return package


def _add_documents(package: Path) -> Path:
    version = json.loads((package / "datapackage.json").read_text("utf-8"))["version"]
    (package / "README.md").write_text("# Toy release\n", encoding="utf-8")
    (package / "CHANGELOG.md").write_text(f"# Changelog\n\n## {version}\n", "utf-8")
    (package / "LICENSE").write_text("MIT\n", encoding="utf-8")
    (package / "LICENSE-DATA").write_text("CC-BY-4.0\n", encoding="utf-8")
    return package


@pytest.fixture
def release_package(package_copy: Path) -> Path:
    """A writable package with a few valid rows and the documents a release carries."""
    return _add_documents(use_valid_rows(package_copy))


@pytest.fixture(scope="module")
def shared_package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One package with valid rows, built once per module for read-only tests."""
    target = tmp_path_factory.mktemp("shared") / "package"
    target.mkdir()
    shutil.copy2(ROOT / "datapackage.json", target / "datapackage.json")
    shutil.copytree(ROOT / "data", target / "data")
    shutil.copytree(ROOT / "schemas", target / "schemas")
    return _add_documents(use_valid_rows(target))


@pytest.fixture(scope="module")
def shared_build(shared_package: Path, tmp_path_factory: pytest.TempPathFactory) -> BuiltRelease:
    return build_release(shared_package, tmp_path_factory.mktemp("dist"), record=False)


@pytest.fixture(scope="module")
def shared_unpacked(shared_build: BuiltRelease, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("release")
    extract_zip(shared_build.archive, folder)
    return folder


@pytest.fixture
def unpacked(shared_unpacked: Path, tmp_path: Path) -> Path:
    """A writable copy of the unpacked shared release."""
    return Path(shutil.copytree(shared_unpacked, tmp_path / shared_unpacked.name))


def _version(package: Path) -> str:
    version: str = json.loads((package / "datapackage.json").read_text("utf-8"))["version"]
    return version


def test_two_builds_are_byte_identical(
    shared_build: BuiltRelease, shared_package: Path, tmp_path: Path
) -> None:
    # Later modification times and another output folder must not change a byte.
    for path in shared_package.rglob("*"):
        os.utime(path, (2_000_000_000, 2_000_000_000))
    second = build_release(shared_package, tmp_path / "two", record=False)
    assert shared_build.archive.read_bytes() == second.archive.read_bytes()
    assert shared_build.sha256 == second.sha256


def test_parquet_writes_are_deterministic(shared_package: Path) -> None:
    from relations_data.package import open_package
    from relations_data.release import parquet_bytes

    package = open_package(shared_package)
    resource = package.resource("actors")
    assert parquet_bytes(resource, package) == parquet_bytes(resource, package)


def test_archive_layout_and_entry_metadata(
    shared_build: BuiltRelease, shared_package: Path
) -> None:
    built = shared_build
    assert built.archive.name == archive_name(_version(shared_package))
    with zipfile.ZipFile(built.archive) as bundle:
        infos = bundle.infolist()
    names = [info.filename for info in infos]
    assert names == sorted(names)
    # A zipped Data Package: the descriptor at the root, where other tools look for it.
    inside = set(names)
    expected = {"datapackage.json", "README.md", "CHANGELOG.md", "LICENSE", "LICENSE-DATA"}
    expected |= {f"data/{t}.csv" for t in TABLES}
    expected |= {f"schemas/{t}.schema.json" for t in TABLES}
    expected |= {f"parquet/{t}.parquet" for t in TABLES}
    assert inside == expected
    for info in infos:
        assert info.date_time == (1980, 1, 1, 0, 0, 0)
        assert info.external_attr >> 16 == 0o100644
        assert info.compress_type == zipfile.ZIP_DEFLATED
        assert info.extra == b""
    assert built.warnings == ()


def test_checksum_file_matches_the_archive(shared_build: BuiltRelease) -> None:
    built = shared_build
    digest = hashlib.sha256(built.archive.read_bytes()).hexdigest()
    assert built.sha256 == digest
    assert built.checksum_file.read_text() == f"{digest}  {built.archive.name}\n"


def test_frictionless_checks_the_recorded_bytes_and_hashes(unpacked: Path) -> None:
    import frictionless

    descriptor = json.loads((unpacked / "datapackage.json").read_text("utf-8"))
    for resource in descriptor["resources"]:
        data = (unpacked / resource["path"]).read_bytes()
        assert resource["bytes"] == len(data)
        assert resource["hash"] == f"sha256:{hashlib.sha256(data).hexdigest()}"
    assert frictionless.validate(str(unpacked / "datapackage.json")).valid
    # The hashes are checked: an edit the schema allows is caught by them alone.
    actors = unpacked / "data" / "actors.csv"
    actors.write_text(actors.read_text("utf-8").replace("Kingdom of", "Realm of"), "utf-8")
    report = frictionless.validate(str(unpacked / "datapackage.json"))
    assert not report.valid
    types = {error["type"] for task in report.to_dict()["tasks"] for error in task["errors"]}
    assert types & {"hash-count", "byte-count"}


@pytest.mark.parametrize("table", TABLES)
def test_parquet_copy_is_typed_like_the_loader(
    table: str, shared_unpacked: Path, shared_package: Path
) -> None:
    from_parquet = pl.read_parquet(shared_unpacked / "parquet" / f"{table}.parquet")
    from_csv = load(table, source=shared_package)  # type: ignore[arg-type]
    assert from_parquet.schema == from_csv.schema
    assert from_parquet.equals(from_csv)


def test_invalid_data_is_refused_and_nothing_is_written(
    release_package: Path, tmp_path: Path
) -> None:
    actors = release_package / "data" / "actors.csv"
    actors.write_text(actors.read_text("utf-8").replace(",state,RUS,", ",empire,RUS,"), "utf-8")
    out = tmp_path / "dist"
    registry = tmp_path / "releases.txt"
    with pytest.raises(ValidationError, match=r"found \d+ problem") as raised:
        build_release(release_package, out, registry=registry)
    assert "relations-data validate" in str(raised.value)
    assert not out.exists()
    assert not registry.exists()
    result = CliRunner().invoke(main, ["release", "build", str(release_package), "--out", str(out)])
    assert result.exit_code == 1
    assert "problem" in result.output


def test_build_records_the_version_in_the_registry(release_package: Path, tmp_path: Path) -> None:
    registry = tmp_path / "releases.txt"
    built = build_release(release_package, tmp_path / "dist", registry=registry)
    assert parse_registry(registry.read_text("utf-8")) == {built.version: built.sha256}
    assert built.registry == registry
    # Rebuilding the same bytes is fine; other bytes under a recorded version are not.
    build_release(release_package, tmp_path / "dist", registry=registry)
    readme = release_package / "README.md"
    readme.write_text("# Changed\n", encoding="utf-8")
    with pytest.raises(ReleaseError, match="already recorded"):
        build_release(release_package, tmp_path / "dist", registry=registry)
    assert parse_registry(registry.read_text("utf-8")) == {built.version: built.sha256}
    replaced = build_release(release_package, tmp_path / "dist", registry=registry, replace=True)
    assert parse_registry(registry.read_text("utf-8")) == {built.version: replaced.sha256}


def test_a_package_copy_records_nowhere_by_default(
    release_package: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RELATIONS_DATA_REGISTRY", raising=False)
    assert build_release(release_package, tmp_path, record=True).registry is None


def test_documents_come_from_the_package_root(release_package: Path, tmp_path: Path) -> None:
    (release_package / "LICENSE").unlink()
    changelog = release_package / "CHANGELOG.md"
    changelog.write_text("# Changelog\n", encoding="utf-8")
    (release_package / "docs").mkdir()
    (release_package / "docs" / "codebook.md").write_text("# Codebook\n", encoding="utf-8")
    built = build_release(release_package, tmp_path, record=False)
    assert "docs/codebook.md" in built.entries
    assert "LICENSE" not in built.entries
    assert any("LICENSE is missing" in w for w in built.warnings)
    assert any("CHANGELOG.md has no heading" in w for w in built.warnings)


def test_cli_build_writes_archive_checksum_and_registry(
    release_package: Path, tmp_path: Path
) -> None:
    registry = tmp_path / "releases.txt"
    out = tmp_path / "dist"
    arguments = ["release", "build", str(release_package), "--out", str(out)]
    result = CliRunner().invoke(main, [*arguments, "--registry", str(registry)])
    assert result.exit_code == 0, result.output
    (archive,) = out.glob("*.zip")
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    assert digest in result.output
    assert registry.read_text("utf-8").endswith(f"{_version(release_package)} sha256:{digest}\n")
    if shutil.which("sha256sum"):
        import subprocess

        subprocess.run(["sha256sum", "-c", f"{archive.name}.sha256"], cwd=out, check=True)


def test_frictionless_validates_the_archive_as_a_zipped_data_package(
    shared_build: BuiltRelease,
) -> None:
    """``frictionless validate X.zip`` finds the root descriptor and checks every table."""
    import json
    import subprocess
    import sys

    # `python -m frictionless` is its command, whether or not the venv is activated.
    result = subprocess.run(
        [sys.executable, "-m", "frictionless", "validate", "--json", shared_build.archive.name],
        cwd=shared_build.archive.parent,
        capture_output=True,
        text=True,
        check=False,
    )
    report = json.loads(result.stdout)
    assert report["valid"], result.stdout[:2000]
    assert [task["name"] for task in report["tasks"]] == TABLES
