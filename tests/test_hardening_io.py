"""Disks, caches, downloads, crashes and credentials (issue 14).

A full disk is one ``Error:`` line; the cache is readable as the umask allows and a
read-only one still works; downloads are bounded; what a killed process leaves behind is
removed by the next run (never what a running one is using); credentials in a mirror URL
are never printed; concurrent releases lose no registry line.
"""

from __future__ import annotations

import errno
import os
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from click.testing import CliRunner

from relations_data import remote
from relations_data.cli import main
from relations_data.errors import DownloadError, PackageError
from relations_data.loader import load
from relations_data.registry import read_registry
from tests._synthetic import synthetic_package
from tests.httpserver import FolderServer, http_folder
from tests.test_hardening_input import assert_one_error_line, cli
from tests.test_release import release_package
from tests.test_remote import VERSION, build_archive, cache, registry, release

__all__ = [
    "cache",
    "http_folder",
    "registry",
    "release",
    "release_package",
]  # fixtures, imported for pytest

ROOT_TEMPORARY = ".relations-data-tmp."


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "pkg").mkdir()
    return synthetic_package(tmp_path / "pkg")


def _no_space(*args: Any, **kwargs: Any) -> Any:
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


@pytest.fixture
def full_disk(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every way the package writes a file fails as on a full disk."""
    import duckdb

    def sqlite_full(*args: Any, **kwargs: Any) -> Any:
        raise sqlite3.OperationalError("database or disk is full")

    def duckdb_full(*args: Any, **kwargs: Any) -> Any:
        raise duckdb.IOException("No space left on device")

    monkeypatch.setattr(Path, "write_bytes", _no_space)
    monkeypatch.setattr(pl.DataFrame, "write_parquet", _no_space)
    monkeypatch.setattr(sqlite3, "connect", sqlite_full)
    monkeypatch.setattr(duckdb, "connect", duckdb_full)


# -- 3. a full disk ---------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["sqlite", "duckdb", "parquet", "json", "csv"])
def test_a_full_disk_during_export_is_one_error_line(
    root: Path, tmp_path: Path, full_disk: None, fmt: str
) -> None:
    out = tmp_path / "out" / f"relations.{fmt}"
    result = cli("export", "--format", fmt, out, "--source", root)
    assert_one_error_line(result, str(out))
    assert not out.exists()


def test_a_full_disk_during_fmt_is_one_error_line(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    events = root / "data" / "events.csv"
    events.write_bytes(events.read_bytes().replace(b"\n", b"\r\n"))
    before = events.read_bytes()
    monkeypatch.setattr(Path, "write_bytes", _no_space)
    assert_one_error_line(cli("fmt", root), "events.csv", "No space left")
    assert events.read_bytes() == before


def test_a_full_disk_during_release_build_is_one_error_line(
    release_package: Path, tmp_path: Path, full_disk: None
) -> None:
    dist = tmp_path / "dist"
    result = cli("release", "build", release_package, "--no-record", "--out", dist)
    assert_one_error_line(result, "No space left")
    assert not [p for p in dist.rglob("*") if p.is_file()] if dist.exists() else True


# -- 4. the cache: ordinary permissions, read-only fallback -------------------------------------


@pytest.mark.slow
def test_the_cache_is_readable_by_others_as_the_umask_allows(
    release: FolderServer, cache: Path
) -> None:
    previous = os.umask(0o022)
    try:
        load("events", version=VERSION)
    finally:
        os.umask(previous)
    for path in [cache, *cache.rglob("*")]:
        mode = path.stat().st_mode & 0o777
        wanted = 0o755 if path.is_dir() else 0o644
        assert mode == wanted, (path, oct(mode))


@pytest.mark.slow
def test_a_read_only_cache_without_the_extracted_folder_still_loads(
    release: FolderServer, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = load("events", version=VERSION)
    digest = read_registry()[VERSION]
    import shutil

    shutil.rmtree(cache / digest / "package")
    remote._open_extracted.cache_clear()
    real_mkdtemp = tempfile.mkdtemp

    def read_only(*args: Any, **kwargs: Any) -> str:  # as on a read-only mount
        folder = kwargs.get("dir") or (args[2] if len(args) > 2 else None)
        if folder is not None and Path(folder).resolve().is_relative_to(cache.resolve()):
            raise PermissionError(errno.EROFS, os.strerror(errno.EROFS), str(folder))
        return real_mkdtemp(*args, **kwargs)

    monkeypatch.setattr(tempfile, "mkdtemp", read_only)
    assert load("events", version=VERSION).equals(expected)
    assert not (cache / digest / "package").exists()


# -- 5. bounded downloads -----------------------------------------------------------------------


class _Counter:
    total = 0
    seen = 0

    def update(self, n: int) -> None:
        self.seen += n

    def reset(self) -> None:
        pass

    def close(self) -> None:
        pass


@pytest.mark.slow
def test_a_huge_announced_size_is_refused_before_reading(
    release: FolderServer, cache: Path
) -> None:
    release.announce_length = 10**13
    counter = _Counter()
    with pytest.raises(DownloadError, match=r"RELATIONS_DATA_MAX_DOWNLOAD"):
        remote.download_release(VERSION, progress=counter)
    assert counter.seen == 0
    assert [p for p in cache.rglob("*") if p.is_file()] == []
    assert release.headers[-1].get("Accept-Encoding") == "identity"


@pytest.mark.slow
@pytest.mark.parametrize("hostile", ["stream_bytes", "gzip_bytes"])
def test_an_endless_or_compressed_body_stops_at_the_limit(
    release: FolderServer, cache: Path, monkeypatch: pytest.MonkeyPatch, hostile: str
) -> None:
    monkeypatch.setenv("RELATIONS_DATA_MAX_DOWNLOAD", str(1024 * 1024))
    setattr(release, hostile, 40 * 1024 * 1024)
    with pytest.raises(DownloadError, match=r"more than 1048576 bytes"):
        load("events", version=VERSION)
    assert [p for p in cache.rglob("*") if p.is_file()] == []


def test_a_malformed_download_limit_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RELATIONS_DATA_MAX_DOWNLOAD", "lots")
    with pytest.raises(DownloadError, match="RELATIONS_DATA_MAX_DOWNLOAD"):
        remote.max_download_bytes()


# -- 6. leftovers of a killed process are removed by the next run ------------------------------

KILLED = {
    "fmt": """
        from pathlib import Path
        Path.replace = lambda *a: os.kill(os.getpid(), signal.SIGKILL)
        from relations_data.canonical import format_package
        format_package(sys.argv[1])
    """,
    "export": """
        from relations_data import export
        export._replace_folder = lambda *a: os.kill(os.getpid(), signal.SIGKILL)
        export.export("parquet", sys.argv[2], source=sys.argv[1])
    """,
    "extract": """
        from relations_data import remote
        def killed(*args):
            os.kill(os.getpid(), signal.SIGKILL)
        remote.extract_zip = killed
        from relations_data.loader import load
        load("events", source=sys.argv[3])
    """,
}


def _run_killed(kind: str, *args: Path) -> None:
    script = "import os, signal, sys\n" + textwrap.dedent(KILLED[kind])
    done = subprocess.run(
        [sys.executable, "-c", script, *map(str, args)], capture_output=True, check=False
    )
    assert done.returncode == -9, done.stderr.decode()


def _leftovers(*folders: Path) -> list[Path]:
    found: list[Path] = []
    for folder in folders:
        if folder.is_dir():
            found += [p for p in folder.rglob("*") if p.name.startswith((".", "tmp"))]
    return found


@pytest.mark.parametrize("kind", list(KILLED))
def test_what_a_killed_process_left_is_removed_by_the_next_run(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    monkeypatch.setenv("RELATIONS_DATA_CACHE", str(tmp_path / "cache"))
    events = root / "data" / "events.csv"
    events.write_bytes(events.read_bytes().replace(b"\n", b"\r\n"))
    out = tmp_path / "exports" / "parquet"
    archive = tmp_path / "release.zip"
    build_archive(root, "2.0.0", archive)
    _run_killed(kind, root, out, archive)
    watched = (root, out.parent, tmp_path / "cache")
    assert _leftovers(*watched), "the killed process left nothing to clean"
    assert not _leftovers(root / "data"), "a temporary was written inside data/"
    if kind == "fmt":
        cli("fmt", root)
    elif kind == "export":
        cli("export", "--format", "parquet", out, "--source", root)
        assert (out / "events.parquet").is_file()
    else:
        assert load("events", source=archive).height
    assert _leftovers(*watched) == []


def test_a_zip_extracted_outside_the_cache_is_removed_after_a_kill(
    root: Path, tmp_path: Path
) -> None:
    system_temp = tmp_path / "system-temp"
    system_temp.mkdir()
    archive = tmp_path / "release.zip"
    build_archive(root, "2.0.0", archive)
    environment = {**os.environ, "TMPDIR": str(system_temp)}
    killed = textwrap.dedent(
        """
        import os, signal, sys
        from relations_data import package
        real = package.extract_zip
        def killed(*args):
            real(*args)
            os.kill(os.getpid(), signal.SIGKILL)
        package.extract_zip = killed
        package.open_package(sys.argv[1])
        """
    )
    reopen = "import sys; from relations_data import package; package.open_package(sys.argv[1])"
    done = subprocess.run(
        [sys.executable, "-c", killed, str(archive)], env=environment, check=False
    )
    assert done.returncode == -9

    def extracted() -> list[Path]:
        return [p for p in system_temp.iterdir() if p.name != "relations-data-locks"]

    assert extracted(), "the killed process left nothing to clean"
    subprocess.run([sys.executable, "-c", reopen, str(archive)], env=environment, check=True)
    assert extracted() == []


def test_a_running_process_keeps_its_temporary(tmp_path: Path) -> None:
    folder = tmp_path / "dist"
    folder.mkdir()
    script = textwrap.dedent(
        """
        import sys
        from pathlib import Path
        from relations_data.atomic import atomic_path
        with atomic_path(Path(sys.argv[1])) as temporary:
            temporary.write_bytes(b"busy")
            print(temporary, flush=True)
            sys.stdin.readline()
        """
    )
    with subprocess.Popen(
        [sys.executable, "-c", script, str(folder / "a.zip")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as child:
        assert child.stdout is not None and child.stdin is not None
        temporary = Path(child.stdout.readline().strip())
        from relations_data.atomic import atomic_write_bytes

        atomic_write_bytes(folder / "b.zip", b"other")  # sweeps stale temporaries
        assert temporary.read_bytes() == b"busy"
        child.stdin.write("\n")
        child.stdin.flush()
    assert child.returncode == 0
    assert (folder / "a.zip").read_bytes() == b"busy"
    assert sorted(p.name for p in folder.iterdir()) == ["a.zip", "b.zip"]


# -- 7. credentials are never printed -----------------------------------------------------------


@pytest.mark.slow
def test_credentials_in_the_mirror_url_are_never_printed(
    release: FolderServer, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    secret = "s3cret-token"
    monkeypatch.setenv(remote.MIRROR_ENV, release.url.replace("//", f"//user:{secret}@") + "/")
    result = CliRunner().invoke(main, ["download", VERSION])
    assert result.exit_code == 0, result.output
    release.stop()
    remote._open_extracted.cache_clear()
    failed = CliRunner().invoke(main, ["download", "9.9.9", "--sha256", "a" * 64])
    assert failed.exit_code == 2
    printed = capfd.readouterr()
    everything = result.output + failed.output + printed.out + printed.err
    assert secret not in everything
    assert "***@" in failed.output


def test_redaction_covers_every_url_in_a_text() -> None:
    from relations_data.messages import redact

    text = "a https://me:pw@host/x and ftp://tok@h/y, http://plain/z"
    assert redact(text) == "a https://***@host/x and ftp://***@h/y, http://plain/z"


# -- 10. concurrent releases record every line ---------------------------------------------------


def test_concurrent_recording_loses_no_registry_line(tmp_path: Path) -> None:
    registry_file = tmp_path / "releases.txt"
    registry_file.write_text("", "utf-8")
    script = textwrap.dedent(
        """
        import sys, time
        from pathlib import Path
        from relations_data import registry
        parse = registry.parse_registry
        def slow(*args, **kwargs):  # widen the window between reading and writing
            entries = parse(*args, **kwargs)
            time.sleep(0.3)
            return entries
        registry.parse_registry = slow
        registry.record_release(sys.argv[2], sys.argv[3], Path(sys.argv[1]))
        """
    )
    versions = [f"1.0.{n}" for n in range(6)]
    children = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(registry_file), v, f"{n:x}" * 64],
        )
        for n, v in enumerate(versions, start=1)
    ]
    assert [child.wait() for child in children] == [0] * len(children)
    assert sorted(read_registry(registry_file)) == versions


def test_an_unreadable_data_file_is_a_package_error(root: Path) -> None:
    (root / "data" / "events.csv").unlink()
    (root / "data" / "events.csv").mkdir()
    with pytest.raises(PackageError, match=r"events\.csv"):
        load("events", source=root)
