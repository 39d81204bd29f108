"""A static website of a data package: every record with its evidence, one click away.

:func:`build_site` renders Jinja2 templates (package data in ``templates/``) from the
records, links and citations :class:`relations_data.records.RecordGraph` reads from the
Table Schemas, then indexes the pages with Pagefind for full-text search. The output is a
plain folder of HTML, CSS and JavaScript that any static host serves (GitHub Pages).
Pages are byte-identical between two builds of the same data: nothing depends on the
clock, the machine or the order of a hash table.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from ..errors import SiteError

#: A file in the site's root marking the folder as a built site, so rebuilding replaces it
#: but building into a folder of other files does not delete them.
MARKER = ".relations-data-site"


@dataclass(frozen=True)
class BuiltSite:
    """A finished site: its folder, number of HTML pages and total size in bytes."""

    path: Path
    pages: int
    size: int


def _import_jinja() -> Any:
    try:
        import jinja2
    except ImportError:
        raise SiteError(
            "The site needs the optional dependencies 'jinja2' and 'pagefind', which are "
            "not installed; nothing was written. Install them with: "
            "pip install 'relations-data[site]'"
        ) from None
    return jinja2


def _pagefind_executable() -> Path:
    try:
        import pagefind_bin
    except ImportError:
        raise SiteError(
            "The site's search index needs 'pagefind[bin]', which is not installed; nothing "
            "was written. Install it with: pip install 'relations-data[site]'"
        ) from None
    return Path(pagefind_bin.get_executable())


def build_site(
    out: str | Path,
    *,
    version: str | None = None,
    source: str | Path | None = None,
    sha256: str | None = None,
    base_url: str | None = None,
    search: bool = True,
) -> BuiltSite:
    """Build the static site of a data package into the folder ``out``.

    Parameters
    ----------
    out
        Target folder. An existing folder is replaced only if it is empty or an earlier
        site (it holds the marker file ``.relations-data-site``).
    version, source, sha256
        Which data package, as for :func:`relations_data.load` (default: the bundled).
    base_url
        The address the site is published at (``https://…/``), used in "how to cite"
        blocks; without it, citations give each page's path.
    search
        Index the pages with Pagefind (the search page needs it).

    Returns
    -------
    BuiltSite
        The folder, its number of pages and its size.

    Raises
    ------
    SiteError
        A missing optional dependency, an unusable target or a failed search index.

    Examples
    --------
    >>> from relations_data.site import build_site
    >>> build_site("site/")  # doctest: +SKIP
    """
    from ..records import load_graph
    from .render import render_pages

    jinja2 = _import_jinja()
    executable = _pagefind_executable() if search else None
    target = Path(out).resolve()
    _check_target(target)
    graph = load_graph(version=version, source=source, sha256=sha256)
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("relations_data.site", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    with _staging(target) as built:
        pages = 0
        for relpath, text in render_pages(graph, environment, base_url=base_url):
            page = built / relpath
            page.parent.mkdir(parents=True, exist_ok=True)
            page.write_bytes(text.encode("utf-8"))
            pages += 1
        _copy_static(built / "static")
        (built / MARKER).write_bytes(f"relations-data site {graph.package.version}\n".encode())
        if executable is not None:
            _index(executable, built)
        size = sum(p.stat().st_size for p in built.rglob("*") if p.is_file())
        _replace(built, target)
    return BuiltSite(Path(out), pages, size)


def _copy_static(folder: Path) -> None:
    folder.mkdir()
    for entry in sorted(
        resources.files("relations_data.site").joinpath("static").iterdir(), key=lambda e: e.name
    ):
        if entry.is_file():
            (folder / entry.name).write_bytes(entry.read_bytes())


def _index(executable: Path, folder: Path) -> None:
    command = [str(executable), "--site", str(folder), "--silent"]
    try:
        result = subprocess.run(command, capture_output=True, text=True, check=False)
    except OSError as error:
        raise SiteError(f"{executable}: Pagefind cannot run ({error.strerror}).") from None
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        raise SiteError(
            f"Pagefind failed to index the site (exit {result.returncode}: "
            f"{detail[-1] if detail else 'no message'}); nothing was written."
        )


def _check_target(out: Path) -> None:
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise SiteError(f"{out}: expected a folder (or nothing), found a file; left as is.")
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).is_file():
        raise SiteError(
            f"{out}: the folder holds files and is not an earlier site (no {MARKER}); "
            "left as is. Remove it or choose another folder."
        )


@contextlib.contextmanager
def _staging(out: Path) -> Iterator[Path]:
    """A private folder beside ``out`` to build in, removed afterwards whatever happens."""
    out.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        built = scratch / out.name
        built.mkdir()
        yield built
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _replace(built: Path, out: Path) -> None:
    _check_target(out)  # again: the folder may have changed while the site was built
    built.chmod(0o755)
    if out.exists():
        retired = built.parent / f"{out.name}.old"
        out.rename(retired)
        built.rename(out)
        shutil.rmtree(retired, ignore_errors=True)
    else:
        built.rename(out)
