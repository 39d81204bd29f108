"""The Data Package version rules: which bump a change between two releases needs.

Major (incompatible): a resource or field removed, renamed or reordered, a field retyped
or reformatted, a constraint tightened (``required``/``unique``/``pattern``/``enum``/a
foreign key added, an enum value removed, a pattern changed, a lower bound raised or an
upper bound lowered), the primary key changed, missing/true/false values changed, the
package renamed or relicensed, and rows removed from a table keyed by an identifier.
Minor (backwards compatible additions): rows, resources or optional fields added, a
constraint loosened. Patch: values corrected, rows removed from a link table (its
composite key is only the row's content), descriptions and other metadata edited.

Removing a row of a table with a one-field key is major because that key is an
identifier the dataset promises to keep stable: users cite it and join on it, and a
dataset cannot know who does. A constraint change that cannot be proven looser (a
pattern rewritten, a bound of another type) counts as tighter.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .package import DataPackage, Resource
from .schema import Field, TableSchema

_LOWER_BOUNDS = ("minimum", "exclusiveMinimum", "minLength")
_UPPER_BOUNDS = ("maximum", "exclusiveMaximum", "maxLength")
_FLAGS = ("required", "unique")
# Package properties that differ between any two releases by construction.
_VOLATILE = frozenset({"version", "created", "resources"})
_IDENTITY = ("name", "id")


class Bump(enum.IntEnum):
    """How far a version must move; ordered, so ``max`` gives the bump a set of changes needs."""

    NONE = 0
    PATCH = 1
    MINOR = 2
    MAJOR = 3

    @property
    def label(self) -> str:
        return self.name.lower()


@dataclass(frozen=True)
class Change:
    """One difference between two packages and the bump it needs."""

    bump: Bump
    where: str
    what: str

    def __str__(self) -> str:
        return f"{self.where}: {self.what}"


def required_bump(changes: Iterable[Change]) -> Bump:
    """The largest bump any of ``changes`` needs (``NONE`` when there are none)."""
    return max((change.bump for change in changes), default=Bump.NONE)


def decisive_change(changes: Iterable[Change]) -> Change | None:
    """The first change needing the largest bump: the one to name when a bump falls short."""
    ordered = list(changes)
    top = required_bump(ordered)
    return next((c for c in ordered if c.bump == top), None) if ordered else None


def _comparable(value: Any) -> float | str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value  # ISO dates and times order correctly as text
    return None


def _bound_change(where: str, key: str, old: Any, new: Any, *, lower: bool) -> Change:
    if old is None:
        return Change(Bump.MAJOR, where, f"constraint {key}={new!r} added (tighter)")
    if new is None:
        return Change(Bump.MINOR, where, f"constraint {key}={old!r} removed (looser)")
    direction = _direction(old, new)
    change = f"constraint {key} changed {old!r} → {new!r}"
    if direction is None:
        return Change(Bump.MAJOR, where, f"{change} (not comparable)")
    if direction == 0:
        return Change(Bump.PATCH, where, f"{change} (same bound)")
    if (direction > 0) == lower:
        return Change(Bump.MAJOR, where, f"{change} (tighter)")
    return Change(Bump.MINOR, where, f"{change} (looser)")


def _direction(old: Any, new: Any) -> int | None:
    """1, 0 or -1 as ``new`` is above, equal to or below ``old``; ``None`` if incomparable."""
    before, after = _comparable(old), _comparable(new)
    if isinstance(before, float) and isinstance(after, float):
        return (after > before) - (after < before)
    if isinstance(before, str) and isinstance(after, str):
        return (after > before) - (after < before)
    return None


def _enum_changes(where: str, old: Any, new: Any) -> list[Change]:
    if old is None:
        return [Change(Bump.MAJOR, where, f"enum constraint added: {list(new)!r}")]
    if new is None:
        return [Change(Bump.MINOR, where, "enum constraint removed")]
    removed = [v for v in old if v not in new]
    added = [v for v in new if v not in old]
    changes = []
    if removed:
        changes.append(Change(Bump.MAJOR, where, f"enum value(s) removed: {removed!r}"))
    if added:
        changes.append(Change(Bump.MINOR, where, f"enum value(s) added: {added!r}"))
    if not removed and not added and list(old) != list(new):
        # Same values, new order: loaded pl.Enum categories sort differently.
        changes.append(Change(Bump.MINOR, where, "enum values reordered"))
    return changes


def compare_constraints(where: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Change]:
    """Changes between two ``constraints`` objects of one field."""
    changes: list[Change] = []
    for key in sorted(set(old) | set(new)):
        before, after = old.get(key), new.get(key)
        if before == after:
            continue
        if key in _FLAGS:
            if bool(before) == bool(after):
                continue
            changes.append(
                Change(Bump.MAJOR, where, f"{key} added (tighter)")
                if after
                else Change(Bump.MINOR, where, f"{key} removed (looser)")
            )
        elif key == "enum":
            changes.extend(_enum_changes(where, before, after))
        elif key == "pattern":
            if after is None:
                changes.append(Change(Bump.MINOR, where, f"pattern {before!r} removed (looser)"))
            elif before is None:
                changes.append(Change(Bump.MAJOR, where, f"pattern {after!r} added (tighter)"))
            else:
                changes.append(
                    Change(
                        Bump.MAJOR,
                        where,
                        f"pattern changed {before!r} → {after!r} (cannot be proven looser)",
                    )
                )
        elif key in _LOWER_BOUNDS or key in _UPPER_BOUNDS:
            changes.append(_bound_change(where, key, before, after, lower=key in _LOWER_BOUNDS))
        else:
            changes.append(
                Change(Bump.MAJOR, where, f"constraint {key} changed {before!r} → {after!r}")
            )
    return changes


def compare_fields(table: str, old: Field, new: Field) -> list[Change]:
    """Changes between two versions of one field (same name)."""
    where = f"{table}.{new.name}"
    changes: list[Change] = []
    if old.type != new.type:
        changes.append(Change(Bump.MAJOR, where, f"type changed {old.type} → {new.type}"))
    if old.format != new.format:
        changes.append(Change(Bump.MAJOR, where, f"format changed {old.format} → {new.format}"))
    if (old.true_values, old.false_values) != (new.true_values, new.false_values):
        changes.append(Change(Bump.MAJOR, where, "trueValues/falseValues changed"))
    changes.extend(compare_constraints(where, old.constraints, new.constraints))
    edited = _texts_edited(old, new)
    if _value_descriptions_edited(old, new):
        edited.append("enumDescriptions")
    if edited:
        changes.append(Change(Bump.PATCH, where, f"{', '.join(edited)} edited"))
    return changes


def _texts_edited(old: Field | Resource, new: Field | Resource) -> list[str]:
    """Which of the human-readable texts (title, description) differ."""
    return [
        label
        for label, before, after in (
            ("title", old.title, new.title),
            ("description", old.description, new.description),
        )
        if before != after
    ]


def _value_descriptions_edited(old: Field, new: Field) -> bool:
    """Whether value descriptions changed beyond those of enum values added or removed."""
    before, after = dict(old.enum_descriptions), dict(new.enum_descriptions)
    if any(before[k] != after[k] for k in before.keys() & after.keys()):
        return True
    came_or_went = set(old.enum or ()) ^ set(new.enum or ())
    return bool((before.keys() ^ after.keys()) - came_or_went)


def _field_set_changes(table: str, old: TableSchema, new: TableSchema) -> list[Change]:
    old_names, new_names = list(old.field_names), list(new.field_names)
    removed = [n for n in old_names if n not in new_names]
    added = [n for n in new_names if n not in old_names]
    changes: list[Change] = []
    # A field removed and another added at the same position with the same type is a rename.
    for name in list(removed):
        position = old_names.index(name)
        if position < len(new_names) and new_names[position] in added:
            renamed = new_names[position]
            if old.field(name).type == new.field(renamed).type:
                changes.append(
                    Change(Bump.MAJOR, f"{table}.{name}", f"field renamed to {renamed!r}")
                )
                removed.remove(name)
                added.remove(renamed)
    changes.extend(Change(Bump.MAJOR, f"{table}.{n}", "field removed") for n in removed)
    for name in added:
        if new.field(name).required:
            changes.append(Change(Bump.MAJOR, f"{table}.{name}", "required field added"))
        else:
            changes.append(Change(Bump.MINOR, f"{table}.{name}", "optional field added"))
    kept_old = [n for n in old_names if n in new_names]
    kept_new = [n for n in new_names if n in old_names]
    if kept_old != kept_new:
        changes.append(Change(Bump.MAJOR, table, f"fields reordered: {kept_old!r} → {kept_new!r}"))
    return changes


def compare_schemas(table: str, old: TableSchema, new: TableSchema) -> list[Change]:
    """Changes between two Table Schemas of one resource."""
    changes = _field_set_changes(table, old, new)
    for field in new.fields:
        if field.name in old.field_names:
            changes.extend(compare_fields(table, old.field(field.name), field))
    if old.primary_key != new.primary_key:
        changes.append(
            Change(
                Bump.MAJOR,
                table,
                f"primary key changed {list(old.primary_key)!r} → {list(new.primary_key)!r}",
            )
        )
    old_keys, new_keys = set(old.foreign_keys), set(new.foreign_keys)
    for key in sorted(new_keys - old_keys, key=repr):
        changes.append(
            Change(Bump.MAJOR, table, f"foreign key {list(key.fields)!r} → {key.resource} added")
        )
    for key in sorted(old_keys - new_keys, key=repr):
        changes.append(
            Change(Bump.MINOR, table, f"foreign key {list(key.fields)!r} → {key.resource} removed")
        )
    if old.missing_values != new.missing_values:
        changes.append(
            Change(
                Bump.MAJOR,
                table,
                f"missingValues changed {list(old.missing_values)!r} → "
                f"{list(new.missing_values)!r}",
            )
        )
    return changes


def compare_resources(old: Resource, new: Resource) -> list[Change]:
    """Changes between two versions of one resource (same name), schema included."""
    changes: list[Change] = []
    if old.relpath != new.relpath:
        changes.append(
            Change(Bump.MAJOR, new.name, f"path changed {old.relpath!r} → {new.relpath!r}")
        )
    edited = _texts_edited(old, new)
    if edited:
        changes.append(Change(Bump.PATCH, new.name, f"resource {', '.join(edited)} edited"))
    changes.extend(compare_schemas(new.name, old.schema, new.schema))
    return changes


def compare_packages(old: DataPackage, new: DataPackage) -> list[Change]:
    """Every change of structure and metadata between two packages (not their rows)."""
    changes: list[Change] = []
    for key in _IDENTITY:
        if old.descriptor.get(key) != new.descriptor.get(key):
            changes.append(
                Change(
                    Bump.MAJOR,
                    "package",
                    f"{key} changed {old.descriptor.get(key)!r} → {new.descriptor.get(key)!r}",
                )
            )
    if old.descriptor.get("licenses") != new.descriptor.get("licenses"):
        changes.append(Change(Bump.MAJOR, "package", "licenses changed"))
    skip = _VOLATILE | set(_IDENTITY) | {"licenses"}
    edited = sorted(
        key
        for key in set(old.descriptor) | set(new.descriptor)
        if key not in skip and old.descriptor.get(key) != new.descriptor.get(key)
    )
    if edited:
        changes.append(Change(Bump.PATCH, "package", f"metadata edited: {', '.join(edited)}"))
    old_names, new_names = old.table_names, new.table_names
    for name in old_names:
        if name not in new_names:
            changes.append(Change(Bump.MAJOR, name, "resource removed"))
    for name in new_names:
        if name not in old_names:
            changes.append(Change(Bump.MINOR, name, "resource added"))
        else:
            changes.extend(compare_resources(old.resource(name), new.resource(name)))
    kept_old = [n for n in old_names if n in new_names]
    kept_new = [n for n in new_names if n in old_names]
    if kept_old != kept_new:
        changes.append(Change(Bump.PATCH, "package", "resources reordered"))
    return changes


def row_changes(
    table: str, key: tuple[str, ...], *, added: int, removed: int, changed: int
) -> list[Change]:
    """The bumps that rows added, removed and changed in one table need."""
    changes: list[Change] = []
    if added:
        changes.append(Change(Bump.MINOR, table, f"{added} row(s) added"))
    if removed:
        if len(key) == 1:
            changes.append(
                Change(
                    Bump.MAJOR,
                    table,
                    f"{removed} row(s) removed: their {key[0]} identifiers disappear",
                )
            )
        else:
            changes.append(Change(Bump.PATCH, table, f"{removed} row(s) removed"))
    if changed:
        changes.append(Change(Bump.PATCH, table, f"{changed} row(s) with values corrected"))
    return changes
