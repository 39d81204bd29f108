"""Release archives from elsewhere: downloaded with pooch, verified, cached, extracted once.

Cache layout, under :func:`cache_dir`::

    <sha256 of the archive>/<archive name>.zip   the verified download
    <sha256 of the archive>/package/             its contents, extracted once

A folder is named by the hash of the archive it holds, so two URLs serving the same bytes
share it and a changed archive never reuses a stale extraction. An archive is hashed
when it is downloaded (pooch writes to a temporary file and moves it into place only when
the hash matches) and whenever it is extracted; ``package/`` appears, by one rename, only
after its archive was verified and opened as a data package. Later loads read
``package/`` without hashing again: hashing the archive on every load would cost time
proportional to its size, and the cache is as trusted as the rest of the user's files.
Delete a cache folder to force a fresh download.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from functools import lru_cache
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

from .archive import extract_zip, remove_tree
from .atomic import atomic_path, umask_mode
from .errors import (
    ArchiveError,
    ArgumentError,
    DownloadError,
    HashMismatchError,
    PackageError,
    UnknownVersionError,
)
from .locks import TEMP_PREFIX, holding_temporaries
from .messages import redact
from .package import DataPackage, open_package
from .registry import read_registry
from .semver import is_version, version_key

#: Where released archives are published; ``{version}`` is ``X.Y.Z``.
RELEASE_URL = (
    "https://github.com/relations-data/relations-data/releases/download/"
    "v{version}/relations-data-{version}.zip"
)
#: File name of a release archive, also its name on a mirror.
ARCHIVE_NAME = "relations-data-{version}.zip"
#: Environment variable: base URL of a mirror serving ``relations-data-X.Y.Z.zip`` files.
MIRROR_ENV = "RELATIONS_DATA_MIRROR"
#: Environment variable: folder to cache downloads in, instead of the user cache folder.
CACHE_ENV = "RELATIONS_DATA_CACHE"
#: Seconds to wait for the server to connect or send the next bytes.
DOWNLOAD_TIMEOUT = 60
#: Largest download accepted, in bytes (1 GiB; a release archive is a few MB).
MAX_DOWNLOAD_BYTES = 1024**3
#: Environment variable: another download limit in bytes.
MAX_DOWNLOAD_ENV = "RELATIONS_DATA_MAX_DOWNLOAD"
_EXTRACTED = "package"
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_ARCHIVE_FILE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*\.zip$")


class DownloadProgress(Protocol):
    """What pooch drives while downloading: a tqdm-like progress bar.

    pooch sets ``total`` to the size in bytes (0 when unknown), calls ``update`` with
    each chunk's size, and ``reset``, ``update(total)`` and ``close`` at the end.
    """

    total: int

    def update(self, n: int) -> object:
        """Advance by ``n`` bytes."""

    def reset(self) -> object:
        """Go back to zero."""

    def close(self) -> object:
        """Finish the bar."""


def cache_dir() -> Path:
    """Folder holding downloaded archives: ``RELATIONS_DATA_CACHE`` or the user cache.

    Examples
    --------
    >>> from relations_data.remote import cache_dir
    >>> cache_dir()  # doctest: +SKIP
    PosixPath('/home/me/.cache/relations-data')
    """
    override = os.environ.get(CACHE_ENV)
    if override:
        return Path(override).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("relations-data", appauthor=False))


def max_download_bytes() -> int:
    """The download limit: ``RELATIONS_DATA_MAX_DOWNLOAD`` bytes, or 1 GiB."""
    text = os.environ.get(MAX_DOWNLOAD_ENV, "").strip()
    if not text:
        return MAX_DOWNLOAD_BYTES
    if not text.isdigit() or int(text) == 0:
        raise DownloadError(
            f"{MAX_DOWNLOAD_ENV}={text[:40]!r}: expected a positive whole number of bytes."
        )
    return int(text)


def release_url(version: str) -> str:
    """URL of a release archive: the project's releases, or ``RELATIONS_DATA_MIRROR``.

    Examples
    --------
    >>> from relations_data.remote import release_url
    >>> release_url("1.0.0")  # doctest: +ELLIPSIS
    'https://github.com/.../releases/download/v1.0.0/relations-data-1.0.0.zip'
    """
    mirror = os.environ.get(MIRROR_ENV)
    if mirror:
        return f"{mirror.rstrip('/')}/{ARCHIVE_NAME.format(version=version)}"
    return RELEASE_URL.format(version=version)


def normalize_sha256(sha256: str) -> str:
    """The 64 lower-case hex digits of a sha256, given with or without ``sha256:``."""
    digest = sha256.strip().lower().removeprefix("sha256:")
    if not _SHA256.match(digest):
        raise ArgumentError(f"expected a sha256 of 64 hex digits but found {sha256!r}.")
    return digest


def release_hash(version: str, sha256: str | None = None) -> str:
    """The sha256 a release archive must have: ``sha256`` if given, else the registry's.

    A ``sha256`` given for a registered version must agree with the registry; one
    given for an unregistered version lets a release newer than this installation load.
    """
    if not is_version(version):
        raise UnknownVersionError(
            f"Expected a version like '1.2.3' but found {version!r}; "
            f"known versions: {_known_versions()}."
        )
    registered = read_registry().get(version)
    if sha256 is not None:
        given = normalize_sha256(sha256)
        if registered is not None and registered != given:
            raise HashMismatchError(
                f"Version {version}: the registry expects sha256 {registered} but "
                f"sha256={given} was given; nothing was downloaded. Drop the sha256 "
                "argument to use the registered release."
            )
        return given
    if registered is None:
        raise UnknownVersionError(
            f"Unknown version {version!r}: known versions are {_known_versions()}. "
            "Upgrade relations-data to load a newer release, or pass its sha256= "
            "from the release notes."
        )
    return registered


def _known_versions() -> str:
    versions = sorted(read_registry(), key=version_key)
    bundled = open_package().version
    listed = ", ".join(versions) if versions else "none released yet"
    return f"{listed} (bundled with this installation: {bundled})"


def open_release(
    version: str, *, sha256: str | None = None, progress: DownloadProgress | None = None
) -> DataPackage:
    """Open a released version, downloading and verifying its archive unless cached.

    A version that is not in the registry but equals the bundled package's version (a
    release not published yet, or a development checkout) opens the bundled copy.
    """
    if sha256 is None and version not in read_registry():
        bundled = open_package()
        if version == bundled.version:
            return bundled
    digest = release_hash(version, sha256)
    return _open_archive(
        release_url(version),
        digest,
        name=ARCHIVE_NAME.format(version=version),
        version=version,
        progress=progress,
    )


def registered_hash_of_url(url: str) -> str | None:
    """The registered sha256 if ``url`` is a registered release's URL (or mirror URL)."""
    for version, digest in read_registry().items():
        if url in (release_url(version), RELEASE_URL.format(version=version)):
            return digest
    return None


