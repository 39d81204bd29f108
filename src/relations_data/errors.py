"""The library's exceptions: one small hierarchy, so callers can catch one base class.

Messages follow pooch's style: what was expected, what was found, and what was done.
"""

from __future__ import annotations


class RelationsDataError(Exception):
    """Base class of every error this library raises on purpose."""


class PackageError(RelationsDataError):
    """A data package cannot be used: unreadable descriptor, missing file, bad encoding."""


class RaggedTableError(PackageError):
    """A CSV row holds more or fewer cells than the Table Schema has fields.

    Every command that needs an exact table refuses it; ``validate`` reads the file
    again record by record and reports ``extra-cell`` / ``missing-cell`` findings, as
    frictionless does."""


class UnsafePathError(PackageError):
    """A resource path or archive entry would reach outside the package."""


class ArchiveError(PackageError):
    """A release archive is not a safe, valid zip holding a data package."""


class UnknownTableError(RelationsDataError, KeyError):
    """A table name that is not a resource of the data package."""

    def __str__(self) -> str:  # KeyError quotes its message; show it plainly
        return str(self.args[0]) if self.args else ""


class UnknownRecordError(RelationsDataError, KeyError):
    """A record id that no table of the data package holds."""

    def __str__(self) -> str:  # KeyError quotes its message; show it plainly
        return str(self.args[0]) if self.args else ""


class UnknownVersionError(RelationsDataError):
    """A version that is not in the registry of released versions."""


class DownloadError(RelationsDataError):
    """A release archive could not be downloaded and no cached copy exists."""


class HashMismatchError(RelationsDataError):
    """A downloaded or cached file does not match its known sha256."""


class ValidationError(RelationsDataError):
    """Data failed validation where valid data is required (e.g. building a release)."""


class ReleaseError(RelationsDataError):
    """A release cannot be built or its version bump is insufficient."""


class ExportError(RelationsDataError):
    """An export cannot be written: a missing optional dependency or an unusable target."""


class SiteError(RelationsDataError):
    """The static site cannot be built: a missing optional dependency or unusable target."""


class ArgumentError(RelationsDataError, ValueError):
    """Arguments that contradict each other or are malformed (e.g. a bad sha256)."""
