"""Polars dtypes derived from Table Schema fields (the loader's and exports' typing)."""

from __future__ import annotations

import polars as pl

from .schema import Field, TableSchema

_BY_TYPE: dict[str, type[pl.DataType] | pl.DataType] = {
    "string": pl.String,
    "integer": pl.Int64,
    "number": pl.Float64,
    "boolean": pl.Boolean,
    "date": pl.Date,
    "datetime": pl.Datetime("us"),
    "year": pl.Int32,
}


def polars_dtype(field: Field) -> pl.DataType:
    """The dtype a column of this field has once loaded.

    A string field with an ``enum`` constraint becomes ``pl.Enum`` with the schema's
    categories in schema order; types Polars has no native form for stay strings.
    """
    if field.type == "string" and field.enum is not None:
        return pl.Enum([str(value) for value in field.enum])
    dtype = _BY_TYPE.get(field.type, pl.String)
    return dtype() if isinstance(dtype, type) else dtype


def polars_schema(schema: TableSchema) -> pl.Schema:
    """Column names and dtypes of a table, in schema order."""
    return pl.Schema([(f.name, polars_dtype(f)) for f in schema.fields])
