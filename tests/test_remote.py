"""Release archives over a real HTTP server on 127.0.0.1: download, verify, cache, refuse."""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from relations_data import remote
from relations_data.cli import main
from relations_data.errors import (
    ArchiveError,
    DownloadError,
    HashMismatchError,
    PackageError,
    UnknownVersionError,
)
from relations_data.loader import load, load_package, scan
from relations_data.package import open_package
from relations_data.registry import REGISTRY_ENV, read_registry, record_release
from tests.conftest import TABLES
from tests.httpserver import FolderServer, http_folder, serve_folder
from tests.test_loader import write_sample_rows

__all__ = ["http_folder"]  # the fixture, imported for pytest

VERSION = "9.8.7"


def build_archive(package: Path, version: str, target: Path, *, top: str | None = None) -> str:
    """Zip a package folder in the release layout; return the archive's sha256."""
    folder = top if top is not None else f"relations-data-{version}"
    document = json.loads((package / "datapackage.json").read_text("utf-8"))
    document["version"] = version
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as bundle:
        bundle.writestr(f"{folder}/datapackage.json", json.dumps(document, indent=2))
        for path in sorted([*package.glob("data/*.csv"), *package.glob("schemas/*.json")]):
            bundle.write(path, f"{folder}/{path.relative_to(package).as_posix()}")
        bundle.writestr(f"{folder}/CHANGELOG.md", "# Changelog\n")
    return hashlib.sha256(target.read_bytes()).hexdigest()


