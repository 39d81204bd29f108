"""Which Data Package standard a descriptor declares, and what v1 does not allow.

frictionless 5 reads a package's ``$schema``: a datapackage.org profile URL names the
version (``/profiles/2.0/`` is v2), no ``$schema`` means v1, and any other URL an
unknown version that accepts both. Under v1 it refuses the whole descriptor when a field
uses what v2 added (exclusive bounds, missing values written as objects); the Polars
engine refuses it the same way, so that both engines give one verdict.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Literal
from urllib.parse import urlparse

from ..errors import PackageError
from ..messages import quoted
from ..package import DataPackage

Version = Literal["v1", "v2", "unknown"]
_PROFILE = re.compile(r"/profiles/(\d+)\.\d+/")


def standard_profile(value: object) -> str | None:
    """``value`` if it is a datapackage.org standard profile URL, else ``None``."""
    if not isinstance(value, str):
        return None
    url = urlparse(value)
    if url.scheme == "https" and url.netloc == "datapackage.org" and _PROFILE.search(url.path):
        return value
    return None


def standard_version(descriptor: Mapping[str, Any]) -> Version:
    """The standard version ``descriptor`` declares, as frictionless 5 resolves it."""
    declared = descriptor.get("$schema")
    if not declared:
        return "v1"
    profile = standard_profile(declared)
    match = _PROFILE.search(urlparse(profile).path) if profile else None
    if match and match.group(1) in ("1", "2"):
        return "v1" if match.group(1) == "1" else "v2"
    return "unknown"


def _repeated_missing_values(entries: list[Any]) -> list[str]:
    """Values or labels repeated among missing values written as objects (v2 requires
    both unique; plain texts may repeat)."""
    if not any(isinstance(entry, Mapping) for entry in entries):
        return []
    values = [str(e.get("value")) if isinstance(e, Mapping) else str(e) for e in entries]
    labels = [str(e["label"]) for e in entries if isinstance(e, Mapping) and "label" in e]
    return sorted(
        {v for v in values if values.count(v) > 1} | {x for x in labels if labels.count(x) > 1}
    )


def check_version_gates(package: DataPackage) -> None:
    """Refuse, as frictionless does, v2 additions in a package that is v1, and missing
    values written as objects whose values or labels repeat."""
    for resource in package.resources:
        for field in resource.schema.fields:
            repeated = _repeated_missing_values(list(field.descriptor.get("missingValues") or []))
            if repeated:
                raise PackageError(
                    f"{package.descriptor_path}: field {quoted(field.name)} of "
                    f"{quoted(resource.name)}: missing values written as objects need unique "
                    f"values and labels, found {quoted(repeated)} more than once."
                )
    if standard_version(package.descriptor) != "v1":
        return
    for resource in package.resources:
        for field in resource.schema.fields:
            raw = field.descriptor
            constraints = raw.get("constraints")
            added = [
                name
                for name in ("exclusiveMinimum", "exclusiveMaximum")
                if isinstance(constraints, Mapping) and name in constraints
            ]
            if any(isinstance(v, Mapping) for v in raw.get("missingValues") or []):
                added.append("missingValues in object form")
            if added:
                raise PackageError(
                    f"{package.descriptor_path}: field {quoted(field.name)} of "
                    f"{quoted(resource.name)} uses {', '.join(added)}, which Data Package "
                    'v2 added; declare "$schema": '
                    '"https://datapackage.org/profiles/2.0/datapackage.json" (frictionless '
                    "refuses it under v1 too)."
                )
