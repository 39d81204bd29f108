"""Release version numbers ``X.Y.Z``: the one parser every module uses.

Releases are numbered with exactly three non-negative integers (no pre-releases, no
local parts); :mod:`packaging.version` would accept ``1.0``, ``1.0rc1`` or ``v1``, which
this dataset's registry, archive names and version rules do not allow, so a version is
checked here and compared as a tuple of integers.
"""

from __future__ import annotations

import re

_VERSION = re.compile(r"([0-9]+)\.([0-9]+)\.([0-9]+)")


def parse_version(text: str) -> tuple[int, int, int] | None:
    """The three numbers of a version ``X.Y.Z``, or ``None`` when ``text`` is not one.

    Examples
    --------
    >>> parse_version("1.10.0")
    (1, 10, 0)
    >>> parse_version("1.0") is None
    True
    """
    match = _VERSION.fullmatch(text)
    if match is None:
        return None
    return int(match[1]), int(match[2]), int(match[3])


def is_version(text: str) -> bool:
    """Whether ``text`` is a version ``X.Y.Z``."""
    return parse_version(text) is not None


def version_key(version: str) -> tuple[int, int, int]:
    """Sort key of a version ``X.Y.Z`` (``1.10.0`` after ``1.9.0``); ``ValueError`` otherwise."""
    parsed = parse_version(version)
    if parsed is None:
        raise ValueError(f"expected a version 'X.Y.Z' but found {version!r}")
    return parsed
