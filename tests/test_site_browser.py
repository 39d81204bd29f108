"""The site in a real browser: Chromium from the OS, driven by Playwright.

The browser is the operating system's Chromium (``apt-get install chromium``; ``.ci/run``
installs it when missing), passed to Playwright as its executable, so no browser is
downloaded. ``RELATIONS_DATA_CHROMIUM`` names another executable. Every test fails on a
console error, an uncaught exception or a failed request of the site.

Set ``RELATIONS_DATA_SCREENSHOTS=1`` to write the README's screenshots (docs/site.png,
docs/site-phone.png) from the run.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from relations_data.records import load_graph
from relations_data.site import build_site
from relations_data.site.pages import record_path, timeline_table
from tests.conftest import ROOT
from tests.httpserver import FolderServer, serve_folder

playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
pytest.importorskip("pagefind_bin", reason="pagefind[bin] is not installed")

#: Chromium flags for a quiet, offline, sandbox-free run in a container or CI.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]
PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 900}
GRAPH = load_graph(source=ROOT)


def _chromium() -> str | None:
    named = os.environ.get("RELATIONS_DATA_CHROMIUM")
    if named:
        return named
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FolderServer]:
    out = tmp_path_factory.mktemp("browser") / "site"
    build_site(out, source=ROOT)
    os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")
    with serve_folder(out) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    executable = _chromium()
    if executable is None:
        pytest.skip(
            "no Chromium found (install it with 'apt-get install chromium' or set "
            "RELATIONS_DATA_CHROMIUM); .ci/run installs it when it runs as root"
        )
    with playwright_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


class Watched:
    """A page whose console errors, uncaught exceptions and failed requests are collected."""

    def __init__(self, page: Any, server: FolderServer) -> None:
        self.page = page
        self.server = server
        self.problems: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(f"exception: {error}"))
        page.on("requestfailed", lambda r: self.problems.append(f"failed: {r.url}"))
        page.on("response", self._response)

    def _console(self, message: Any) -> None:
        if message.type == "error":
            self.problems.append(f"console: {message.text}")

    def _response(self, response: Any) -> None:
        if response.status >= 400:
            self.problems.append(f"HTTP {response.status}: {response.url}")

    def open(self, path: str) -> Any:
        response = self.page.goto(f"{self.server.url}/{path}")
        assert response is not None and response.ok, path
        return self.page


@pytest.fixture
def watched(browser: Any, server: FolderServer) -> Iterator[Watched]:
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.set_default_timeout(15_000)
    watcher = Watched(page, server)
    yield watcher
    context.close()
    assert watcher.problems == [], "\n".join(watcher.problems)


def _screenshot(page: Any, name: str, tmp_path: Path) -> Path:
    shot = tmp_path / name
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000
    if os.environ.get("RELATIONS_DATA_SCREENSHOTS"):
        shutil.copyfile(shot, ROOT / "docs" / name)
    return shot


def _event_with_evidence() -> tuple[str, str]:
    table = timeline_table(GRAPH)
    assert table is not None
    cited = [r for r in sorted(GRAPH.rows[table]) if GRAPH.evidence(table, r)]
    # The event with the most sources, so the evidence table has something to show.
    record_id = max(cited, key=lambda r: len({c["source_id"] for c in GRAPH.evidence(table, r)}))
    return table, record_id


def test_the_home_page_opens_with_its_tables_and_menu(watched: Watched) -> None:
    page = watched.open("index.html")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("h1").inner_text() == GRAPH.package.descriptor["title"]
    for table in GRAPH.record_tables:
        assert page.locator(f'main td a[href="{table}/index.html"]').count() == 1


def test_search_finds_a_ship(watched: Watched) -> None:
    vessel_id, vessel = sorted(GRAPH.rows["vessels"].items())[0]
    page = watched.open("search.html")
    box = page.locator(".pagefind-ui__search-input")
    box.fill(str(vessel["name"]))
    hit = page.locator(f'.pagefind-ui__result-link[href$="vessels/{vessel_id}.html"]')
    page.locator(".pagefind-ui__result-link").first.wait_for()
    # Events that name the ship can rank above its own page: page through the results
    # as a reader would, with the "load more" button, until the ship's page is listed.
    more = page.locator(".pagefind-ui__button")
    for _ in range(20):
        if hit.count() or not more.is_visible():
            break
        shown = page.locator(".pagefind-ui__result-link").count()
        more.click()
        page.wait_for_function(
            f"document.querySelectorAll('.pagefind-ui__result-link').length > {shown}"
        )
    hit.first.wait_for()
    hit.first.click()
    page.wait_for_url(f"**/vessels/{vessel_id}.html")
    assert page.locator("h1").inner_text() == vessel["name"]


def test_from_an_event_to_its_evidence_to_the_source_and_back(watched: Watched) -> None:
    table, record_id = _event_with_evidence()
    page = watched.open("chronology.html")
    page.locator(f'main a[href="{record_path(table, record_id)}"]').click()
    page.wait_for_url(f"**/{record_path(table, record_id)}")
    evidence = page.locator("section.evidence")
    assert evidence.locator("h2").inner_text() == "Evidence"
    citation = GRAPH.evidence(table, record_id)[0]
    source_link = evidence.locator(f'a[href$="/{citation["source_id"]}.html"]').first
    assert source_link.is_visible()
    rows = evidence.locator("tbody tr")
    assert rows.count() == len(GRAPH.evidence(table, record_id))
    source_link.click()
    page.wait_for_url(f"**/{citation['source_id']}.html")
    back_link = page.locator(f'main a[href="../{record_path(table, record_id)}"]').first
    assert back_link.is_visible()
    page.go_back()
    page.wait_for_url(f"**/{record_path(table, record_id)}")
    back_link_text = page.locator("h1").inner_text()
    assert back_link_text == GRAPH.label(table, record_id)


def test_contradicting_evidence_is_shown_apart(watched: Watched) -> None:
    page = watched.open("contradictions.html")
    first = page.locator("section.contested h3 a").first
    first.click()
    against = page.locator("section.against")
    assert against.locator("h3").inner_text() == "Contradicting evidence"
    assert against.locator("tbody tr").count() >= 1


def test_the_timeline_filters_by_class_actor_and_period(watched: Watched) -> None:
    page = watched.open("timeline.html")
    items = page.locator("ol.timeline-list li")
    total = items.count()
    assert total == len(GRAPH.rows[timeline_table(GRAPH) or ""])
    visible = page.locator("ol.timeline-list li:not(.is-off)")
    # By class: the first class in the menu.
    klass = page.locator("#f-class option").nth(1).get_attribute("value")
    page.select_option("#f-class", klass)
    shown = visible.count()
    assert 0 < shown < total
    assert all(v == klass for v in visible.evaluate_all("els => els.map(e => e.dataset.class)"))
    assert page.locator("#timeline-count").inner_text() == f"{shown} of {total} events shown."
    marks = page.locator("svg a.mark:not(.is-off)")
    assert marks.count() == shown
    # By actor, after a reset shows every event again.
    page.click("button[type=reset]")
    page.wait_for_function("document.querySelectorAll('ol.timeline-list li.is-off').length == 0")
    actor = page.locator("#f-actor option").nth(1).get_attribute("value")
    page.select_option("#f-actor", actor)
    actors = visible.evaluate_all("els => els.map(e => e.dataset.actors.split(' '))")
    assert actors and all(actor in a for a in actors)
    page.click("button[type=reset]")
    # By period: one year.
    year = int(items.first.get_attribute("data-year"))
    page.fill("#f-from", str(year))
    page.fill("#f-to", str(year))
    years = visible.evaluate_all("els => els.map(e => [+e.dataset.year, +e.dataset.end])")
    assert years and all(start <= year <= end for start, end in years)
    # Every mark is a link to its event.
    href = page.locator("svg a.mark").first.get_attribute("href")
    assert href is not None and href.endswith(".html")


def test_the_timeline_reads_without_javascript(browser: Any, server: FolderServer) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{server.url}/timeline.html")
    assert page.locator("#timeline-filter").is_hidden()
    assert page.locator("ol.timeline-list li:visible").count() == len(
        GRAPH.rows[timeline_table(GRAPH) or ""]
    )
    context.close()


def test_keyboard_reaches_the_content_and_the_evidence(watched: Watched) -> None:
    table, record_id = _event_with_evidence()
    page = watched.open(record_path(table, record_id))
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    page.keyboard.press("Enter")
    assert page.url.endswith("#main")
    source_id = GRAPH.evidence(table, record_id)[0]["source_id"]
    reached = []
    for _ in range(60):
        page.keyboard.press("Tab")
        reached.append(page.evaluate("document.activeElement.getAttribute('href') || ''"))
        if reached[-1].endswith(f"/{source_id}.html"):
            break
    assert reached[-1].endswith(f"/{source_id}.html"), reached


@pytest.mark.parametrize("path", ["index.html", "timeline.html", "EVENT", "codebook.html"])
def test_pages_fit_a_phone_screen(browser: Any, server: FolderServer, path: str) -> None:
    if path == "EVENT":
        path = record_path(*_event_with_evidence())
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    watcher = Watched(page, server)
    watcher.open(path)
    # Wide tables scroll inside their own box; the page itself never scrolls sideways.
    width = page.evaluate("document.documentElement.scrollWidth")
    context.close()
    assert width <= PHONE["width"], f"{path} is {width}px wide on a {PHONE['width']}px screen"
    assert watcher.problems == []


def test_every_page_of_the_site_loads_without_errors(watched: Watched) -> None:
    """Top-level pages, every table's index and one record of each table, in the browser."""
    root = Path(watched.server.root)
    paths = sorted(p.name for p in root.glob("*.html"))
    for table in GRAPH.record_tables:
        paths.append(f"{table}/index.html")
        if GRAPH.rows[table]:  # a table may be empty (observations in 2.0.0)
            paths.append(record_path(table, sorted(GRAPH.rows[table])[0]))
    for path in paths:
        watched.open(path)
        for link in watched.page.locator("main a[href]").evaluate_all(
            "els => els.map(e => new URL(e.getAttribute('href'), document.baseURI).href)"
        ):
            if link.startswith(watched.server.url):
                assert (root / link[len(watched.server.url) + 1 :].split("#")[0]).is_file(), (
                    f"{path}: broken link {link}"
                )


def test_screenshots_for_the_readme(watched: Watched, browser: Any, tmp_path: Path) -> None:
    table, record_id = _event_with_evidence()
    page = watched.open(record_path(table, record_id))
    _screenshot(page, "site.png", tmp_path)
    context = browser.new_context(viewport=PHONE, is_mobile=True)
    phone = context.new_page()
    phone.goto(f"{watched.server.url}/timeline.html")
    _screenshot(phone, "site-phone.png", tmp_path)
    context.close()
