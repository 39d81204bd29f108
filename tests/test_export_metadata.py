"""Citation metadata, pre-commit hooks and ``python -m relations_data``."""

from __future__ import annotations

import re
import subprocess
import sys
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
    assert hooks["relations-data-validate"]["entry"] == "relations-data validate"
    assert hooks["relations-data-fmt"]["entry"] == "relations-data fmt --check"


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
