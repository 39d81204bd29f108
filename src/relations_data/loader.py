"""Typed Polars access to the tables of the bundled data package."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, get_args

import polars as pl

from .dtypes import polars_schema
from .errors import PackageError, UnknownTableError
from .package import Resource, open_package, unknown_table_message

#: Names of the tables of the data package; a test keeps it equal to datapackage.json.
TableName = Literal[
    "sources",
    "actors",
    "memberships",
    "actor_aliases",
    "places",
    "events",
    "event_actors",
    "agreements",
    "agreement_parties",
    "vessels",
    "event_vessels",
    "citations",
]


def tables() -> tuple[TableName, ...]:
    """Names of the tables of the data package, in descriptor order.

    Examples
    --------
    >>> import relations_data as rd
    >>> "events" in rd.tables()
    True
    """
    return get_args(TableName)


def _resource(table: str, source: str | Path | None) -> Resource:
    if table not in get_args(TableName):
        raise UnknownTableError(unknown_table_message(table, tables()))
    return open_package(source).resource(table)


def _scan_resource(resource: Resource) -> pl.LazyFrame:
    if not resource.path.is_file():
        raise PackageError(f"{resource.path}: data file of table {resource.name!r} not found.")
    return pl.scan_csv(
        resource.path,
        schema=polars_schema(resource.schema),
        null_values=list(resource.schema.missing_values),
    )


def scan(table: TableName, *, source: str | Path | None = None) -> pl.LazyFrame:
    """Lazily scan one table with dtypes from its Table Schema."""
    return _scan_resource(_resource(table, source))


def load(table: TableName, *, source: str | Path | None = None) -> pl.DataFrame:
    """Load one table as a Polars DataFrame with dtypes from its Table Schema.

    Examples
    --------
    >>> import relations_data as rd
    >>> events = rd.load("events")
    >>> events.schema["date_start"]
    Date
    """
    resource = _resource(table, source)
    try:
        return _scan_resource(resource).collect()
    except pl.exceptions.PolarsError as error:
        raise PackageError(
            f"{resource.path}: table {table!r} does not match its schema; run "
            f"'relations-data validate' for details ({str(error).splitlines()[0]})."
        ) from None
