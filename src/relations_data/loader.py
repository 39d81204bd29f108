"""Typed Polars access to the tables of the bundled data package or of any release.

Every column gets the dtype its Table Schema implies (see :mod:`relations_data.dtypes`);
each CSV is read once, by Polars, with that schema. Opened descriptors are cached, so
loading a second table costs only reading its CSV.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Literal, NamedTuple, get_args

import polars as pl

from .csv_reader import check_file, refuse_large_cells
from .dtypes import polars_dtype
from .errors import ArgumentError, PackageError, UnknownTableError
from .package import DataPackage, Resource, open_package, unknown_table_message
from .schema import TableSchema

#: Names of the tables of the data package; a test keeps it equal to datapackage.json.
TableName = Literal[
    "sources",
    "actors",
    "memberships",
    "places",
    "events",
    "event_actors",
    "event_places",
    "agreements",
    "agreement_parties",
    "vessels",
    "event_vessels",
    "observations",
    "claims",
    "claim_records",
    "aliases",
    "citations",
]


def tables() -> tuple[TableName, ...]:
    """Names of the tables of the data package, in descriptor order.

    Returns
    -------
    tuple of str
        The table names, as the bundled ``datapackage.json`` lists them.

    Examples
    --------
    >>> import relations_data as rd
    >>> "events" in rd.tables()
    True
    """
    return get_args(TableName)


def open_source(
    *, version: str | None = None, source: str | Path | None = None, sha256: str | None = None
) -> DataPackage:
    """Open the data package that ``load`` and friends read (see :func:`load`).

    Examples
    --------
    >>> from relations_data.loader import open_source
    >>> bundled = open_source()
    >>> open_source(source=bundled.descriptor_path).table_names == bundled.table_names
    True
    """
    if version is not None and source is not None:
        raise ArgumentError("pass either version= or source=, not both.")
    if version is not None:
        from .remote import open_release

        return open_release(version, sha256=sha256)
    if source is None:
        if sha256 is not None:
            raise ArgumentError("sha256= verifies an archive; pass it with source= or version=.")
        return open_package()
    text = str(source)
    if "://" in text:
        from .remote import open_url

        return open_url(text, sha256)
    path = Path(source)
    if path.suffix.lower() == ".zip":
        from .remote import open_local_archive

        return open_local_archive(path, sha256)
    if sha256 is not None:
        raise ArgumentError(f"sha256= verifies an archive, but {text} is not a .zip archive.")
    return open_package(path)


class _ReadPlan(NamedTuple):
    """How Polars reads one CSV: dtypes while parsing, then conversions Polars lacks."""

    schema: pl.Schema
    conversions: tuple[pl.Expr, ...]
    null_values: list[str]


def _read_plan(table_schema: TableSchema) -> _ReadPlan:
    read: list[tuple[str, pl.DataType]] = []
    conversions: list[pl.Expr] = []
    for field in table_schema.fields:
        dtype = polars_dtype(field)
        column = pl.col(field.name)
        if dtype == pl.Boolean:
            # Polars parses only true/false; the schema may name other spellings.
            mapping = dict.fromkeys(field.true_values, True)
            mapping |= dict.fromkeys(field.false_values, False)
            read.append((field.name, pl.String()))
            conversions.append(column.replace_strict(mapping, return_dtype=pl.Boolean))
        elif dtype in (pl.Date, pl.Datetime) and field.format not in ("default", "any"):
            read.append((field.name, pl.String()))
            parse = column.str.to_date if dtype == pl.Date else column.str.to_datetime
            conversions.append(parse(field.format))
        else:
            read.append((field.name, dtype))
    return _ReadPlan(pl.Schema(read), tuple(conversions), list(table_schema.missing_values))


def _guard(resource: Resource) -> None:
    """Refuse a file the validators would refuse to read (the one reader's guards):
    Polars alone would pad a short row with nulls, even in required fields."""
    check_file(resource)


def _scan_resource(resource: Resource) -> pl.LazyFrame:
    _guard(resource)
    plan = _read_plan(resource.schema)
    frame = pl.scan_csv(resource.path, schema=plan.schema, null_values=plan.null_values)
    return frame.with_columns(*plan.conversions) if plan.conversions else frame


def _read_resource(resource: Resource) -> pl.DataFrame:
    _guard(resource)
    plan = _read_plan(resource.schema)
    try:
        frame = pl.read_csv(resource.path, schema=plan.schema, null_values=plan.null_values)
        refuse_large_cells(frame, str(resource.path))
        return frame.with_columns(*plan.conversions) if plan.conversions else frame
    except pl.exceptions.PolarsError as error:
        raise _mismatch(resource, error) from None


def _mismatch(resource: Resource, error: Exception) -> PackageError:
    return PackageError(
        f"{resource.path}: table {resource.name!r} does not match its Table Schema "
        f"({str(error).splitlines()[0]}); run 'relations-data validate' to list every problem."
    )


def _resource(package: DataPackage, table: str) -> Resource:
    if table not in package.table_names:
        for other in package.other_resources:
            if other.name == table and other.remote:
                # Named plainly rather than "unknown": the loader never downloads a
                # resource a descriptor points at (only validate hands it to frictionless).
                raise PackageError(
                    f"{package.descriptor_path}: table {table!r} is read from an http(s) URL "
                    f"({other.reason}); the loader reads local CSV files with a local Table "
                    "Schema only. Run 'relations-data validate' to check it."
                )
        raise UnknownTableError(unknown_table_message(table, package.table_names))
    return package.resource(table)


def scan(
    table: TableName,
    *,
    version: str | None = None,
    source: str | Path | None = None,
    sha256: str | None = None,
) -> pl.LazyFrame:
    """Lazily scan one table with dtypes from its Table Schema.

    Takes the same arguments as :func:`load`. The file is checked now (the guards of
    :func:`load`: field counts, encoding, size limits); its values are read when the
    frame is collected, so a value that does not fit its dtype raises then, as a
    Polars error.

    Returns
    -------
    polars.LazyFrame
        The table's query plan, columns in schema order.

    Examples
    --------
    >>> import polars as pl
    >>> import relations_data as rd
    >>> rd.scan("events").filter(pl.col("status") == "occurred").collect().columns[0]
    'id'
    """
    return _scan_resource(
        _resource(open_source(version=version, source=source, sha256=sha256), table)
    )


def load(
    table: TableName,
    *,
    version: str | None = None,
    source: str | Path | None = None,
    sha256: str | None = None,
) -> pl.DataFrame:
    """Load one table as a Polars DataFrame with dtypes from its Table Schema.

    ``date`` columns become ``pl.Date``, ``integer`` ``pl.Int64``, ``number``
    ``pl.Float64``, ``boolean`` ``pl.Boolean`` (with the schema's true and false
    spellings), ``year`` ``pl.Int32``, strings with an ``enum`` constraint ``pl.Enum``
    with the schema's categories in order, and every other column ``pl.String``. The
    schema's ``missingValues`` become null. Columns come in schema order.

    Parameters
    ----------
    table : TableName
        One of :func:`tables`.
    version : str, optional
        A released version ``X.Y.Z``: its archive is downloaded once from the project's
        releases (or ``RELATIONS_DATA_MIRROR``), verified against the registry of
        releases shipped with this package and cached (``RELATIONS_DATA_CACHE``).
        The bundled version, if not in the registry, loads the bundled copy.
    source : str or pathlib.Path, optional
        A folder holding ``datapackage.json``, a ``datapackage.json``, a release
        ``.zip``, or the ``http(s)`` URL of a release archive.
    sha256 : str, optional
        The archive's sha256 (``sha256:`` prefix optional). Required for a URL that is
        not a registered release; checked for a local ``.zip`` when given.

    Returns
    -------
    polars.DataFrame
        The table, columns in schema order.

    Raises
    ------
    UnknownTableError
        ``table`` is not a table of the package (the message suggests a close name).
    UnknownVersionError
        ``version`` is not a registered release.
    DownloadError
        The archive could not be downloaded and is not cached.
    HashMismatchError
        The archive does not have the expected sha256; nothing is cached.
    ArchiveError
        The archive is unsafe, corrupt, or holds no valid data package.
    PackageError
        A CSV does not match its Table Schema, or ``table`` is read from an ``http(s)``
        URL (its data or its Table Schema): the loader downloads nothing a descriptor
        names.

    Examples
    --------
    >>> import relations_data as rd
    >>> events = rd.load("events")
    >>> events.schema["date_start"]
    Date
    >>> events.schema["date_precision"]
    Enum(categories=['day', 'month', 'year'])
    >>> rd.load("events", version="1.0.0")  # doctest: +SKIP
    >>> rd.load("events", source="https://example.org/relations-data-1.0.0.zip",
    ...         sha256="<64 hex digits>")  # doctest: +SKIP
    """
    package = open_source(version=version, source=source, sha256=sha256)
    return _read_resource(_resource(package, table))


class Package(Mapping[TableName, pl.DataFrame]):
    """Every table of one data package, loaded, with its version and descriptor.

    A read-only mapping from table name to DataFrame; each table is also an attribute.

    Examples
    --------
    >>> import relations_data as rd
    >>> from relations_data.loader import load_package
    >>> package = load_package()
    >>> package["events"].equals(package.events)
    True
    >>> list(package) == list(rd.tables())
    True
    """

    __slots__ = ("_descriptor", "_frames", "_root")

    def __init__(
        self, frames: Mapping[str, pl.DataFrame], descriptor: Mapping[str, Any], root: Path
    ) -> None:
        self._frames = dict(frames)
        self._descriptor = descriptor
        self._root = root

    @property
    def version(self) -> str:
        """Version of the data package (``datapackage.json`` ``version``)."""
        return str(self._descriptor.get("version", ""))

    @property
    def descriptor(self) -> Mapping[str, Any]:
        """The parsed ``datapackage.json``."""
        return self._descriptor

    @property
    def root(self) -> Path:
        """Folder the package was read from."""
        return self._root

    def __getitem__(self, table: TableName) -> pl.DataFrame:
        try:
            return self._frames[table]
        except KeyError:
            raise UnknownTableError(unknown_table_message(table, tuple(self._frames))) from None

    def __getattr__(self, name: str) -> pl.DataFrame:
        # Only reached for names that are not regular attributes: the tables.
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self._frames[name]
        except KeyError:
            message = unknown_table_message(name, tuple(self._frames))
            raise AttributeError(message) from None

    def __iter__(self) -> Iterator[TableName]:
        return iter(self._frames)  # type: ignore[arg-type]  # keys are the table names

    def __len__(self) -> int:
        return len(self._frames)

    def __dir__(self) -> list[str]:
        return sorted({*super().__dir__(), *self._frames})

    def __repr__(self) -> str:
        sizes = ", ".join(f"{name}: {frame.height}" for name, frame in self._frames.items())
        return f"<Package {self.version} ({sizes} rows)>"


def load_package(
    *, version: str | None = None, source: str | Path | None = None, sha256: str | None = None
) -> Package:
    """Load every table of the data package at once.

    Takes the same arguments as :func:`load`. The tables are read in parallel.

    Returns
    -------
    Package
        Tables by name (``package["events"]``) and attribute (``package.events``), plus
        ``package.version`` and ``package.descriptor``.

    Examples
    --------
    >>> import relations_data as rd
    >>> from relations_data.loader import load_package
    >>> package = load_package()
    >>> package.version == package.descriptor["version"]
    True
    >>> package.events.columns == rd.load("events").columns
    True
    """
    return _load_all(open_source(version=version, source=source, sha256=sha256))


def _load_all(package: DataPackage) -> Package:
    frames = [_scan_resource(resource) for resource in package.resources]
    try:
        collected = pl.collect_all(frames)
    except pl.exceptions.PolarsError:
        # Read one by one to name the table that failed.
        collected = [_read_resource(resource) for resource in package.resources]
    for resource, frame in zip(package.resources, collected, strict=True):
        refuse_large_cells(frame, str(resource.path))
    names = package.table_names
    return Package(dict(zip(names, collected, strict=True)), package.descriptor, package.root)


class TableSummary(NamedTuple):
    """One line of ``relations-data tables``."""

    name: str
    rows: int
    title: str
    description: str


def summarize_tables(
    *, version: str | None = None, source: str | Path | None = None, sha256: str | None = None
) -> list[TableSummary]:
    """Name, row count, title and description of every table.

    Examples
    --------
    >>> from relations_data.loader import summarize_tables
    >>> summarize_tables()[0].name
    'sources'
    """
    package = open_source(version=version, source=source, sha256=sha256)
    frames = _load_all(package)._frames
    return [
        TableSummary(r.name, frames[r.name].height, r.title, r.description)
        for r in package.resources
    ]