def open_url(
    url: str, sha256: str | None = None, *, progress: DownloadProgress | None = None
) -> DataPackage:
    """Open the release archive at an ``http(s)`` URL, verified against ``sha256``."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise DownloadError(
            f"Expected an http(s) URL of a release archive but found {redact(repr(url))}."
        )
    digest = normalize_sha256(sha256) if sha256 is not None else registered_hash_of_url(url)
    if digest is None:
        raise DownloadError(
            f"{redact(url)} is not a registered release, so its sha256 is unknown: pass "
            "sha256='<64 hex digits>' to verify the download (a release's hash is in "
            "its release notes), or version='X.Y.Z' for a registered release."
        )
    name = Path(parts.path).name
    if not _ARCHIVE_FILE.match(name):
        name = "archive.zip"
    return _open_archive(url, digest, name=name, version=None, progress=progress)


def open_local_archive(path: Path, sha256: str | None = None) -> DataPackage:
    """Open a release ``.zip`` on disk, verified against ``sha256`` when given.

    The archive is extracted once into the cache, under its hash.
    """
    if not path.is_file():
        raise PackageError(f"{path}: archive not found.")
    status = path.stat()
    found = _memoized_sha256(str(path.resolve()), status.st_size, status.st_mtime_ns)
    if sha256 is not None:
        expected = normalize_sha256(sha256)
        if found != expected:
            raise HashMismatchError(
                f"{path}: expected sha256 {expected} but found {found}; the archive was "
                "not opened. Check that it is the file you meant, or the sha256."
            )
    extracted = cache_dir() / found / _EXTRACTED
    if not extracted.is_dir():
        with _cache_in_use():
            return _extract_once(path, extracted, version=None)
    return _open_extracted(str(extracted))


@lru_cache(maxsize=32)
def _memoized_sha256(path: str, size: int, mtime_ns: int) -> str:
    # Size and modification time in the key: a rewritten file is hashed afresh.
    return file_sha256(Path(path))


def file_sha256(path: Path) -> str:
    """sha256 hex digest of a file."""
    with path.open("rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()


def fetch_release(
    version: str, *, sha256: str | None = None, progress: DownloadProgress | None = None
) -> Path:
    """Path of the verified archive of a release, downloading it if needed.

    A cached archive is hashed again before it is returned. ``sha256`` is needed only
    for a release this installation's registry does not know yet.
    """
    digest = release_hash(version, sha256)
    with _cache_in_use():
        return _fetch(
            release_url(version),
            digest,
            ARCHIVE_NAME.format(version=version),
            version=version,
            progress=progress,
        )


def download_release(
    version: str,
    out: Path | None = None,
    *,
    sha256: str | None = None,
    progress: DownloadProgress | None = None,
) -> Path:
    """Download a release archive (verified, cached) and copy it into ``out`` if given.

    Parameters
    ----------
    version : str
        A registered version ``X.Y.Z``.
    out : pathlib.Path, optional
        Folder to copy the archive into; by default the cached archive is returned.
    sha256 : str, optional
        The archive's sha256, for a release newer than this installation's registry.
    progress : DownloadProgress, optional
        A tqdm-like progress bar that pooch advances while downloading.

    Returns
    -------
    pathlib.Path
        The archive: in ``out``, or in the cache.

    Examples
    --------
    >>> from relations_data.remote import download_release
    >>> download_release("1.0.0", out=Path("downloads"))  # doctest: +SKIP
    PosixPath('downloads/relations-data-1.0.0.zip')
    """
    archive = fetch_release(version, sha256=sha256, progress=progress)
    if out is None:
        return archive
    target = out / archive.name
    try:
        with atomic_path(target, suffix=".zip") as temporary:
            shutil.copyfile(archive, temporary)
    except OSError as error:
        raise DownloadError(
            f"{target}: cannot be written ({error.strerror or error}); the verified archive "
            f"stays in the cache at {archive}."
        ) from None
    return target


def _open_archive(
    url: str,
    digest: str,
    *,
    name: str,
    version: str | None,
    progress: DownloadProgress | None,
) -> DataPackage:
    extracted = cache_dir() / digest / _EXTRACTED
    if not extracted.is_dir():
        with _cache_in_use():
            archive = _fetch(url, digest, name, version=version, progress=progress)
            return _extract_once(archive, extracted, version=version)
    return _open_extracted(str(extracted))


def _is_cache_temporary(path: Path) -> bool:
    # Ours, and the files pooch downloads into before checking the hash (tmp…).
    return path.name.startswith(TEMP_PREFIX) or (path.name.startswith("tmp") and path.is_file())


def _cache_in_use() -> contextlib.AbstractContextManager[None]:
    """Hold the cache while downloading or extracting into it; first remove what a
    killed process left there (see :mod:`relations_data.locks`)."""
    return holding_temporaries(cache_dir(), _is_cache_temporary, nested=True)


@lru_cache(maxsize=32)
def _open_extracted(folder: str) -> DataPackage:
    # Safe to memoise: a cache folder's contents are fixed by the hash in its name.
    return open_package(Path(folder))


@contextlib.contextmanager
def _quiet_pooch() -> Iterator[None]:
    # pooch logs every download (its URL, credentials included) to stderr through its
    # own logger object, which logging.getLogger("pooch") does not return.
    import pooch

    logger = pooch.get_logger()
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


def _fetch(
    url: str, digest: str, name: str, *, version: str | None, progress: DownloadProgress | None
) -> Path:
    import pooch

    folder = cache_dir() / digest
    existed = folder.is_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise DownloadError(
            f"Cannot write to the cache folder {folder.parent} ({_reason(error)}); set "
            f"{CACHE_ENV} to a writable folder."
        ) from None
    downloader = _HashingDownloader(_BoundedDownloader(progress, max_download_bytes()))
    shown = redact(url)
    try:
        with _quiet_pooch():
            path = pooch.retrieve(
                url, known_hash=f"sha256:{digest}", fname=name, path=folder, downloader=downloader
            )
    except DownloadError as error:
        if not existed:
            _remove_if_empty(folder)
        raise DownloadError(f"Could not download {shown}: {error}") from None
    except ValueError as error:
        if not existed:
            _remove_if_empty(folder)
        found = downloader.found
        if found is None or found == digest:
            raise DownloadError(f"Could not download {shown}: {redact(str(error))}") from None
        raise HashMismatchError(
            f"{shown}: expected sha256 {digest} but the download has sha256 "
            f"{found}; the download was deleted and nothing was cached. "
            f"{_hint(version)}"
        ) from None
    except OSError as error:  # requests' exceptions are OSErrors
        if not existed:
            _remove_if_empty(folder)
        raise DownloadError(
            f"Could not download {shown} ({_reason(error)}) and no cached copy exists in "
            f"{folder.parent}. Check the network connection, or set {MIRROR_ENV} to the "
            f"base URL of a mirror serving {ARCHIVE_NAME.format(version=version or 'X.Y.Z')}."
        ) from None
    with contextlib.suppress(OSError):  # pooch's temporary file was private (0600)
        Path(path).chmod(umask_mode())
    return Path(path)


class _BoundedDownloader:
    """An HTTP(S) download into ``output_file`` that stops at ``limit`` bytes.

    pooch's own downloader writes whatever a server sends, decompressing a gzip body
    on the way, so a hostile or broken mirror could fill the disk. This one asks for
    the identity encoding, refuses an announced ``Content-Length`` over the limit
    before reading the body, and counts the bytes it writes (after any decoding).
    It drives a progress bar as pooch does (``total``, ``update``, ``reset``, ``close``).
    """

    def __init__(self, progress: DownloadProgress | None, limit: int) -> None:
        self._progress = progress
        self._limit = limit

    def _too_large(self, what: str) -> DownloadError:
        return DownloadError(
            f"the server {what} more than {self._limit} bytes, the download limit; nothing "
            f"was kept. Set {MAX_DOWNLOAD_ENV} to a larger number of bytes if that is expected"
        )

    def __call__(self, url: str, output_file: str, pooch: object, **options: object) -> None:
        import requests

        headers = {"Accept-Encoding": "identity"}
        with requests.get(url, stream=True, timeout=DOWNLOAD_TIMEOUT, headers=headers) as response:
            response.raise_for_status()
            length = response.headers.get("Content-Length", "")
            announced = int(length) if length.isdigit() else 0
            if announced > self._limit:
                raise self._too_large(f"announced {announced} bytes,")
            progress = self._progress
            if progress is not None:
                progress.total = announced
            written = 0
            with Path(output_file).open("wb") as sink:
                for chunk in response.iter_content(chunk_size=64 * 1024):
                    written += len(chunk)
                    if written > self._limit:
                        raise self._too_large("sent")
                    sink.write(chunk)
                    if progress is not None:
                        progress.update(len(chunk))
            if progress is not None:
                progress.reset()
                progress.update(announced or written)
                progress.close()


class _HashingDownloader:
    """pooch's HTTP downloader, keeping the sha256 of the file it wrote.

    pooch checks the hash itself and raises a bare ``ValueError`` when it differs (and
    deletes the file). The digest kept here tells that case (a complete download with
    another hash) from any other failure without reading pooch's message.
    """

    def __init__(self, inner: Callable[..., object]) -> None:
        self._inner = inner
        self.found: str | None = None

    def __call__(self, url: str, output_file: str, pooch: object, **options: object) -> object:
        self.found = None
        result = self._inner(url, output_file, pooch, **options)
        if not options.get("check_only"):
            self.found = file_sha256(Path(output_file))
        return result


def _hint(version: str | None) -> str:
    if version is None:
        return "Check the URL and the sha256 argument."
    return f"Check that {MIRROR_ENV}, if set, points at a faithful mirror, and try again."


def _reason(error: OSError) -> str:
    text = str(error).strip() or type(error).__name__
    return redact(text.splitlines()[0][:300])


def _remove_if_empty(folder: Path) -> None:
    with contextlib.suppress(OSError):  # not empty or already gone: leave it
        folder.rmdir()


def _extract_once(archive: Path, extracted: Path, *, version: str | None) -> DataPackage:
    """Extract into a temporary folder beside ``extracted``, check it, then rename.

    A cache that cannot be written (read-only, another user's) is not an error: the
    archive is then extracted into a private temporary folder, removed at exit.
    """
    try:
        extracted.parent.mkdir(parents=True, exist_ok=True)
        temporary = Path(tempfile.mkdtemp(prefix=f"{TEMP_PREFIX}extract.", dir=extracted.parent))
    except OSError:
        return _checked(open_package(archive), archive, version)
    try:
        extract_zip(archive, temporary)
        try:
            package = open_package(temporary)
        except PackageError as error:
            raise ArchiveError(
                f"{archive}: not a valid data package ({error}); it was not cached."
            ) from None
        _checked(package, archive, version)
        temporary.chmod(umask_mode(folder=True))  # mkdtemp made it private (0700)
        try:
            temporary.rename(extracted)
        except OSError:
            if not extracted.is_dir():  # another process may have won the race
                raise
    except (ArchiveError, PackageError):
        # A verified download that is no data package is of no use: keep nothing.
        remove_tree(extracted.parent)
        raise
    finally:
        remove_tree(temporary)
    return _open_extracted(str(extracted))


def _checked(package: DataPackage, archive: Path, version: str | None) -> DataPackage:
    """``package`` if it is a complete data package of ``version``, else ArchiveError."""
    missing = [r.relpath for r in package.resources if not r.path.is_file()]
    if missing:
        raise ArchiveError(
            f"{archive}: not a valid data package: the descriptor lists "
            f"{', '.join(missing)} but the archive lacks them; it was not cached."
        )
    if version is not None and package.version != version:
        raise ArchiveError(
            f"{archive}: expected a data package of version {version} but found "
            f"version {package.version!r}; it was not cached."
        )
    return package
