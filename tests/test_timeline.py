"""The timeline command writes valid PNG and SVG images of the events."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from datetime import date, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from relations_data.cli import main
from relations_data.errors import ExportError
from relations_data.timeline import MAX_PANELS, axis_segments, draw_timeline
from tests._synthetic import ROWS, synthetic_package, write_synthetic_rows
from tests.conftest import ROOT

pytest.importorskip("matplotlib")


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return synthetic_package(tmp_path_factory.mktemp("synthetic"))


def test_timeline_command_writes_a_png_an_image_library_opens(
    synthetic: Path, tmp_path: Path
) -> None:
    from PIL import Image

    out = tmp_path / "figures" / "timeline.png"
    result = CliRunner().invoke(main, ["timeline", str(out), "--source", str(synthetic)])
    assert result.exit_code == 0, result.output
    with Image.open(out) as image:
        image.verify()
    with Image.open(out) as image:
        assert image.format == "PNG"
        width, height = image.size
    assert width >= 1000 and height >= 400
    assert sorted(p.name for p in out.parent.iterdir()) == ["timeline.png"]


def test_timeline_svg_parses_and_is_reproducible(synthetic: Path, tmp_path: Path) -> None:
    first = draw_timeline(tmp_path / "a.svg", source=synthetic)
    second = draw_timeline(tmp_path / "b.svg", source=synthetic)
    root = ET.parse(first).getroot()
    assert root.tag.endswith("svg")
    assert first.read_bytes() == second.read_bytes()


def test_timeline_png_is_reproducible(synthetic: Path, tmp_path: Path) -> None:
    first = draw_timeline(tmp_path / "a.png", source=synthetic)
    second = draw_timeline(tmp_path / "b.png", source=synthetic)
    assert first.read_bytes() == second.read_bytes()


def test_timeline_of_no_events_is_still_an_image(package_copy: Path, tmp_path: Path) -> None:
    import matplotlib.image

    write_synthetic_rows(package_copy, {**ROWS, "events": [], "event_actors": []})
    out = draw_timeline(tmp_path / "empty.png", source=package_copy)
    assert matplotlib.image.imread(out).ndim == 3


def test_timeline_of_the_repository_data(tmp_path: Path) -> None:
    import matplotlib.image

    out = draw_timeline(tmp_path / "timeline.png", source=ROOT)
    assert matplotlib.image.imread(out).ndim == 3


def test_unknown_suffix_is_refused(synthetic: Path, tmp_path: Path) -> None:
    with pytest.raises(ExportError, match=r"\.png or \.svg"):
        draw_timeline(tmp_path / "timeline.gif", source=synthetic)
    assert list(tmp_path.iterdir()) == []


def test_missing_matplotlib_names_the_extra(
    synthetic: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ExportError, match=r"relations-data\[timeline\]"):
        draw_timeline(tmp_path / "timeline.png", source=synthetic)


def test_a_long_gap_breaks_the_axis() -> None:
    spans = [
        (date(1956, 5, 13), date(1956, 5, 13)),
        (date(2015, 1, 1), date(2015, 12, 31)),
        (date(2017, 9, 1), date(2017, 9, 30)),
    ]
    assert axis_segments(spans) == [
        (date(1956, 5, 13), date(1956, 5, 13)),
        (date(2015, 1, 1), date(2017, 9, 30)),
    ]


_DAYS = st.integers(min_value=0, max_value=25_000)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(_DAYS, st.integers(min_value=0, max_value=800)), min_size=1))
def test_axis_segments_cover_every_span_in_order(offsets: list[tuple[int, int]]) -> None:
    origin = date(1950, 1, 1)
    spans = [(origin + timedelta(days=a), origin + timedelta(days=a + b)) for a, b in offsets]
    segments = axis_segments(spans)
    assert 1 <= len(segments) <= MAX_PANELS
    for first, last in segments:
        assert first <= last
    for (_, end), (start, _) in itertools.pairwise(segments):
        assert end < start
    for start, end in spans:
        assert any(first <= start and end <= last for first, last in segments)


@pytest.mark.slow
def test_timeline_is_the_same_bytes_in_another_process(package_copy: Path, tmp_path: Path) -> None:
    # Separate processes with different hash seeds: set or dict order must not leak in.
    # Many multi-day events make an order that depends on hashing show with near certainty.
    events = [
        {
            "id": f"meeting-{day:02d}",
            "date_start": f"2016-03-{day:02d}",
            "date_end": f"2016-03-{day + 2:02d}",
            "date_precision": "day",
            "event_type": "bilateral_meeting",
            "summary": f"A three-day meeting number {day}.",
            "status": "claimed",
        }
        for day in range(1, 16)
    ]
    write_synthetic_rows(package_copy, {**ROWS, "events": [*ROWS["events"], *events]})
    synthetic = package_copy
    outputs = []
    for seed in ("1", "2"):
        out = tmp_path / f"timeline-{seed}.png"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "relations_data",
                "timeline",
                str(out),
                "--source",
                str(synthetic),
            ],
            check=True,
            timeout=300,
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
        )
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1]


@pytest.fixture(scope="module")
def repository_svg(tmp_path_factory: pytest.TempPathFactory) -> str:
    out = tmp_path_factory.mktemp("svg") / "timeline.svg"
    return draw_timeline(out, source=ROOT).read_text(encoding="utf-8")


def _svg_text(svg: str) -> str:
    root = ET.fromstring(svg)
    return " ".join(
        "".join(element.itertext()) for element in root.iter() if element.tag.endswith("text")
    )


def test_svg_labels_are_real_text_and_never_cut(repository_svg: str) -> None:
    from relations_data.loader import load

    text = " ".join(_svg_text(repository_svg).split())
    assert "…" not in text
    for summary in load("events", source=ROOT).get_column("summary").to_list():
        # Every word of every summary is in the figure, in order: wrapped, not cut.
        assert " ".join(str(summary).split()) in text, summary


def test_the_figure_credits_source_and_licence(repository_svg: str) -> None:
    from relations_data.package import open_package

    descriptor = open_package(ROOT).descriptor
    text = _svg_text(repository_svg)
    assert descriptor["licenses"][0]["title"] in text
    assert f"{descriptor['name']} {descriptor['version']}" in text


def test_every_axis_break_is_labelled_with_what_it_leaves_out(repository_svg: str) -> None:
    from relations_data.loader import load

    frame = load("events", source=ROOT)
    spans = axis_segments(list(zip(frame["date_start"], frame["date_end"], strict=True)))
    assert _svg_text(repository_svg).count("left out") == len(spans) - 1


def test_timeline_pdf_is_written_and_reproducible(synthetic: Path, tmp_path: Path) -> None:
    first = draw_timeline(tmp_path / "a.pdf", source=synthetic)
    second = draw_timeline(tmp_path / "b.pdf", source=synthetic)
    assert first.read_bytes().startswith(b"%PDF-")
    assert first.read_bytes() == second.read_bytes()
