"""The built wheel carries the data and loads every table from outside the source tree."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOT, TABLES


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    # No build isolation: hatchling comes with the test extras, and CI has no index mirror.
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--quiet",
            "--wheel-dir",
            str(out),
            str(ROOT),
        ],
        check=True,
    )
    (built,) = out.glob("relations_data-*.whl")
    return built


@pytest.mark.slow
def test_wheel_contains_package_data(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "relations_data/py.typed" in names
    assert "relations_data/_package/datapackage.json" in names
    for table in TABLES:
        assert f"relations_data/_package/data/{table}.csv" in names
        assert f"relations_data/_package/schemas/{table}.schema.json" in names


@pytest.mark.slow
def test_installed_wheel_loads_every_table(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--quiet",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
    )
    script = (
        "import relations_data as rd, pathlib, sys\n"
        "assert pathlib.Path(rd.__file__).is_relative_to(pathlib.Path(sys.argv[1])), rd.__file__\n"
        "for t in rd.tables():\n"
        "    print(t, rd.load(t).height)\n"
    )
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    result = subprocess.run(
        [sys.executable, "-c", script, str(target)],
        cwd=outside,
        env={"PYTHONPATH": str(target), "PATH": ""},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert [line.split()[0] for line in result.stdout.splitlines()] == TABLES
