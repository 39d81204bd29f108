"""``diff``: rows added, removed and changed, matched by primary key, on real packages."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from relations_data.cli import main
from relations_data.diff import diff_packages
from relations_data.errors import PackageError, UnknownVersionError
from relations_data.versioning import Bump, check_release
from tests.test_release import use_valid_rows


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


@pytest.fixture
def pair(package_copy: Path, tmp_path: Path) -> tuple[Path, Path]:
    """An old package and a new one with one changed cell, one added and one removed row."""
    old = use_valid_rows(package_copy)
    new = Path(shutil.copytree(old, tmp_path / "new"))
    _edit(new / "data" / "sources.csv", "An example report", "An example report (revised)")
    _edit(new / "data" / "actors.csv", "cambodia,Kingdom of Cambodia,state,KHM,,Q424,,,\n", "")
    with (new / "data" / "actors.csv").open("a", encoding="utf-8") as stream:
        stream.write("vietnam,Socialist Republic of Vietnam,state,VNM,,Q881,,,\n")
    return old, new


def test_diff_finds_a_changed_cell_an_added_and_a_removed_row(pair: tuple[Path, Path]) -> None:
    diff = diff_packages(*pair)
    assert diff.schema_changes == ()
    by_table = {t.table: t for t in diff.tables}
    assert set(by_table) == {"sources", "actors"}
    sources, actors = by_table["sources"], by_table["actors"]
    assert (sources.added, sources.removed) == ((), ())
    (row,) = sources.changed
    assert row.key == ("example-news",)
    (cell,) = row.cells
    assert (cell.field, cell.old, cell.new) == (
        "title",
        "An example report",
        "An example report (revised)",
    )
    assert actors.added == (("vietnam",),)
    assert actors.removed == (("cambodia",),)
    assert actors.changed == ()
    # Removing an identified row is a major change (see relations_data.versioning).
    assert diff.bump is Bump.MAJOR


def test_text_and_markdown_show_each_change(pair: tuple[Path, Path]) -> None:
    diff = diff_packages(*pair)
    text = diff.to_text()
    assert "+ vietnam" in text
    assert "- cambodia" in text
    assert "title: 'An example report' → 'An example report (revised)'" in text
    markdown = diff.to_markdown()
    assert "| `actors` | 1 | 1 | 0 |" in markdown
    assert "- Added: `vietnam`" in markdown
    assert "- Removed: `cambodia`" in markdown
    assert "`title` `An example report` → `An example report (revised)`" in markdown


def test_diff_cli_prints_markdown(pair: tuple[Path, Path]) -> None:
    old, new = pair
    result = CliRunner().invoke(main, ["diff", str(old), str(new), "--format", "markdown"])
    assert result.exit_code == 0, result.output
    assert "#### `sources`" in result.output
    same = CliRunner().invoke(main, ["diff", str(old), str(old)])
    assert same.exit_code == 0
    assert "no changes" in same.output


def test_identical_packages_have_no_changes(package_copy: Path) -> None:
    diff = diff_packages(package_copy, package_copy / "datapackage.json")
    assert diff.is_empty
    assert diff.bump is Bump.NONE


def test_unknown_reference_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(PackageError, match="expected a released version"):
        diff_packages(tmp_path / "nowhere", tmp_path / "nowhere")
    result = CliRunner().invoke(main, ["diff", "nope", "nope"])
    assert result.exit_code == 2
    assert result.output.startswith("Error: nope: expected")


def _git(folder: Path, *arguments: str) -> None:
    identity = ["-c", "user.name=Test", "-c", "user.email=test@example.org"]
    subprocess.run(["git", *identity, *arguments], cwd=folder, check=True, capture_output=True)


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_git_reference_reads_the_committed_package(pair: tuple[Path, Path], tmp_path: Path) -> None:
    old, new = pair
    repository = tmp_path / "repo"
    package = repository / "pkg"  # a package in a subfolder of the repository
    shutil.copytree(old, package)
    _git(repository, "init", "-q")
    _git(repository, "add", ".")
    _git(repository, "commit", "-q", "-m", "old")
    shutil.rmtree(package / "data")
    shutil.copytree(new / "data", package / "data")
    diff = diff_packages("git:HEAD", package, where=package)
    assert {t.table for t in diff.tables} == {"sources", "actors"}
    check = check_release(package, against="git:HEAD")
    assert not check.ok
    assert "actors: 1 row(s) removed" in check.reason
    with pytest.raises(PackageError, match="git:no-such-branch"):
        diff_packages("git:no-such-branch", package, where=package)
    with pytest.raises(PackageError, match="expected a branch"):
        diff_packages("git:--output=/tmp/x", package, where=package)


def test_an_unregistered_version_is_refused(
    package_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    registry = tmp_path / "releases.txt"
    registry.write_text("", encoding="utf-8")
    monkeypatch.setenv("RELATIONS_DATA_REGISTRY", str(registry))
    with pytest.raises(UnknownVersionError, match=r"9\.9\.9"):
        diff_packages("9.9.9", package_copy)
    result = CliRunner().invoke(main, ["release", "check", str(package_copy), "--against", "9.9.9"])
    assert result.exit_code == 2
