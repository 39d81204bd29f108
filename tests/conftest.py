"""Shared fixtures: the repository's data package and its tables."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

ROOT = Path(__file__).resolve().parents[1]
DESCRIPTOR = ROOT / "datapackage.json"


def descriptor() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(DESCRIPTOR.read_text(encoding="utf-8"))
    return data


#: Table names read from the descriptor, for parametrizing tests over every table.
TABLES: list[str] = [r["name"] for r in descriptor()["resources"]]


@pytest.fixture
def package_copy(tmp_path: Path) -> Path:
    """A writable copy of the repository's data package; returns its folder."""
    target = tmp_path / "package"
    target.mkdir()
    shutil.copy2(DESCRIPTOR, target / "datapackage.json")
    shutil.copytree(ROOT / "data", target / "data")
    shutil.copytree(ROOT / "schemas", target / "schemas")
    return target


# CI runs the same examples on every run, so a red build is reproducible; locally Hypothesis
# keeps exploring new ones.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")
