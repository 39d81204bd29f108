"""relations-data: a source-cited dataset of Russia–Cambodia relations, loaded with Polars.

>>> import relations_data as rd
>>> events = rd.load("events")

Heavy dependencies load only when used: ``import relations_data`` imports neither
frictionless, pandera nor pooch.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from .errors import (
    ArchiveError,
    ArgumentError,
    DownloadError,
    ExportError,
    HashMismatchError,
    PackageError,
    RelationsDataError,
    ReleaseError,
    SiteError,
    UnknownRecordError,
    UnknownTableError,
    UnknownVersionError,
    UnsafePathError,
    ValidationError,
)

if TYPE_CHECKING:
    from .diff import PackageDiff, diff_packages
    from .export import export
    from .loader import Package, TableName, load, load_package, scan, tables
    from .records import evidence
    from .release import BuiltRelease, build_release
    from .site import BuiltSite, build_site
    from .validation import Finding, Report, validate
    from .versioning import Bump, ReleaseCheck, check_release

__all__ = [
    "ArchiveError",
    "ArgumentError",
    "BuiltRelease",
    "BuiltSite",
    "Bump",
    "DownloadError",
    "ExportError",
    "Finding",
    "HashMismatchError",
    "Package",
    "PackageDiff",
    "PackageError",
    "RelationsDataError",
    "ReleaseCheck",
    "ReleaseError",
    "Report",
    "SiteError",
    "TableName",
    "UnknownRecordError",
    "UnknownTableError",
    "UnknownVersionError",
    "UnsafePathError",
    "ValidationError",
    "__version__",
    "build_release",
    "build_site",
    "check_release",
    "diff_packages",
    "evidence",
    "export",
    "load",
    "load_package",
    "scan",
    "tables",
    "validate",
]

# Public name -> module that defines it; imported on first access (PEP 562).
_LAZY = {
    "BuiltRelease": "release",
    "BuiltSite": "site",
    "Bump": "versioning",
    "Finding": "validation",
    "Package": "loader",
    "PackageDiff": "diff",
    "ReleaseCheck": "versioning",
    "Report": "validation",
    "TableName": "loader",
    "build_release": "release",
    "build_site": "site",
    "check_release": "versioning",
    "diff_packages": "diff",
    "evidence": "records",
    "export": "export",
    "load": "loader",
    "load_package": "loader",
    "scan": "loader",
    "tables": "loader",
    "validate": "validation",
}


def __getattr__(name: str) -> Any:
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("relations-data")
        except PackageNotFoundError:  # running from a source tree without installing
            from .package import open_package

            return open_package().version
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'relations_data' has no attribute {name!r}")
    return getattr(import_module(f".{module}", __name__), name)


def __dir__() -> list[str]:
    return sorted(__all__)
