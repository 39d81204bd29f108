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
    DownloadError,
    HashMismatchError,
    PackageError,
    RelationsDataError,
    ReleaseError,
    UnknownTableError,
    UnknownVersionError,
    UnsafePathError,
    ValidationError,
)

if TYPE_CHECKING:
    from .loader import TableName, load, scan, tables

__all__ = [
    "ArchiveError",
    "DownloadError",
    "HashMismatchError",
    "PackageError",
    "RelationsDataError",
    "ReleaseError",
    "TableName",
    "UnknownTableError",
    "UnknownVersionError",
    "UnsafePathError",
    "ValidationError",
    "__version__",
    "load",
    "scan",
    "tables",
]

# Public name -> module that defines it; imported on first access (PEP 562).
_LAZY = {
    "TableName": "loader",
    "load": "loader",
    "scan": "loader",
    "tables": "loader",
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
