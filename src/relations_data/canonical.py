"""The one canonical form of every CSV, produced by ``relations-data fmt``.

UTF-8 without byte-order mark, LF line ends, a header row in schema order, rows sorted by
primary key, minimal quoting, and no leading or trailing spaces in cells. Values are
read and written as text, so a number or date keeps exactly the spelling it had.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from .atomic import atomic_write_bytes
from .csv_reader import read_text_table
from .errors import PackageError
from .package import DataPackage, Resource, open_package

# read_text_table is re-exported: callers that format or compare read with it.
__all__ = [
    "FormatResult",
    "canonical_bytes",
    "canonical_frame_bytes",
    "format_package",
    "read_text_table",
]


def canonical_bytes(resource: Resource) -> bytes:
    """The canonical form of a resource's CSV."""
    return canonical_frame_bytes(read_text_table(resource), resource.schema.primary_key)


def canonical_frame_bytes(frame: pl.DataFrame, primary_key: tuple[str, ...] = ()) -> bytes:
    """The canonical CSV of a frame already read as text (as
    :func:`~relations_data.csv_reader.read_text_table` does).

    The validator reuses the frame it has read instead of parsing the file again.
    """
    frame = frame.with_columns(pl.all().str.strip_chars(" \t\r\n"))
    frame = frame.with_columns(
        pl.when(pl.all().str.len_bytes() == 0).then(None).otherwise(pl.all()).name.keep()
    )
    key = list(primary_key) or list(frame.columns)
    frame = frame.sort(key, nulls_last=False, maintain_order=True)
    text = frame.write_csv(line_terminator="\n", quote_style="necessary", null_value="")
    return text.encode("utf-8")


@dataclass(frozen=True)
class FormatResult:
    """Which files were (or, with ``check``, would be) rewritten."""

    changed: tuple[Path, ...]
    checked: tuple[Path, ...]


def format_package(
    source: str | Path | DataPackage | None = None, *, check: bool = False
) -> FormatResult:
    """Rewrite every CSV of a package in canonical form; with ``check``, only report."""
    package = source if isinstance(source, DataPackage) else open_package(source)
    # Every file is formatted before any is written, so a malformed table leaves all intact.
    rewrites = {r.path: canonical_bytes(r) for r in package.resources}
    changed = [path for path, canonical in rewrites.items() if path.read_bytes() != canonical]
    if not check:
        for path in changed:
            # Staged in the package root: a temporary never shows inside data/.
            try:
                atomic_write_bytes(path, rewrites[path], staging=package.root)
            except OSError as error:
                raise PackageError(
                    f"{path}: cannot be written ({error.strerror or error}); it was left as is."
                ) from None
    return FormatResult(changed=tuple(changed), checked=tuple(r.path for r in package.resources))
