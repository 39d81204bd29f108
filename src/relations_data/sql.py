"""SQL table definitions derived from the Table Schemas (SQLite and DuckDB dialects).

Every clause — column type, ``NOT NULL``, ``UNIQUE``, ``CHECK`` of a vocabulary or a
numeric range, primary and foreign keys — comes from a :class:`TableSchema`; identifiers
are always quoted. No column, type or vocabulary is written down here.
"""

from __future__ import annotations

import graphlib
import heapq
from collections.abc import Callable

import polars as pl

from .dtypes import polars_dtype
from .package import DataPackage, Resource
from .schema import Field, TableSchema


def dependency_order(package: DataPackage) -> tuple[Resource, ...]:
    """Resources ordered so that every table comes after the tables it references.

    Self-references are ignored; among the tables ready at each step the first in the
    descriptor comes first. A package whose tables reference each other in a cycle
    (none in this package) keeps descriptor order: no order can satisfy it.
    """
    position = {resource.name: index for index, resource in enumerate(package.resources)}
    sorter = graphlib.TopologicalSorter(
        {
            resource.name: {
                fk.resource
                for fk in resource.schema.foreign_keys
                if fk.resource != resource.name and fk.resource in position
            }
            for resource in package.resources
        }
    )
    try:
        sorter.prepare()
    except graphlib.CycleError:
        return tuple(package.resources)
    ready = [position[name] for name in sorter.get_ready()]
    heapq.heapify(ready)
    placed: list[Resource] = []
    while ready:
        resource = package.resources[heapq.heappop(ready)]
        placed.append(resource)
        sorter.done(resource.name)
        for name in sorter.get_ready():
            heapq.heappush(ready, position[name])
    return tuple(placed)


def quote_identifier(name: str) -> str:
    """An SQL identifier in double quotes, with embedded quotes doubled."""
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: object) -> str:
    """An SQL string or number literal."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def sqlite_type(field: Field) -> str:
    """The SQLite column type of a field (dates and enums are text, booleans integers)."""
    dtype = polars_dtype(field)
    if dtype.is_integer() or dtype == pl.Boolean:
        return "INTEGER"
    if dtype.is_float():
        return "REAL"
    return "TEXT"


def duckdb_type(field: Field) -> str:
    """The DuckDB column type of a field: the SQL twin of the loader's Polars dtype."""
    dtype = polars_dtype(field)
    if isinstance(dtype, pl.Enum):
        categories = dtype.categories.to_list()
        return "ENUM(" + ", ".join(quote_literal(c) for c in categories) + ")"
    by_dtype: list[tuple[pl.DataType, str]] = [
        (pl.Int64(), "BIGINT"),
        (pl.Int32(), "INTEGER"),
        (pl.Float64(), "DOUBLE"),
        (pl.Boolean(), "BOOLEAN"),
        (pl.Date(), "DATE"),
        (pl.Datetime("us"), "TIMESTAMP"),
    ]
    return next((sql for candidate, sql in by_dtype if dtype == candidate), "VARCHAR")


def _checks(field: Field, *, enum_check: bool, boolean_check: bool) -> list[str]:
    column = quote_identifier(field.name)
    checks: list[str] = []
    if enum_check and field.enum is not None:
        values = ", ".join(quote_literal(v) for v in field.enum)
        checks.append(f"{column} IN ({values})")
    if boolean_check and field.type == "boolean":
        checks.append(f"{column} IN (0, 1)")
    if field.type in {"integer", "number", "year"}:
        for key, operator in (("minimum", ">="), ("maximum", "<=")):
            if key in field.constraints:
                checks.append(f"{column} {operator} {quote_literal(field.constraints[key])}")
    return checks


def create_table_sql(
    schema: TableSchema,
    column_type: Callable[[Field], str],
    *,
    enum_check: bool = True,
    boolean_check: bool = True,
) -> str:
    """``CREATE TABLE`` statement for a Table Schema, every clause derived from it.

    Parameters
    ----------
    schema
        The table's schema: columns in schema order, ``NOT NULL`` for required and key
        fields, ``UNIQUE``, ``CHECK`` for vocabularies and numeric ranges, the primary key
        and every foreign key (a self-reference names the table itself).
    column_type
        Maps a field to the SQL type of its column (:func:`sqlite_type`,
        :func:`duckdb_type`).
    enum_check, boolean_check
        Add ``CHECK`` constraints for vocabularies and 0/1 booleans (SQLite has no enum or
        boolean type; DuckDB does).
    """
    key = set(schema.primary_key)
    lines: list[str] = []
    for field in schema.fields:
        parts = [quote_identifier(field.name), column_type(field)]
        if field.required or field.name in key:
            parts.append("NOT NULL")
        if field.unique and schema.primary_key != (field.name,):
            parts.append("UNIQUE")
        parts.extend(
            f"CHECK ({check})"
            for check in _checks(field, enum_check=enum_check, boolean_check=boolean_check)
        )
        lines.append(" ".join(parts))
    if schema.primary_key:
        lines.append(f"PRIMARY KEY ({column_list(schema.primary_key)})")
    lines.extend(
        f"FOREIGN KEY ({column_list(fk.fields)}) REFERENCES "
        f"{quote_identifier(fk.resource)} ({column_list(fk.reference_fields)})"
        for fk in schema.foreign_keys
    )
    body = ",\n  ".join(lines)
    return f"CREATE TABLE {quote_identifier(schema.table)} (\n  {body}\n)"


def insert_sql(schema: TableSchema) -> str:
    """Parameterised ``INSERT`` of one row of a table, columns in schema order."""
    placeholders = ", ".join("?" for _ in schema.fields)
    return (
        f"INSERT INTO {quote_identifier(schema.table)} ({column_list(schema.field_names)}) "
        f"VALUES ({placeholders})"
    )


def column_list(names: tuple[str, ...]) -> str:
    """Quoted column names separated by commas."""
    return ", ".join(quote_identifier(n) for n in names)
