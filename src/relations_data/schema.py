"""Typed, read-only view of Frictionless Table Schemas.

The JSON files in ``schemas/`` are the single statement of every column, type, constraint
and vocabulary. Everything else in the package (dtypes, Pandera checks, SQL DDL, the
codebook) is derived from these objects, never written down a second time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

#: Custom Table Schema property (on a field or on the schema) naming the project rules
#: that apply there, e.g. ``"relations-data:rules": ["iso-country"]``
#: (``docs/validation.md``, "Declaring the project rules").
RULES_PROPERTY = "relations-data:rules"

TABLE_SCHEMA_TYPES = frozenset(
    {
        "string",
        "number",
        "integer",
        "boolean",
        "date",
        "datetime",
        "time",
        "year",
        "yearmonth",
        "duration",
        "object",
        "array",
        "geopoint",
        "geojson",
        "list",  # Table Schema v2
        "any",
    }
)


def missing_values(declared: Any) -> tuple[str, ...]:
    """``missingValues`` as their texts: Table Schema v2 also writes an entry as an
    object ``{"value": ..., "label": ...}``."""
    return tuple(
        str(entry.get("value", "")) if isinstance(entry, Mapping) else str(entry)
        for entry in declared
    )


@dataclass(frozen=True)
class Field:
    """One field (column) of a Table Schema."""

    name: str
    type: str = "string"
    format: str = "default"
    title: str = ""
    description: str = ""
    constraints: Mapping[str, Any] = field(default_factory=dict)
    enum_descriptions: Mapping[str, str] = field(default_factory=dict)
    true_values: tuple[str, ...] = ("true", "True", "TRUE", "1")
    false_values: tuple[str, ...] = ("false", "False", "FALSE", "0")
    #: The project rules declared on the field (:data:`RULES_PROPERTY`), as written:
    #: rule names, or objects ``{"rule": name, ...parameters}``.
    rules: tuple[Any, ...] = ()
    #: The field's own ``missingValues`` (Table Schema v2), replacing the schema's.
    missing_values: tuple[str, ...] | None = None
    #: The field's descriptor as written (what frictionless' own readers are given for
    #: the types and formats the Polars engine delegates to them).
    descriptor: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def required(self) -> bool:
        return bool(self.constraints.get("required", False))

    @property
    def unique(self) -> bool:
        return bool(self.constraints.get("unique", False))

    @property
    def enum(self) -> tuple[Any, ...] | None:
        values = self.constraints.get("enum")
        return tuple(values) if values is not None else None

    @classmethod
    def from_descriptor(cls, descriptor: Mapping[str, Any]) -> Field:
        return cls(
            name=str(descriptor["name"]),
            type=str(descriptor.get("type", "string")),
            format=str(descriptor.get("format", "default")),
            title=str(descriptor.get("title", "")),
            description=str(descriptor.get("description", "")),
            constraints=dict(descriptor.get("constraints", {})),
            enum_descriptions=dict(descriptor.get("enumDescriptions", {})),
            true_values=tuple(descriptor.get("trueValues", cls.true_values)),
            false_values=tuple(descriptor.get("falseValues", cls.false_values)),
            rules=_as_list(descriptor.get(RULES_PROPERTY, ())),
            missing_values=(
                missing_values(descriptor["missingValues"])
                if "missingValues" in descriptor
                else None
            ),
            descriptor=dict(descriptor),
        )


@dataclass(frozen=True)
class ForeignKey:
    """A foreign key; ``resource`` is the referenced table's name (never empty here)."""

    fields: tuple[str, ...]
    resource: str
    reference_fields: tuple[str, ...]


@dataclass(frozen=True)
class TableSchema:
    """A Table Schema bound to the resource it describes."""

    table: str
    fields: tuple[Field, ...]
    primary_key: tuple[str, ...] = ()
    foreign_keys: tuple[ForeignKey, ...] = ()
    missing_values: tuple[str, ...] = ("",)
    #: The project rules declared for the whole table (:data:`RULES_PROPERTY`).
    rules: tuple[Any, ...] = ()

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    def missing_values_of(self, field: Field) -> tuple[str, ...]:
        """The values that mean "empty" in ``field``: its own, else the schema's."""
        return field.missing_values if field.missing_values is not None else self.missing_values

    def field(self, name: str) -> Field:
        for candidate in self.fields:
            if candidate.name == name:
                return candidate
        raise KeyError(name)

    @classmethod
    def from_descriptor(cls, table: str, descriptor: Mapping[str, Any]) -> TableSchema:
        fields = tuple(Field.from_descriptor(f) for f in descriptor.get("fields", []))
        primary_key = descriptor.get("primaryKey", [])
        foreign_keys = []
        for fk in descriptor.get("foreignKeys", []):
            reference = fk.get("reference", {})
            # Table Schema v1 names the own table with an empty resource string.
            resource = str(reference.get("resource", "")) or table
            foreign_keys.append(
                ForeignKey(
                    fields=_as_tuple(fk.get("fields", [])),
                    resource=resource,
                    reference_fields=_as_tuple(reference.get("fields", [])),
                )
            )
        return cls(
            table=table,
            fields=fields,
            primary_key=_as_tuple(primary_key),
            foreign_keys=tuple(foreign_keys),
            missing_values=missing_values(descriptor.get("missingValues", [""])),
            rules=_as_list(descriptor.get(RULES_PROPERTY, ())),
        )


def _as_tuple(value: str | list[str] | tuple[str, ...]) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


def _as_list(value: Any) -> tuple[Any, ...]:
    """A declaration as a tuple (one rule may be written without the list)."""
    return tuple(value) if isinstance(value, list | tuple) else (value,)
