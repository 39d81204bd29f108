"""The typed table and the structural rules, shared by every module of the Polars engine.

A leaf of the validation package: the engine (:mod:`.polars_engine`) and the modules it
runs (:mod:`.keys`, :mod:`.pandera_checks`, :mod:`.semantic`, :mod:`.text_rules`) all
import from here, so none of them has to import the engine back.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from ..schema import TableSchema
from .reading import TextTable

ENGINE = "polars"

RULES = {
    "type": "every cell parses as its field's type (and format)",
    "required": "required fields have a value",
    "unique": "unique fields repeat no value",
    "enum": "values come from the field's enum",
    "pattern": "text matches the field's pattern",
    "minimum": "values are at least the field's minimum",
    "maximum": "values are at most the field's maximum",
    "exclusive-minimum": "values exceed the field's exclusiveMinimum",
    "exclusive-maximum": "values stay below the field's exclusiveMaximum",
    "min-length": "text is at least minLength characters long",
    "max-length": "text is at most maxLength characters long",
    "primary-key": "primary keys are present and unique",
    "foreign-key": "foreign keys point at existing rows",
    "blank-row": "no row is blank (every cell empty or a missing value)",
    "incorrect-label": "header labels are the field names, in order",
    "duplicate-label": "no header label repeats",
    "blank-label": "no header label is empty",
    "extra-label": "the header has no label beyond the fields",
    "missing-label": "the header has a label for every field",
    "extra-cell": "no row has more cells than the header has labels",
    "missing-cell": "no row has fewer cells than the header has labels",
}
#: Rules about the file's rows and header (reported where found, as frictionless does).
READING_RULES = (
    "blank-row",
    "incorrect-label",
    "duplicate-label",
    "blank-label",
    "extra-label",
    "missing-label",
    "extra-cell",
    "missing-cell",
)
#: Rules the Table Schema states: both engines report these (semantic rules are polars-only).
STRUCTURAL_RULES = frozenset(RULES)


@dataclass(frozen=True)
class TypedTable:
    """A table's text frame joined with its typed columns (named ``<field>`` typed and
    ``<field>__text`` as read), and the :data:`LINE` of each record."""

    text: TextTable
    frame: pl.DataFrame
    type_failures: frozenset[str] = frozenset()
    #: Whether the rows are sorted by the composite primary key, when the key check
    #: has found out (``None`` otherwise).
    key_sorted: bool | None = None
    #: Fields that Pandera validated with every rule (their screen found a violation).
    flagged: frozenset[str] = frozenset()

    @property
    def schema(self) -> TableSchema:
        return self.text.resource.schema


def text_name(field: str) -> str:
    return f"{field}__text"
