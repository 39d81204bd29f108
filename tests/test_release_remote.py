"""End to end: build a release, serve it on 127.0.0.1, load it by URL and by version.

Real HTTP through ``tests/httpserver.py``; no mocks of the network. Each test gets an
empty cache (``RELATIONS_DATA_CACHE``) and a registry of its own (``RELATIONS_DATA_REGISTRY``)
into which the build records the archive's hash.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from relations_data.diff import diff_packages
from relations_data.errors import DownloadError, HashMismatchError
from relations_data.loader import load
from relations_data.release import BuiltRelease, build_release
from relations_data.versioning import Bump, check_release, next_version
from tests.conftest import ROOT, TABLES
from tests.httpserver import FolderServer, serve_folder
from tests.test_release import use_valid_rows

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, BuiltRelease]:
    """A package with valid rows and its release archive, built once for the module."""
    package = tmp_path_factory.mktemp("source") / "package"
    package.mkdir()
    shutil.copy2(ROOT / "datapackage.json", package / "datapackage.json")
    shutil.copytree(ROOT / "data", package / "data")
    shutil.copytree(ROOT / "schemas", package / "schemas")
    use_valid_rows(package)
    release = build_release(package, tmp_path_factory.mktemp("dist"), record=False)
    return package, release


@dataclass
class Mirror:
    server: FolderServer
    cache: Path
    release: BuiltRelease
    package: Path

    @property
    def archive_url(self) -> str:
        return f"{self.server.url}/{self.release.archive.name}"

    def cached_files(self) -> list[Path]:
        return [p for p in self.cache.rglob("*") if p.is_file()] if self.cache.exists() else []


@pytest.fixture
def mirror(
    built: tuple[Path, BuiltRelease], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Mirror]:
    """The archive served on 127.0.0.1 as a mirror, with an empty cache and a test registry."""
    package, release = built
    served = tmp_path / "served"
    served.mkdir()
    shutil.copy2(release.archive, served / release.archive.name)
    registry = tmp_path / "releases.txt"
    registry.write_text(f"{release.registry_line}\n", encoding="utf-8")
    cache = tmp_path / "cache"
    monkeypatch.setenv("RELATIONS_DATA_REGISTRY", str(registry))
    monkeypatch.setenv("RELATIONS_DATA_CACHE", str(cache))
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    with serve_folder(served) as server:
        monkeypatch.setenv("RELATIONS_DATA_MIRROR", server.url)
        yield Mirror(server, cache, release, package)


def test_load_by_version_through_the_mirror_then_offline(mirror: Mirror) -> None:
    assert mirror.cached_files() == []
    for table in TABLES:
        loaded = load(table, version=mirror.release.version)  # type: ignore[arg-type]
        assert loaded.equals(load(table, source=mirror.package))  # type: ignore[arg-type]
    assert mirror.server.requests == [f"/{mirror.release.archive.name}"]
    mirror.server.stop()
    again = load("actors", version=mirror.release.version)
    assert again.equals(load("actors", source=mirror.package))
    assert again.height == 2


def test_load_by_url_with_sha256(mirror: Mirror) -> None:
    for table in TABLES:
        loaded = load(table, source=mirror.archive_url, sha256=mirror.release.sha256)  # type: ignore[arg-type]
        assert loaded.equals(load(table, source=mirror.package))  # type: ignore[arg-type]


def test_a_tampered_archive_is_refused_and_nothing_is_cached(mirror: Mirror) -> None:
    served = mirror.server.root / mirror.release.archive.name
    data = bytearray(served.read_bytes())
    data[len(data) // 2] ^= 0xFF
    served.write_bytes(bytes(data))
    with pytest.raises(HashMismatchError, match=mirror.release.sha256):
        load("actors", version=mirror.release.version)
    with pytest.raises(HashMismatchError):
        load("actors", source=mirror.archive_url, sha256=mirror.release.sha256)
    assert mirror.cached_files() == []


def test_a_truncated_archive_is_refused_with_a_hash_error(mirror: Mirror) -> None:
    served = mirror.server.root / mirror.release.archive.name
    served.write_bytes(served.read_bytes()[: served.stat().st_size // 2])
    with pytest.raises(HashMismatchError, match=mirror.release.sha256):
        load("actors", version=mirror.release.version)
    assert mirror.cached_files() == []


def test_a_dropped_connection_is_refused_and_nothing_is_cached(mirror: Mirror) -> None:
    # The server announces the full length and sends half: the client notices the short
    # read before any hashing, so this is a download error rather than a hash error.
    mirror.server.cut_after = mirror.release.archive.stat().st_size // 2
    with pytest.raises((HashMismatchError, DownloadError)):
        load("actors", version=mirror.release.version)
    assert mirror.cached_files() == []
    # Once the full file is served, the same call works: nothing stale was kept.
    mirror.server.cut_after = None
    assert load("actors", version=mirror.release.version).height == 2


def test_diff_and_check_resolve_a_version_through_the_mirror(
    mirror: Mirror, tmp_path: Path
) -> None:
    version = mirror.release.version
    assert diff_packages(version, mirror.package).is_empty
    # Default --against: the latest version of the registry, fetched from the mirror.
    assert check_release(mirror.package).ok
    edited = Path(shutil.copytree(mirror.package, tmp_path / "edited"))
    actors = edited / "data" / "actors.csv"
    actors.write_text(actors.read_text("utf-8").replace("Kingdom of", "Realm of"), "utf-8")
    result = check_release(edited)
    assert not result.ok
    assert result.required is Bump.PATCH
    assert f"Expected version {next_version(version, Bump.PATCH)}" in result.reason
