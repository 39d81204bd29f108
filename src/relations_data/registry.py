"""The registry of released versions and the sha256 of each release archive.

It ships inside the package as ``releases.txt``: one ``<version> sha256:<hex>`` a line,
sorted by version. The release archive never contains it, so there is no cycle.

The environment variable ``RELATIONS_DATA_REGISTRY`` names another registry file to use
instead of the shipped one. It exists for tests and for trying a release before it is
published; it replaces the trust anchor of downloads, so do not set it otherwise.
"""

from __future__ import annotations

import contextlib
import os
import re
from importlib import resources
from pathlib import Path

from .atomic import atomic_write_bytes
from .errors import PackageError
from .locks import exclusive
from .semver import is_version, version_key

REGISTRY_FILE = "releases.txt"
#: Environment variable naming a registry file that replaces the shipped one (for tests).
REGISTRY_ENV = "RELATIONS_DATA_REGISTRY"
_LINE = re.compile(r"^(?P<version>\S+) sha256:(?P<hash>[0-9a-f]{64})$")
#: Where a source checkout keeps its registry, relative to the repository root.
CHECKOUT_REGISTRY = Path("src") / "relations_data" / REGISTRY_FILE


def registry_file(root: Path | None = None) -> Path | None:
    """The registry file in use, or ``None`` for the one shipped with the package.

    The file named by ``RELATIONS_DATA_REGISTRY`` if set (tests, trial releases); else
    the registry of the source checkout at ``root``, if ``root`` is one. A package
    folder that is not the repository (a copy, an unpacked archive, the data inside an
    installed wheel) has no registry of its own.
    """
    override = os.environ.get(REGISTRY_ENV)
    if override:
        return Path(override)
    if root is not None and (root / CHECKOUT_REGISTRY).is_file():
        return root / CHECKOUT_REGISTRY
    return None


def parse_registry(text: str, origin: str = REGISTRY_FILE) -> dict[str, str]:
    """Map each version to its archive's sha256 hex digest."""
    entries: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        match = _LINE.match(line.strip())
        if match is None or not is_version(match["version"]):
            raise PackageError(
                f"{origin}: line {number}: expected '<X.Y.Z> sha256:<64 hex digits>' "
                f"but found {line!r}."
            )
        entries[match["version"]] = match["hash"]
    return entries


def read_registry(path: Path | None = None) -> dict[str, str]:
    """Map each released version to the sha256 hex digest of its archive.

    Reads ``path`` if given, else the file named by ``RELATIONS_DATA_REGISTRY`` if set,
    else the registry shipped with the installed package (see :func:`registry_file`).

    Examples
    --------
    >>> from relations_data.registry import parse_registry
    >>> parse_registry("1.0.0 sha256:" + "ab" * 32)["1.0.0"] == "ab" * 32
    True
    """
    override = path or registry_file()
    if override is not None:
        try:
            text = override.read_text("utf-8")
        except OSError as error:
            raise PackageError(
                f"{override}: registry of releases cannot be read ({error.strerror}); "
                f"check the path or unset {REGISTRY_ENV}."
            ) from None
        return parse_registry(text, str(override))
    text = resources.files("relations_data").joinpath(REGISTRY_FILE).read_text("utf-8")
    return parse_registry(text)


def format_registry(entries: dict[str, str]) -> str:
    """The text of a registry file holding ``entries``, sorted by version."""
    header = "# Released versions of relations-data: <version> sha256:<hex of the release zip>\n"
    lines = [f"{v} sha256:{entries[v]}\n" for v in sorted(entries, key=version_key)]
    return header + "".join(lines)


def registry_lock(path: Path) -> contextlib.AbstractContextManager[None]:
    """Hold the registry ``path`` exclusively: concurrent ``release build`` runs each read,
    change and write it in turn, so no line is lost."""
    return exclusive(path)


def record_release(version: str, sha256: str, path: Path) -> None:
    """Add or replace ``version`` in the registry file ``path``, keeping it sorted."""
    with registry_lock(path):
        record_release_locked(version, sha256, path)


def record_release_locked(version: str, sha256: str, path: Path) -> None:
    """:func:`record_release` for a caller already holding :func:`registry_lock`."""
    entries = parse_registry(path.read_text("utf-8"), str(path)) if path.exists() else {}
    entries[version] = sha256
    atomic_write_bytes(path, format_registry(entries).encode("utf-8"))