def files_in(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    folder = tmp_path / "cache"
    monkeypatch.setenv(remote.CACHE_ENV, str(folder))
    monkeypatch.delenv(remote.MIRROR_ENV, raising=False)
    remote._open_extracted.cache_clear()
    yield folder
    remote._open_extracted.cache_clear()


@pytest.fixture
def registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "releases.txt"
    path.write_text("# test registry\n", "utf-8")
    monkeypatch.setenv(REGISTRY_ENV, str(path))
    return path


@pytest.fixture
def release(
    package_copy: Path,
    http_folder: FolderServer,
    registry: Path,
    cache: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> FolderServer:
    """Version 9.8.7 of the package with sample rows, registered and served as a mirror."""
    write_sample_rows(package_copy)
    digest = build_archive(
        package_copy, VERSION, http_folder.root / f"relations-data-{VERSION}.zip"
    )
    record_release(VERSION, digest, path=registry)
    monkeypatch.setenv(remote.MIRROR_ENV, http_folder.url + "/")
    return http_folder


@pytest.mark.slow
def test_a_release_is_downloaded_verified_cached_and_read_offline_later(
    release: FolderServer, package_copy: Path, cache: Path
) -> None:
    events = load("events", version=VERSION)
    assert events.equals(load("events", source=package_copy))
    assert release.requests == [f"/relations-data-{VERSION}.zip"]
    digest = read_registry()[VERSION]
    archive = cache / digest / f"relations-data-{VERSION}.zip"
    assert hashlib.sha256(archive.read_bytes()).hexdigest() == digest
    assert (cache / digest / "package" / f"relations-data-{VERSION}" / "datapackage.json").is_file()

    release.stop()
    remote._open_extracted.cache_clear()  # as in a new process
    package = load_package(version=VERSION)
    assert package.version == VERSION
    assert list(package) == TABLES
    assert package.events.equals(events)
    assert scan("actors", version=VERSION).collect().equals(package.actors)
    assert release.requests == [f"/relations-data-{VERSION}.zip"]


@pytest.mark.slow
def test_a_tampered_archive_is_refused_and_nothing_is_cached(
    release: FolderServer, registry: Path, cache: Path
) -> None:
    archive = release.root / f"relations-data-{VERSION}.zip"
    archive.write_bytes(archive.read_bytes() + b"tampered")
    found = hashlib.sha256(archive.read_bytes()).hexdigest()
    expected = read_registry()[VERSION]
    with pytest.raises(HashMismatchError) as caught:
        load("events", version=VERSION)
    message = str(caught.value)
    assert expected in message and found in message
    assert "deleted" in message and "nothing was cached" in message
    assert files_in(cache) == []


@pytest.mark.slow
def test_a_truncated_archive_is_refused(release: FolderServer, cache: Path) -> None:
    archive = release.root / f"relations-data-{VERSION}.zip"
    archive.write_bytes(archive.read_bytes()[:-100])
    with pytest.raises(HashMismatchError):
        load("events", version=VERSION)
    assert files_in(cache) == []


@pytest.mark.slow
def test_a_dropped_connection_is_a_download_error(release: FolderServer, cache: Path) -> None:
    release.cut_after = 100
    with pytest.raises(DownloadError, match="Could not download"):
        load("events", version=VERSION)
    assert files_in(cache) == []
    release.cut_after = None
    assert load("events", version=VERSION).columns  # the next attempt starts afresh


@pytest.mark.slow
def test_no_network_and_no_cache_names_the_url_and_the_mirror_variable(
    release: FolderServer, cache: Path
) -> None:
    release.stop()
    with pytest.raises(DownloadError) as caught:
        load("events", version=VERSION)
    message = str(caught.value)
    assert f"{release.url}/relations-data-{VERSION}.zip" in message
    assert "RELATIONS_DATA_MIRROR" in message
    assert files_in(cache) == []


def test_an_unknown_version_lists_the_known_ones(registry: Path, cache: Path) -> None:
    record_release("1.0.0", "a" * 64, path=registry)
    record_release("1.1.0", "b" * 64, path=registry)
    with pytest.raises(UnknownVersionError, match=r"Unknown version '7\.0\.0'.*1\.0\.0, 1\.1\.0"):
        load("events", version="7.0.0")
    with pytest.raises(UnknownVersionError, match=r"like '1\.2\.3'"):
        load("events", version="v1")


def test_the_bundled_version_needs_no_network_when_unregistered(
    registry: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(remote.MIRROR_ENV, "http://127.0.0.1:9")  # nothing listens there
    bundled = open_package().version
    assert load("events", version=bundled).equals(load("events"))
    assert files_in(cache) == []


def test_a_sha256_contradicting_the_registry_is_refused(registry: Path, cache: Path) -> None:
    record_release("1.0.0", "a" * 64, path=registry)
    with pytest.raises(HashMismatchError, match=r"registry expects sha256 a{64}"):
        load("events", version="1.0.0", sha256="b" * 64)


def test_a_url_needs_a_sha256_unless_registered(registry: Path, cache: Path) -> None:
    with pytest.raises(DownloadError, match=r"not a registered release.*sha256="):
        load("events", source="https://example.org/relations-data-1.0.0.zip")
    with pytest.raises(DownloadError, match="http"):
        load("events", source="ftp://example.org/relations-data-1.0.0.zip", sha256="a" * 64)
    with pytest.raises(ValueError, match="64 hex digits"):
        load("events", source="https://example.org/x.zip", sha256="abc")


@pytest.mark.slow
def test_a_url_with_its_sha256_and_a_registered_url_load(
    release: FolderServer, cache: Path
) -> None:
    url = f"{release.url}/relations-data-{VERSION}.zip"
    digest = read_registry()[VERSION]
    by_hash = load("places", source=url, sha256=f"sha256:{digest.upper()}")
    assert by_hash.equals(load("places", source=url))  # a registered release's mirror URL
    assert len(release.requests) == 1  # both share the cached copy


@pytest.mark.slow
def test_an_archive_without_a_data_package_is_refused(
    http_folder: FolderServer, cache: Path
) -> None:
    target = http_folder.root / "bad.zip"
    with zipfile.ZipFile(target, "w") as bundle:
        bundle.writestr("readme.txt", "no package here")
    digest = hashlib.sha256(target.read_bytes()).hexdigest()
    with pytest.raises(ArchiveError, match="not a valid data package"):
        load("events", source=f"{http_folder.url}/bad.zip", sha256=digest)
    assert files_in(cache) == []


@pytest.mark.slow
def test_bytes_that_are_no_zip_are_refused(http_folder: FolderServer, cache: Path) -> None:
    target = http_folder.root / "noise.zip"
    target.write_bytes(b"this is not a zip archive")
    digest = hashlib.sha256(target.read_bytes()).hexdigest()
    with pytest.raises(ArchiveError, match="not a valid zip"):
        load("events", source=f"{http_folder.url}/noise.zip", sha256=digest)
    assert files_in(cache) == []


def test_an_archive_of_another_version_is_refused(
    package_copy: Path, registry: Path, cache: Path, tmp_path: Path
) -> None:
    served = tmp_path / "served"
    served.mkdir()
    digest = build_archive(package_copy, "1.0.0", served / f"relations-data-{VERSION}.zip")
    record_release(VERSION, digest, path=registry)
    with serve_folder(served) as server, pytest.MonkeyPatch.context() as patch:
        patch.setenv(remote.MIRROR_ENV, server.url)
        patch.setenv("NO_PROXY", "127.0.0.1")
        with pytest.raises(ArchiveError, match=r"expected a data package of version 9\.8\.7"):
            load("events", version=VERSION)
    assert files_in(cache) == []


def test_a_local_archive_is_a_source_and_its_sha256_is_checked(
    package_copy: Path, cache: Path, tmp_path: Path
) -> None:
    write_sample_rows(package_copy)
    archive = tmp_path / "release.zip"
    digest = build_archive(package_copy, "2.0.0", archive)
    assert load("events", source=archive).equals(load("events", source=package_copy))
    assert load_package(source=str(archive), sha256=digest).version == "2.0.0"
    with pytest.raises(HashMismatchError, match=f"expected sha256 {'0' * 64} but found {digest}"):
        load("events", source=archive, sha256="0" * 64)
    with pytest.raises(PackageError, match="archive not found"):
        load("events", source=tmp_path / "missing.zip")


def test_an_archive_with_its_package_at_the_root_loads(
    package_copy: Path, cache: Path, tmp_path: Path
) -> None:
    archive = tmp_path / "flat.zip"
    build_archive(package_copy, "2.0.0", archive, top="")
    with zipfile.ZipFile(archive) as bundle:
        assert "/datapackage.json" in bundle.namelist()
    flat = tmp_path / "flat-root.zip"
    with zipfile.ZipFile(archive) as source, zipfile.ZipFile(flat, "w") as target:
        for info in source.infolist():
            target.writestr(info.filename.lstrip("/"), source.read(info))
    assert load("events", source=flat).columns == load("events").columns


def test_an_unsafe_archive_is_refused(cache: Path, tmp_path: Path) -> None:
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("../outside.txt", "x")
    with pytest.raises(PackageError, match="refused"):
        load("events", source=archive)
    assert not (tmp_path / "outside.txt").exists()
    assert files_in(cache) == []


class RecordingProgress:
    def __init__(self) -> None:
        self.total = 0
        self.updates: list[int] = []
        self.closed = False

    def update(self, n: int) -> None:
        self.updates.append(n)

    def reset(self) -> None:
        self.updates.clear()

    def close(self) -> None:
        self.closed = True


@pytest.mark.slow
def test_download_copies_the_verified_archive_and_drives_the_progress_bar(
    release: FolderServer, tmp_path: Path
) -> None:
    progress = RecordingProgress()
    out = tmp_path / "out"
    path = remote.download_release(VERSION, out, progress=progress)
    assert path == out / f"relations-data-{VERSION}.zip"
    assert path.read_bytes() == (release.root / path.name).read_bytes()
    assert progress.total == path.stat().st_size
    assert progress.updates == [path.stat().st_size]
    assert progress.closed


@pytest.mark.slow
def test_the_download_command_reports_the_archive(release: FolderServer, tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["download", VERSION, "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert f"relations-data-{VERSION}.zip" in result.output
    assert (tmp_path / f"relations-data-{VERSION}.zip").is_file()
    unknown = CliRunner().invoke(main, ["download", "0.0.1"])
    assert unknown.exit_code == 2
    assert "Unknown version '0.0.1'" in unknown.output


def test_a_registry_file_that_cannot_be_read_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(REGISTRY_ENV, str(tmp_path / "missing.txt"))
    with pytest.raises(PackageError, match=f"unset {REGISTRY_ENV}"):
        read_registry()
    bad = tmp_path / "bad.txt"
    bad.write_text("1.0 sha256:xyz\n", "utf-8")
    with pytest.raises(PackageError, match="line 1"):
        read_registry(bad)


def test_the_release_url_follows_the_mirror(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(remote.MIRROR_ENV, raising=False)
    assert remote.release_url("1.2.3") == (
        "https://github.com/relations-data/relations-data/releases/download/"
        "v1.2.3/relations-data-1.2.3.zip"
    )
    monkeypatch.setenv(remote.MIRROR_ENV, "https://mirror.example/rd/")
    assert remote.release_url("1.2.3") == "https://mirror.example/rd/relations-data-1.2.3.zip"


def test_an_unwritable_cache_is_named(
    release: FolderServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be", "utf-8")
    monkeypatch.setenv(remote.CACHE_ENV, str(blocker / "cache"))
    with pytest.raises(
        DownloadError, match=f"Cannot write to the cache folder.*{remote.CACHE_ENV}"
    ):
        load("events", version=VERSION)
    assert release.requests == []


def test_a_rewritten_local_archive_is_read_afresh(
    package_copy: Path, cache: Path, tmp_path: Path
) -> None:
    archive = tmp_path / "release.zip"
    build_archive(package_copy, "2.0.0", archive)
    assert load_package(source=archive).version == "2.0.0"
    build_archive(package_copy, "2.0.1", archive)
    assert load_package(source=archive).version == "2.0.1"
