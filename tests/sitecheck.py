"""Reading a built site's HTML in tests: links, ids, headings and text of each page."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit


@dataclass
class Page:
    """What the tests need to know about one HTML file."""

    path: Path
    lang: str | None = None
    links: list[str] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    headings: list[int] = field(default_factory=list)
    text: list[str] = field(default_factory=list)


class _Reader(HTMLParser):
    def __init__(self, page: Page) -> None:
        super().__init__(convert_charrefs=True)
        self.page = page

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "html":
            self.page.lang = values.get("lang")
        if tag in {"h1", "h2", "h3", "h4", "h5", "h6"}:
            self.page.headings.append(int(tag[1]))
        for name in ("href", "src"):
            if values.get(name):
                self.page.links.append(str(values[name]))
        if values.get("id"):
            self.page.ids.append(str(values["id"]))

    def handle_data(self, data: str) -> None:
        if data.strip():
            self.page.text.append(data.strip())


def read_page(path: Path) -> Page:
    page = Page(path)
    _Reader(page).feed(path.read_text(encoding="utf-8"))
    return page


def html_pages(root: Path) -> list[Path]:
    """The site's own pages (Pagefind's bundle excluded)."""
    return sorted(p for p in root.rglob("*.html") if "pagefind" not in p.relative_to(root).parts)


def local_target(page: Path, link: str) -> tuple[Path, str] | None:
    """The file and fragment a relative link leads to; None for an external link."""
    parts = urlsplit(link)
    if parts.scheme or parts.netloc:
        return None
    target = (page.parent / unquote(parts.path)).resolve() if parts.path else page.resolve()
    return target, parts.fragment
