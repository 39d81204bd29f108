"""Citation metadata, pre-commit hooks and ``python -m relations_data``."""

from __future__ import annotations

import csv
import io
import re
import shlex
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from relations_data.cli import main
from tests.conftest import ROOT, descriptor

#: Keys CFF 1.2.0 requires, and the ones this dataset's citation must carry.
CFF_REQUIRED = ("cff-version", "message", "title", "authors")
CFF_EXPECTED = ("version", "license", "repository-code", "keywords", "type", "abstract")


def _yaml(name: str) -> Any:
    return yaml.safe_load((ROOT / name).read_text(encoding="utf-8"))


def test_citation_cff_is_complete_and_matches_the_descriptor() -> None:
    citation = _yaml("CITATION.cff")
    assert isinstance(citation, dict)
    for key in (*CFF_REQUIRED, *CFF_EXPECTED):
        assert citation.get(key), f"CITATION.cff lacks {key!r}"
    assert citation["cff-version"] == "1.2.0"
    assert citation["type"] == "dataset"
    assert str(citation["version"]) == descriptor()["version"]
    assert citation["license"] == descriptor()["licenses"][0]["name"]
    assert citation["title"] == descriptor()["title"]
    assert citation["repository-code"].startswith("https://")
    for author in citation["authors"]:
        assert author.get("name") or author.get("family-names")
    if "date-released" in citation:
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(citation["date-released"]))


def test_pre_commit_hooks_run_existing_commands() -> None:
    hooks = {hook["id"]: hook for hook in _yaml(".pre-commit-hooks.yaml")}
    assert set(hooks) == {"relations-data-validate", "relations-data-fmt"}
    for hook in hooks.values():
        assert hook["language"] == "python"
        assert hook["pass_filenames"] is False
        files = re.compile(hook["files"])
        for path in ("data/events.csv", "schemas/events.schema.json", "datapackage.json"):
            assert files.search(path), (hook["id"], path)
        assert not files.search("src/relations_data/loader.py")
        program, *args = hook["entry"].split()
        assert program == "relations-data"
        assert args[0] in main.commands
    assert hooks["relations-data-validate"]["entry"] == "relations-data validate ."
    assert hooks["relations-data-fmt"]["entry"] == "relations-data fmt --check ."


def _run_hook(hook_id: str, tree: Path) -> subprocess.CompletedProcess[str]:
    """Run a hook's entry as pre-commit does: from the root of the working tree."""
    hooks = {hook["id"]: hook for hook in _yaml(".pre-commit-hooks.yaml")}
    program, *args = shlex.split(hooks[hook_id]["entry"])
    assert program == "relations-data"
    return subprocess.run(
        [sys.executable, "-m", "relations_data", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
        cwd=tree,
    )


def _break_value(tree: Path) -> None:
    """An event type outside the vocabulary: invalid, though still in canonical form."""
    path = tree / "data" / "events.csv"
    header, first, *rest = path.read_text(encoding="utf-8").split("\n")
    column = header.split(",").index("event_type")
    cells = next(csv.reader([first]))
    cells[column] = "no-such-type"
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(cells)
    path.write_text("\n".join([header, out.getvalue(), *rest]), encoding="utf-8")


def _break_form(tree: Path) -> None:
    """Rows out of key order: valid values, but not in canonical form."""
    path = tree / "data" / "events.csv"
    header, *rows = path.read_text(encoding="utf-8").rstrip("\n").split("\n")
    path.write_text("\n".join([header, *reversed(rows)]) + "\n", encoding="utf-8")


@pytest.mark.parametrize(
    ("hook_id", "damage"),
    [("relations-data-validate", _break_value), ("relations-data-fmt", _break_form)],
)
def test_pre_commit_hooks_check_the_working_tree(
    hook_id: str, damage: Callable[[Path], None], package_copy: Path
) -> None:
    """A hook passes on the contributor's valid files and fails once they are broken,
    whatever copy of the data is installed with the hook."""
    passed = _run_hook(hook_id, package_copy)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    damage(package_copy)
    failed = _run_hook(hook_id, package_copy)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "events.csv" in failed.stdout


@pytest.mark.parametrize("args", [["--help"], ["codebook", "--help"]])
def test_python_dash_m_runs_the_cli(args: list[str]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "relations_data", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "Usage: relations-data" in result.stdout


def test_python_dash_m_reports_errors_with_exit_status_2() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "relations_data", "timeline", "x.gif"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        cwd=ROOT,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("Error: ")
    assert "Traceback" not in result.stderr
