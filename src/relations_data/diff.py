"""What changed between two versions of the data package, row by row and field by field.

Either side is a released version (fetched through the loader's verified cache), a
folder, a ``datapackage.json``, a release ``.zip`` or ``git:REF`` (the package as
committed at a git revision, read with ``git archive`` without any network). Rows are
matched by primary key and compared as the text stored in the CSV, so every edit shows.
"""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from .changes import Bump, Change, compare_packages, required_bump, row_changes
from .csv_reader import read_text_table
from .errors import PackageError
from .moves import Move, find_moves
from .package import DataPackage, Resource, open_package
from .semver import is_version

#: Prefix of a git revision given as a package reference: ``git:origin/main``.
GIT_PREFIX = "git:"
_SUFFIX = "__new"
Key = tuple[str | None, ...]


@dataclass(frozen=True)
class CellChange:
    """One field of one row whose value differs."""

    field: str
    old: str | None
    new: str | None


@dataclass(frozen=True)
class RowChange:
    """A row present on both sides (same primary key) with at least one changed field."""

    key: Key
    cells: tuple[CellChange, ...]


@dataclass(frozen=True)
class TableDiff:
    """Rows added, removed and changed in one table, matched on ``key``."""

    table: str
    key: tuple[str, ...]
    added: tuple[Key, ...]
    removed: tuple[Key, ...]
    changed: tuple[RowChange, ...]
    note: str = ""

    @property
    def is_empty(self) -> bool:
        return not (self.added or self.removed or self.changed)

    def changes(self) -> list[Change]:
        """The version bumps these row changes need."""
        return row_changes(
            self.table,
            self.key,
            added=len(self.added),
            removed=len(self.removed),
            changed=len(self.changed),
        )


@dataclass(frozen=True)
class PackageDiff:
    """Differences between an old and a new data package."""

    old_label: str
    new_label: str
    old_version: str
    new_version: str
    schema_changes: tuple[Change, ...]
    tables: tuple[TableDiff, ...]
    #: Where the values of removed tables and columns went (e.g. a table renamed).
    moves: tuple[Move, ...] = ()

    @property
    def changes(self) -> tuple[Change, ...]:
        """Schema and metadata changes, then row changes, each with the bump it needs."""
        rows = [change for table in self.tables for change in table.changes()]
        return (*self.schema_changes, *rows)

    @property
    def bump(self) -> Bump:
        """The smallest version bump that covers every change."""
        return required_bump(self.changes)

    @property
    def is_empty(self) -> bool:
        return not self.changes

    def to_text(self, limit: int | None = 20) -> str:
        """For people at a terminal; at most ``limit`` rows of each kind per table."""
        return render_text(self, limit)

    def to_markdown(self, limit: int | None = 20) -> str:
        """A section ready to paste into ``CHANGELOG.md``."""
        return render_markdown(self, limit)


def package_at_git_ref(ref: str, where: Path | None = None) -> DataPackage:
    """The data package as committed at git revision ``ref``, read offline with ``git archive``.

    ``where`` is a folder inside the repository (default: the current folder); the package
    is taken from the same place within the repository at that revision.
    """
    if not ref or ref.startswith("-"):
        # git would read a leading dash as an option, not a revision.
        raise PackageError(f"git:{ref}: expected a branch, tag or commit after 'git:'.")
    folder = Path(where or Path.cwd()).resolve()
    if folder.is_file():
        folder = folder.parent
    prefix = _git(["rev-parse", "--show-prefix"], folder, ref).strip()
    top = Path(_git(["rev-parse", "--show-toplevel"], folder, ref).strip())
    with tempfile.TemporaryDirectory(prefix="relations-data-git-") as scratch:
        archive = Path(scratch) / "package.zip"
        # Run at the top: inside a subfolder, git archive would keep only that subfolder.
        _git(["archive", "--format=zip", "-o", str(archive), f"{ref}:{prefix}"], top, ref)
        # open_package extracts the zip safely into its own temporary folder.
        return open_package(archive)


def _git(arguments: list[str], folder: Path, ref: str) -> str:
    try:
        done = subprocess.run(
            ["git", *arguments], cwd=folder, capture_output=True, text=True, check=False
        )
    except FileNotFoundError:
        raise PackageError(
            f"git:{ref}: expected the 'git' program to read the revision, but it is not installed."
        ) from None
    if done.returncode != 0:
        message = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "failed"
        raise PackageError(
            f"git:{ref}: cannot read the data package at this revision in {folder} ({message}). "
            "In CI, check out with fetch-depth: 0 so the base branch is present."
        )
    return done.stdout


def package_for_version(version: str) -> DataPackage:
    """The released package ``version``, downloaded (or taken from the cache) and verified.

    Only registered versions resolve: an unpublished version that happens to equal the
    bundled one must not silently compare the working tree with itself.
    """
    from .remote import fetch_release, open_local_archive

    return open_local_archive(fetch_release(version))


