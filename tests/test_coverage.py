"""The generated section of docs/coverage.md: counts from the data, freshness, markers."""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from relations_data.coverage import BEGIN, END, events_by_class_and_decade, write_coverage
from relations_data.errors import PackageError

ROOT = Path(__file__).resolve().parent.parent


def test_committed_coverage_is_fresh() -> None:
    result = write_coverage(ROOT / "docs" / "coverage.md", source=ROOT, check=True)
    assert not result.stale, "run 'relations-data coverage' and commit docs/coverage.md"


def test_stale_section_is_rewritten_and_prose_kept(tmp_path: Path) -> None:
    target = tmp_path / "coverage.md"
    target.write_text(f"# Prose before\n\n{BEGIN}\nold counts\n{END}\n\nProse after\n")
    assert write_coverage(target, source=ROOT, check=True).stale
    assert write_coverage(target, source=ROOT).stale
    text = target.read_text()
    assert text.startswith("# Prose before\n") and text.endswith("\n\nProse after\n")
    assert "old counts" not in text
    assert not write_coverage(target, source=ROOT).stale


def test_missing_markers_are_an_error_and_nothing_is_written(tmp_path: Path) -> None:
    target = tmp_path / "coverage.md"
    target.write_text("no markers here\n")
    with pytest.raises(PackageError, match="markers"):
        write_coverage(target, source=ROOT)
    assert target.read_text() == "no markers here\n"


@given(
    st.lists(
        st.tuples(st.sampled_from(["a", "b", "c"]), st.integers(min_value=1956, max_value=2026)),
        max_size=40,
    )
)
def test_counts_add_up_per_class_and_decade(rows: list[tuple[str, int]]) -> None:
    frame = pl.DataFrame(
        {
            "scope_class": pl.Series([r[0] for r in rows], dtype=pl.Enum(["a", "b", "c"])),
            "date_start": pl.Series([f"{r[1]}-06-01" for r in rows], dtype=pl.String).str.to_date(),
        }
    )
    lines = events_by_class_and_decade(frame)
    total_row = lines[-1].strip("|").split("|")
    assert total_row[-1].strip() == f"**{len(rows)}**"
    for scope in ["a", "b", "c"]:
        row = next(line for line in lines if line.startswith(f"| `{scope}`"))
        assert row.rstrip(" |").rsplit("| ", 1)[-1] == str(sum(r[0] == scope for r in rows))


def test_the_command_checks_the_bundled_document(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from relations_data.cli import main

    copy = tmp_path / "coverage.md"
    shutil.copy(ROOT / "docs" / "coverage.md", copy)
    result = CliRunner().invoke(
        main, ["coverage", "--check", "--out", str(copy), "--source", str(ROOT)]
    )
    assert result.exit_code == 0, result.output
