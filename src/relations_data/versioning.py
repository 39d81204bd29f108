"""Version numbers and the release check: is a package's version bumped far enough?

Which bump a change needs is decided in :mod:`.changes`; the changes themselves come from
:func:`~relations_data.diff.diff_packages`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .changes import Bump, Change, decisive_change
from .diff import diff_packages
from .errors import ReleaseError
from .package import bundled_root, open_package
from .registry import read_registry, registry_file
from .semver import parse_version, version_key

__all__ = ["Bump", "Change", "ReleaseCheck", "check_release", "next_version", "version_bump"]


def version_bump(old: str, new: str) -> Bump | None:
    """The bump from ``old`` to ``new`` (``NONE`` if equal), or ``None`` if it goes backwards.

    Examples
    --------
    >>> version_bump("1.2.3", "1.3.0").label
    'minor'
    >>> version_bump("1.2.3", "1.2.2") is None
    True
    """
    before, after = _semver(old), _semver(new)
    if after < before:
        return None
    if after == before:
        return Bump.NONE
    if after[0] > before[0]:
        return Bump.MAJOR
    if after[1] > before[1]:
        return Bump.MINOR
    return Bump.PATCH


def next_version(version: str, bump: Bump) -> str:
    """The smallest version after ``version`` that makes ``bump``.

    Examples
    --------
    >>> next_version("1.2.3", Bump.MINOR)
    '1.3.0'
    """
    major, minor, patch = _semver(version)
    if bump is Bump.MAJOR:
        return f"{major + 1}.0.0"
    if bump is Bump.MINOR:
        return f"{major}.{minor + 1}.0"
    if bump is Bump.PATCH:
        return f"{major}.{minor}.{patch + 1}"
    return version


def _semver(version: str) -> tuple[int, int, int]:
    parsed = parse_version(version)
    if parsed is None:
        raise ReleaseError(f"expected a version 'X.Y.Z' but found {version!r}.")
    return parsed


@dataclass(frozen=True)
class ReleaseCheck:
    """Whether a package's version is bumped far enough for its changes since a release."""

    against: str | None
    old_version: str | None
    new_version: str
    required: Bump
    made: Bump | None
    changes: tuple[Change, ...]

    @property
    def ok(self) -> bool:
        if self.against is None:
            return True
        if self.made is None:
            return False
        return self.made >= self.required

    @property
    def reason(self) -> str:
        """One sentence: the verdict and, when it fails, the change that needs the bump."""
        if self.against is None or self.old_version is None:
            return f"No earlier release to compare with; {self.new_version} is the first."
        if self.made is None:
            return (
                f"datapackage.json version {self.new_version} goes backwards from "
                f"{self.old_version} ({self.against}); expected a later version."
            )
        needed = decisive_change(self.changes)
        if self.required is Bump.NONE:
            return f"No changes since {self.old_version} ({self.against}); no bump needed."
        assert needed is not None
        made = "no bump" if self.made is Bump.NONE else f"a {self.made.label} bump"
        verdict = "OK" if self.ok else "NOT ENOUGH"
        text = (
            f"{verdict}: {self.old_version} → {self.new_version} is {made}; the changes since "
            f"{self.against} need a {self.required.label} bump, because of {needed}."
        )
        if not self.ok:
            text += f" Expected version {next_version(self.old_version, self.required)} or later."
        return text

    def to_text(self) -> str:
        lines = [self.reason]
        if self.changes:
            lines.append("Changes, largest bump first:")
            ordered = sorted(self.changes, key=lambda c: c.bump, reverse=True)
            lines.extend(f"  [{c.bump.label}] {c}" for c in ordered)
        return "\n".join(lines) + "\n"


def check_release(
    source: str | Path | None = None, against: str | Path | None = None
) -> ReleaseCheck:
    """Check that a package's version is bumped at least as far as its changes require.

    Parameters
    ----------
    source
        The new package (folder or descriptor); ``None`` for the bundled copy.
    against
        The earlier package: a released version, a folder, a descriptor, a ``.zip`` or
        ``git:REF``. By default the latest version in the release registry, fetched
        through the loader's verified cache; with an empty registry there is nothing to
        compare and the check passes.

    Returns
    -------
    ReleaseCheck
        ``ok`` is false when the version is not bumped far enough, goes backwards, or
        stays equal while the data changed.
    """
    new = open_package(bundled_root() if source is None else source)
    _semver(new.version)
    if against is None:
        released = read_registry(registry_file(new.root))
        if not released:
            return ReleaseCheck(None, None, new.version, Bump.NONE, None, ())
        against = max(released, key=version_key)
    diff = diff_packages(against, new, where=new.root)
    return ReleaseCheck(
        against=str(against),
        old_version=diff.old_version,
        new_version=new.version,
        required=diff.bump,
        made=version_bump(diff.old_version, new.version),
        changes=diff.changes,
    )