def resolve_package(reference: str | Path | DataPackage, where: Path | None = None) -> DataPackage:
    """Open a package given as a version, folder, descriptor, archive or ``git:REF``."""
    if isinstance(reference, DataPackage):
        return reference
    text = str(reference)
    if text.startswith(GIT_PREFIX):
        return package_at_git_ref(text.removeprefix(GIT_PREFIX), where)
    path = Path(reference)
    if path.exists():
        return open_package(path)
    version = text.removeprefix("v")
    if is_version(version):
        return package_for_version(version)
    raise PackageError(
        f"{text}: expected a released version (X.Y.Z), a folder, a datapackage.json, a .zip "
        "archive or git:REF, but found none of these."
    )


def _label(reference: str | Path | DataPackage, package: DataPackage) -> str:
    if isinstance(reference, DataPackage):
        return str(package.root)
    return str(reference)


def _match_key(old: Resource, new: Resource) -> tuple[tuple[str, ...], str]:
    common = [n for n in new.schema.field_names if n in old.schema.field_names]
    if new.schema.primary_key and all(k in common for k in new.schema.primary_key):
        note = "" if old.schema.primary_key == new.schema.primary_key else "matched on the new key"
        return new.schema.primary_key, note
    return tuple(common), "no shared primary key: matched on all shared fields"


def _keys(frame: pl.DataFrame, key: Sequence[str]) -> tuple[Key, ...]:
    return tuple(frame.select(key).sort(key, nulls_last=True).iter_rows())


def _check_unique(frame: pl.DataFrame, key: Sequence[str], resource: Resource) -> None:
    if frame.select(key).is_duplicated().any():
        raise PackageError(
            f"{resource.path}: expected unique {list(key)!r} values to match rows on, but some "
            f"repeat; run 'relations-data validate' on this package first."
        )


def diff_tables(old: Resource | None, new: Resource | None) -> TableDiff:
    """Rows added, removed and changed between two versions of one table."""
    if old is None and new is None:
        raise ValueError("diff_tables needs at least one side")
    if old is None or new is None:
        present = new if new is not None else old
        assert present is not None
        key = present.schema.primary_key or present.schema.field_names
        rows = _keys(read_text_table(present), key)
        return TableDiff(
            table=present.name,
            key=key,
            added=rows if new is not None else (),
            removed=rows if old is not None else (),
            changed=(),
            note="table added" if new is not None else "table removed",
        )
    key, note = _match_key(old, new)
    common = [n for n in new.schema.field_names if n in old.schema.field_names]
    before = read_text_table(old).select(common)
    after = read_text_table(new).select(common)
    _check_unique(before, key, old)
    _check_unique(after, key, new)
    key_list = list(key)
    added = after.join(before.select(key_list), on=key_list, how="anti", nulls_equal=True)
    removed = before.join(after.select(key_list), on=key_list, how="anti", nulls_equal=True)
    compared = [c for c in common if c not in key]
    both = before.join(after, on=key_list, how="inner", suffix=_SUFFIX, nulls_equal=True)
    changed: list[RowChange] = []
    if compared and both.height:
        differs = [pl.col(c).ne_missing(pl.col(c + _SUFFIX)).alias(c) for c in compared]
        flags = both.select(differs)
        mask = flags.select(pl.any_horizontal(pl.all())).to_series()
        edited = both.filter(mask).sort(key_list, nulls_last=True)
        for row in edited.iter_rows(named=True):
            cells = tuple(
                CellChange(c, row[c], row[c + _SUFFIX])
                for c in compared
                if row[c] != row[c + _SUFFIX]
            )
            changed.append(RowChange(tuple(row[k] for k in key), cells))
    return TableDiff(
        table=new.name,
        key=key,
        added=_keys(added, key_list),
        removed=_keys(removed, key_list),
        changed=tuple(changed),
        note=note,
    )


def diff_packages(
    old: str | Path | DataPackage, new: str | Path | DataPackage, *, where: Path | None = None
) -> PackageDiff:
    """Compare two data packages: schema changes and rows added, removed and changed.

    Parameters
    ----------
    old, new
        Each a released version (``"1.0.0"``), a folder, a ``datapackage.json``, a release
        ``.zip``, ``"git:REF"`` or an opened :class:`DataPackage`.
    where
        Folder inside the git repository that ``git:REF`` references are read from
        (default: the current folder).

    Returns
    -------
    PackageDiff
        Renders itself with ``to_text()`` and ``to_markdown()``; ``bump`` is the version
        bump the changes need.
    """
    before = resolve_package(old, where)
    after = resolve_package(new, where)
    names = list(after.table_names) + [n for n in before.table_names if n not in after.table_names]
    tables = []
    for name in names:
        old_resource = before.resource(name) if name in before.table_names else None
        new_resource = after.resource(name) if name in after.table_names else None
        tables.append(diff_tables(old_resource, new_resource))
    return PackageDiff(
        old_label=_label(old, before),
        new_label=_label(new, after),
        old_version=before.version,
        new_version=after.version,
        schema_changes=tuple(compare_packages(before, after)),
        tables=tuple(t for t in tables if not t.is_empty),
        moves=find_moves(before, after),
    )


