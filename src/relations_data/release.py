"""Building the release archive: one reproducible zip per version, and its registry line.

``relations-data-<version>.zip`` is a zipped Data Package: ``datapackage.json`` at the
archive's root (so ``frictionless validate relations-data-<version>.zip`` reads it), with
``bytes`` and ``hash`` of every resource, the CSVs, a Parquet copy of
every table typed as the loader types it, the Table Schemas, and the documents found in
the package root. Building twice from the same files gives the same bytes: entries are
sorted and carry a fixed timestamp, fixed permissions, a fixed compression level and no
extra fields, and the Parquet writer's options are set explicitly.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import re
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from .atomic import atomic_write_bytes
from .errors import ReleaseError, ValidationError
from .package import DESCRIPTOR_NAME, DataPackage, Resource, bundled_root, open_package
from .registry import parse_registry, record_release_locked, registry_file, registry_lock
from .semver import is_version

#: Name stem of every release archive and of its top folder.
ARCHIVE_STEM = "relations-data"
#: Documents copied from the package root when present (the codebook is optional).
DOCUMENTS = ("README.md", "CHANGELOG.md", "LICENSE", "LICENSE-DATA", "docs/codebook.md")
#: Documents a release should not lack; a build without them says so.
EXPECTED_DOCUMENTS = ("README.md", "CHANGELOG.md", "LICENSE", "LICENSE-DATA")
#: Folder of the Parquet copies inside the archive.
PARQUET_DIR = "parquet"
# The earliest time a zip header can hold; any fixed value makes builds repeatable.
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_FILE_MODE = stat.S_IFREG | 0o644
_UNIX = 3
_DEFLATE_LEVEL = 9
# Parquet options are spelled out so that a new default in Polars cannot change bytes.
_PARQUET_OPTIONS: dict[str, Any] = {
    "compression": "zstd",
    "compression_level": 9,
    "statistics": True,
    "row_group_size": 1_000_000,
}


@dataclass(frozen=True)
class BuiltRelease:
    """What ``build_release`` wrote."""

    version: str
    archive: Path
    sha256: str
    checksum_file: Path
    entries: tuple[str, ...]
    #: Registry file the ``<version> sha256:<hex>`` line went to, if any.
    registry: Path | None
    #: Things a maintainer should look at before tagging (missing documents, ...).
    warnings: tuple[str, ...]

    @property
    def registry_line(self) -> str:
        return f"{self.version} sha256:{self.sha256}"


def archive_name(version: str) -> str:
    """File name of the release archive of ``version``.

    Examples
    --------
    >>> archive_name("1.0.0")
    'relations-data-1.0.0.zip'
    """
    return f"{ARCHIVE_STEM}-{version}.zip"


def validate_for_release(package: DataPackage) -> None:
    """Refuse to release data that either validation engine (Polars, Frictionless) rejects."""
    from .validation import validate

    report = validate(package)
    if not report.valid:
        raise ValidationError(
            f"{package.descriptor_path}: expected valid data for release {package.version} "
            f"but validation found {len(report.findings)} problem(s); no archive was "
            f"written. Run 'relations-data validate {package.root}' to see them."
        )


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def parquet_bytes(resource: Resource, package: DataPackage) -> bytes:
    """The table of ``resource`` as Parquet, typed exactly as ``relations_data.load`` types it."""
    from .loader import TableName, load

    frame = load(cast(TableName, resource.name), source=package.root)
    buffer = io.BytesIO()
    frame.write_parquet(buffer, **_PARQUET_OPTIONS)
    return buffer.getvalue()


def release_descriptor(package: DataPackage, contents: dict[str, bytes]) -> bytes:
    """The descriptor as shipped: every resource gains ``bytes`` and ``hash`` of its file."""
    descriptor = json.loads(package.descriptor_path.read_bytes())
    by_name = {r.name: r for r in package.resources}
    for raw in descriptor["resources"]:
        data = contents[by_name[raw["name"]].relpath]
        raw["bytes"] = len(data)
        raw["hash"] = f"sha256:{_sha256(data)}"
    return (json.dumps(descriptor, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def release_contents(package: DataPackage) -> tuple[dict[str, bytes], tuple[str, ...]]:
    """Every file of the archive by its path inside the top folder, and what is missing."""
    contents: dict[str, bytes] = {}
    for resource in package.resources:
        contents[resource.relpath] = resource.path.read_bytes()
        if resource.schema_relpath is not None:
            contents[resource.schema_relpath] = (
                package.root / resource.schema_relpath
            ).read_bytes()
        contents[f"{PARQUET_DIR}/{resource.name}.parquet"] = parquet_bytes(resource, package)
    for document in DOCUMENTS:
        path = package.root / document
        if path.is_file():
            contents[document] = path.read_bytes()
    contents[DESCRIPTOR_NAME] = release_descriptor(package, contents)
    missing = tuple(d for d in EXPECTED_DOCUMENTS if d not in contents)
    return contents, missing


def reproducible_zip(files: dict[str, bytes]) -> bytes:
    """A zip of ``files`` (archive name -> bytes) that depends on nothing but its input."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as bundle:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = _UNIX
            info.external_attr = _FILE_MODE << 16
            bundle.writestr(info, files[name], compresslevel=_DEFLATE_LEVEL)
    return buffer.getvalue()