def _shown(items: Sequence[object], limit: int | None) -> tuple[list[object], int]:
    if limit is None or limit <= 0 or len(items) <= limit:
        return list(items), 0
    return list(items[:limit]), len(items) - limit


def _key_text(key: Key) -> str:
    return " / ".join("" if part is None else part for part in key)


def _value_text(value: str | None) -> str:
    return "(empty)" if value is None else repr(value)


def _summary(diff: PackageDiff) -> str:
    if diff.is_empty:
        return "no changes"
    return f"changes need a {diff.bump.label} version bump"


def render_text(diff: PackageDiff, limit: int | None = 20) -> str:
    """Plain-text report of a :class:`PackageDiff`."""
    lines = [
        f"{diff.old_label} ({diff.old_version}) → {diff.new_label} ({diff.new_version}): "
        f"{_summary(diff)}."
    ]
    if diff.schema_changes:
        lines.append("Schema and metadata:")
        lines.extend(f"  [{c.bump.label}] {c}" for c in diff.schema_changes)
    if diff.moves:
        lines.append("Moved (values of removed tables and columns, found in their new place):")
        lines.extend(f"  {move}" for move in diff.moves)
    for table in diff.tables:
        lines.append(
            f"Table {table.table}: {len(table.added)} added, {len(table.removed)} removed, "
            f"{len(table.changed)} changed (matched on {', '.join(table.key)})"
            + (f"; {table.note}" if table.note else "")
        )
        for sign, keys in (("+", table.added), ("-", table.removed)):
            shown, more = _shown(keys, limit)
            lines.extend(f"  {sign} {_key_text(k)}" for k in shown)  # type: ignore[arg-type]
            if more:
                lines.append(f"  {sign} ... and {more} more")
        shown, more = _shown(table.changed, limit)
        for row in shown:
            assert isinstance(row, RowChange)
            lines.append(f"  ~ {_key_text(row.key)}")
            lines.extend(
                f"      {cell.field}: {_value_text(cell.old)} → {_value_text(cell.new)}"
                for cell in row.cells
            )
        if more:
            lines.append(f"  ~ ... and {more} more")
    return "\n".join(lines) + "\n"


def _code(value: str | None) -> str:
    if value is None:
        return "*empty*"
    text = value.replace("\n", " ").replace("|", "\\|")
    fence = "``" if "`" in text else "`"
    pad = " " if fence == "``" else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def render_markdown(diff: PackageDiff, limit: int | None = 20) -> str:
    """Markdown for ``CHANGELOG.md``: schema changes, a table of counts, then the rows."""
    lines = [
        f"Changes from {diff.old_version or diff.old_label} to "
        f"{diff.new_version or diff.new_label}: {_summary(diff)}.",
        "",
    ]
    if diff.schema_changes:
        lines += ["### Schema and metadata", ""]
        lines += [f"- **{c.bump.label}** `{c.where}`: {c.what}" for c in diff.schema_changes]
        lines.append("")
    if diff.moves:
        lines += ["### Moved", ""]
        lines += [
            f"- `{m.source}` → `{m.target}`: {m.found} of {m.total} "
            + ("rows" if "." not in m.source else "values")
            + (" (" + ", ".join(f"`{a}` → `{b}`" for a, b in m.columns) + ")" if m.columns else "")
            for m in diff.moves
        ]
        lines.append("")
    if diff.tables:
        lines += [
            "### Data",
            "",
            "| table | added | removed | changed |",
            "|---|---:|---:|---:|",
        ]
        lines += [
            f"| `{t.table}` | {len(t.added)} | {len(t.removed)} | {len(t.changed)} |"
            for t in diff.tables
        ]
        lines.append("")
    for table in diff.tables:
        lines += [f"#### `{table.table}`", ""]
        for label, keys in (("Added", table.added), ("Removed", table.removed)):
            shown, more = _shown(keys, limit)
            if shown:
                listed = ", ".join(_code(_key_text(k)) for k in shown)  # type: ignore[arg-type]
                lines.append(f"- {label}: {listed}" + (f" and {more} more" if more else ""))
        shown, more = _shown(table.changed, limit)
        for row in shown:
            assert isinstance(row, RowChange)
            cells = "; ".join(
                f"`{cell.field}` {_code(cell.old)} → {_code(cell.new)}" for cell in row.cells
            )
            lines.append(f"- Changed {_code(_key_text(row.key))}: {cells}")
        if more:
            lines.append(f"- ... and {more} more changed rows")
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"