def _changelog_warning(package: DataPackage, contents: dict[str, bytes]) -> list[str]:
    changelog = contents.get("CHANGELOG.md")
    if changelog is None:
        return []
    if re.search(rf"^#+ .*\b{re.escape(package.version)}\b", changelog.decode("utf-8"), re.M):
        return []
    return [f"CHANGELOG.md has no heading for version {package.version}."]


def _check_registry(version: str, digest: str, registry: Path, *, replace: bool) -> None:
    known = parse_registry(registry.read_text("utf-8"), str(registry)) if registry.exists() else {}
    previous = known.get(version)
    if previous is not None and previous != digest and not replace:
        raise ReleaseError(
            f"{registry}: version {version} is already recorded as sha256:{previous}, but this "
            f"build gives sha256:{digest}; the registry was left unchanged. A published version "
            "must never change: bump the version, or pass --replace if it was never published."
        )


def build_release(
    source: str | Path | None = None,
    out: Path = Path("dist"),
    *,
    registry: Path | None = None,
    record: bool = True,
    replace: bool = False,
) -> BuiltRelease:
    """Validate a data package and write its release archive and checksum file.

    Parameters
    ----------
    source
        The package: ``None`` for the bundled copy (the repository in a source checkout),
        a folder or a ``datapackage.json``.
    out
        Folder for ``relations-data-<version>.zip`` and ``relations-data-<version>.zip.sha256``.
    registry
        Registry file to record ``<version> sha256:<hex>`` in; by default the source
        checkout's ``src/relations_data/releases.txt`` when the package root is a checkout,
        otherwise nothing is recorded.
    record
        ``False`` builds without touching any registry.
    replace
        Allow replacing a different hash already recorded for this version (only for a
        version that was never published).

    Returns
    -------
    BuiltRelease
        Paths, sha256 and archive entries.

    Raises
    ------
    ValidationError
        The data is invalid; nothing is written.
    ReleaseError
        The version is not ``X.Y.Z``, or the registry already holds another hash for it.
    """
    package = open_package(bundled_root() if source is None else source)
    version = package.version
    if not is_version(version):
        raise ReleaseError(
            f"{package.descriptor_path}: expected a version 'X.Y.Z' but found {version!r}."
        )
    validate_for_release(package)
    archive = Path(out) / archive_name(version)
    checksum_file = archive.with_name(archive.name + ".sha256")
    # Outside a checkout, with no registry named, nothing is recorded.
    target_registry = (registry or registry_file(package.root)) if record else None
    with contextlib.ExitStack() as stack:
        if target_registry is not None:
            # Held from the check to the recording: concurrent builds lose no line.
            stack.enter_context(registry_lock(target_registry))
        try:
            contents, missing = release_contents(package)
            # At the root, not under a folder: tools open a zipped Data Package by its
            # root descriptor. Archives up to 1.0.0 hold one folder; open_package reads both.
            files = dict(contents)
            data = reproducible_zip(files)
            digest = _sha256(data)
            if target_registry is not None:
                _check_registry(version, digest, target_registry, replace=replace)
            atomic_write_bytes(archive, data)
            atomic_write_bytes(checksum_file, f"{digest}  {archive.name}\n".encode())
            if target_registry is not None:
                record_release_locked(version, digest, target_registry)
        except OSError as error:
            raise ReleaseError(
                f"{archive}: the release cannot be written ({error.strerror or error}); "
                "nothing was recorded."
            ) from None
    warnings = [f"{name} is missing from the package root." for name in missing]
    warnings += _changelog_warning(package, contents)
    return BuiltRelease(
        version=version,
        archive=archive,
        sha256=digest,
        checksum_file=checksum_file,
        entries=tuple(sorted(files)),
        registry=target_registry,
        warnings=tuple(warnings),
    )
