"""Exports of the data package for SQL, notebooks, R, spreadsheets and Datasette.

Every piece of a table definition — column types, ``NOT NULL``, vocabularies, ranges,
primary and foreign keys — is derived from the Table Schemas; the values come from
:func:`relations_data.load`, so an export has exactly the loader's types.

Formats
-------
``sqlite``
    One SQLite file, one table per resource, plus a Datasette ``metadata.json`` beside it.
``duckdb``
    One DuckDB file with the same tables and keys (needs the ``duckdb`` extra).
``parquet``
    A folder with ``<table>.parquet`` per resource, in the loader's dtypes.
``json``
    One JSON file: an object keyed by table name (descriptor order), each an array of
    records; dates are ISO 8601 text and empty cells ``null``.
``csv``
    A folder holding a copy of the data package — ``datapackage.json``, the Table Schemas
    and every CSV in canonical form — readable by any Frictionless tool.

Every export is atomic: it is built in a temporary path beside ``out`` and renamed into
place only when complete, so a failure leaves no half-written output.
"""

from __future__ import annotations

import contextlib
import graphlib
import json
import shutil
import sqlite3
import tempfile
from collections.abc import Callable, Iterator, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal, cast, get_args

import polars as pl

from .canonical import canonical_bytes
from .errors import ExportError, ValidationError
from .loader import TableName, load
from .package import DESCRIPTOR_NAME, DataPackage, Resource, open_package
from .schema import Field
from .sql import (
    column_list,
    create_table_sql,
    dependency_order,
    duckdb_type,
    insert_sql,
    quote_identifier,
    sqlite_type,
)
from .views import (
    citation_tables_sql,
    datasette_evidence_metadata,
    duckdb_comments_sql,
    evidence_views_sql,
)

#: The formats :func:`export` writes.
ExportFormat = Literal["sqlite", "duckdb", "parquet", "json", "csv"]
#: Name of the Datasette metadata file written beside a SQLite export.
DATASETTE_METADATA = "metadata.json"


def export(fmt: ExportFormat | str, out: str | Path, *, source: str | Path | None = None) -> Path:
    """Export every table of a data package to ``out``.

    Parameters
    ----------
    fmt
        One of ``sqlite``, ``duckdb``, ``parquet``, ``json``, ``csv`` (see the module
        documentation for what each writes).
    out
        Target file (``sqlite``, ``duckdb``, ``json``) or folder (``parquet``, ``csv``).
        An existing file is replaced; an existing folder only when it holds nothing but
        files this export writes (an earlier export), so no unrelated file is deleted.
    source
        The data package: ``None`` for the bundled copy, or a folder, descriptor or
        release ``.zip`` (see :func:`relations_data.package.open_package`).

    Returns
    -------
    Path
        ``out``. For ``sqlite`` the Datasette metadata is ``out.parent / "metadata.json"``.

    Raises
    ------
    ExportError
        Unknown format, unusable target, or the ``duckdb`` extra is not installed.
    ValidationError
        The data breaks a foreign key, so the database would be inconsistent.

    Examples
    --------
    >>> import relations_data as rd
    >>> rd.export("sqlite", "relations.db")  # doctest: +SKIP
    PosixPath('relations.db')
    """
    writers: dict[str, Callable[[DataPackage, Path], None]] = {
        "sqlite": _write_sqlite,
        "duckdb": _write_duckdb,
        "parquet": _write_parquet,
        "json": _write_json,
        "csv": _write_csv,
    }
    writer = writers.get(fmt)
    if writer is None:
        raise ExportError(
            f"Unknown export format {fmt!r}: expected one of {', '.join(get_args(ExportFormat))}."
        )
    if fmt == "duckdb":
        _import_duckdb()  # fail before any work when the extra is missing
    # Resolved, so that "." or "out/.." name a real folder with a parent to build beside.
    target = Path(out).resolve()
    package = open_package(source)
    writer(package, target)
    return Path(out)


# -- reading -----------------------------------------------------------------------------


def _frames(package: DataPackage) -> dict[str, pl.DataFrame]:
    """Every table as the loader types it, in descriptor order."""
    # Loading through the opened descriptor avoids re-extracting a zip for every table.
    return {
        r.name: load(cast(TableName, r.name), source=package.descriptor_path)
        for r in package.resources
    }


# -- atomic targets --------------------------------------------------------------------------


@contextlib.contextmanager
def _staging(out: Path) -> Iterator[Path]:
    """A private temporary folder beside ``out``, removed afterwards whatever happens."""
    out.parent.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _check_file_target(out: Path) -> None:
    if out.is_dir():
        raise ExportError(f"{out}: expected a file path for this format, found a folder.")


def _replace_folder(built: Path, out: Path, expected: set[str]) -> None:
    """Move the finished folder ``built`` onto ``out``.

    An existing ``out`` is replaced only if it holds nothing but entries this export
    writes, so exporting into a folder of unrelated files cannot delete them.
    """
    if out.exists() or out.is_symlink():
        if not out.is_dir() or out.is_symlink():
            raise ExportError(f"{out}: expected a folder (or nothing), found a file; left as is.")
        foreign = sorted(p.name for p in out.iterdir() if p.name not in expected)
        if foreign:
            raise ExportError(
                f"{out}: the folder holds files an export does not write "
                f"({', '.join(foreign[:5])}); left as is. Remove it or choose another folder."
            )
        retired = built.parent / f"{built.name}.old"
        out.rename(retired)
        built.rename(out)
        shutil.rmtree(retired, ignore_errors=True)
    else:
        built.rename(out)


# -- SQLite ----------------------------------------------------------------------------------


def _sqlite_rows(frame: pl.DataFrame) -> Iterator[tuple[Any, ...]]:
    converted = frame.with_columns(
        pl.col(pl.Date).dt.to_string("%Y-%m-%d"),
        pl.col(pl.Datetime).dt.to_string("%Y-%m-%dT%H:%M:%S%.f"),
        pl.col(pl.Enum, pl.Categorical).cast(pl.String),
        pl.col(pl.Boolean).cast(pl.Int8),
    )
    return converted.iter_rows()


def _write_sqlite_database(package: DataPackage, path: Path) -> None:
    frames = _frames(package)
    with contextlib.closing(sqlite3.connect(path)) as connection:
        # Keys are checked once all rows are in, so self-references need no row order.
        connection.execute("PRAGMA foreign_keys = OFF")
        with connection:
            for resource in dependency_order(package):
                connection.execute(create_table_sql(resource.schema, sqlite_type))
                connection.executemany(
                    insert_sql(resource.schema), _sqlite_rows(frames[resource.name])
                )
            # Evidence one click away: views, and per-table citations with real keys.
            for statement in citation_tables_sql(package, sqlite_type) + evidence_views_sql(
                package
            ):
                connection.execute(statement)
        problems = connection.execute("PRAGMA foreign_key_check").fetchall()
    if problems:
        shown = "; ".join(
            f"{table} row {rowid} -> {parent}" for table, rowid, parent, _ in problems[:5]
        )
        raise ValidationError(
            f"Expected every foreign key to resolve, found {len(problems)} that do not "
            f"({shown}); no database was written. Run 'relations-data validate' for details."
        )


def datasette_metadata(package: DataPackage, database: str) -> dict[str, Any]:
    """Datasette ``metadata.json`` content documenting a SQLite export.

    Package title, description, license and source come from ``datapackage.json``; each
    table's title and description from its resource, each column's description from its
    Table Schema field.
    """
    descriptor = package.descriptor
    metadata: dict[str, Any] = {
        "title": descriptor.get("title", descriptor.get("name", "")),
        "description": descriptor.get("description", ""),
    }
    licenses = descriptor.get("licenses") or []
    if licenses:
        metadata["license"] = licenses[0].get("name") or licenses[0].get("title", "")
        if licenses[0].get("path"):
            metadata["license_url"] = licenses[0]["path"]
    web_sources = [s for s in descriptor.get("sources") or [] if "://" in str(s.get("path", ""))]
    if web_sources:
        metadata["source"] = web_sources[0].get("title", "")
        metadata["source_url"] = web_sources[0]["path"]
    if descriptor.get("homepage"):
        metadata["about"] = f"{descriptor.get('name', database)} {package.version}".strip()
        metadata["about_url"] = descriptor["homepage"]
    tables: dict[str, Any] = {}
    for resource in package.resources:
        tables[resource.name] = {
            "title": resource.title,
            "description": resource.description,
            "columns": {f.name: _column_description(f) for f in resource.schema.fields},
        }
    evidence = datasette_evidence_metadata(package)
    for name, extra in evidence.get("tables", {}).items():
        tables.setdefault(name, {}).update(extra)
    metadata["databases"] = {database: {"tables": tables}}
    if evidence.get("queries"):
        metadata["databases"][database]["queries"] = evidence["queries"]
    return metadata


def _column_description(field: Field) -> str:
    title = f"{field.title}: " if field.title and field.title != field.name else ""
    return f"{title}{field.description}".strip()


def _json_bytes(data: Any) -> bytes:
    return (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def _write_sqlite(package: DataPackage, out: Path) -> None:
    _check_file_target(out)
    metadata_target = out.parent / DATASETTE_METADATA
    with _staging(out) as folder:
        database = folder / out.name
        _write_sqlite_database(package, database)
        metadata = folder / DATASETTE_METADATA
        metadata.write_bytes(_json_bytes(datasette_metadata(package, out.stem)))
        database.replace(out)
        metadata.replace(metadata_target)


# -- DuckDB ----------------------------------------------------------------------------------


def _import_duckdb() -> Any:
    try:
        import duckdb
    except ImportError:
        raise ExportError(
            "The duckdb export needs the optional dependency 'duckdb', which is not "
            "installed; nothing was written. Install it with: pip install 'relations-data[duckdb]'"
        ) from None
    return duckdb


def _self_reference_generations(resource: Resource, frame: pl.DataFrame) -> list[pl.DataFrame]:
    """Split rows so each row's self-referenced parent is in an earlier part.

    DuckDB checks a foreign key at insert time, row set by row set, so a child row must
    follow its parent even within one table. Rows that reference each other in a cycle
    cannot be ordered: they stay in one part, for DuckDB to report.
    """
    own = [fk for fk in resource.schema.foreign_keys if fk.resource == resource.name]
    if not own or frame.is_empty():
        return [frame]
    parents: dict[int, set[int]] = {row: set() for row in range(frame.height)}
    for fk in own:
        rows_by_key: dict[tuple[Any, ...], list[int]] = {}
        for row, key in enumerate(frame.select(fk.reference_fields).iter_rows()):
            rows_by_key.setdefault(key, []).append(row)
        for row, key in enumerate(frame.select(fk.fields).iter_rows()):
            if all(value is not None for value in key):
                parents[row].update(rows_by_key.get(key, ()))
    sorter = graphlib.TopologicalSorter(parents)
    try:
        sorter.prepare()
    except graphlib.CycleError:
        return [frame]
    generations: list[pl.DataFrame] = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready())
        generations.append(frame[ready])
        sorter.done(*ready)
    return generations


def _write_duckdb_database(package: DataPackage, path: Path, scratch: Path) -> None:
    duckdb = _import_duckdb()
    frames = _frames(package)
    connection = duckdb.connect(str(path))
    try:
        for resource in dependency_order(package):
            connection.execute(
                create_table_sql(
                    resource.schema, duckdb_type, enum_check=False, boolean_check=False
                )
            )
            columns = column_list(resource.schema.field_names)
            table = quote_identifier(resource.name)
            parts = _self_reference_generations(resource, frames[resource.name])
            for number, part in enumerate(parts):
                # Parquet carries the exact dtypes into DuckDB without needing pyarrow.
                parquet = scratch / f"{resource.name}-{number}.parquet"
                part.write_parquet(parquet)
                connection.execute(
                    f"INSERT INTO {table} ({columns}) SELECT {columns} FROM read_parquet(?)",
                    [str(parquet)],
                )
        for statement in evidence_views_sql(package) + duckdb_comments_sql(package):
            connection.execute(statement)
    except duckdb.Error as error:
        raise ValidationError(
            f"Expected the data to satisfy the keys of its Table Schemas, but DuckDB "
            f"refused it ({str(error).splitlines()[0]}); no database was written. Run "
            "'relations-data validate' for details."
        ) from None
    finally:
        connection.close()


def _write_duckdb(package: DataPackage, out: Path) -> None:
    _check_file_target(out)
    with _staging(out) as folder:
        database = folder / out.name
        scratch = folder / "scratch"
        scratch.mkdir()
        _write_duckdb_database(package, database, scratch)
        database.replace(out)


# -- Parquet, JSON, CSV ----------------------------------------------------------------------


def parquet_name(resource: Resource) -> str:
    """File name of a table in a Parquet export."""
    return f"{resource.name}.parquet"


def _write_parquet(package: DataPackage, out: Path) -> None:
    frames = _frames(package)
    with _staging(out) as folder:
        built = folder / out.name
        built.mkdir()
        for resource in package.resources:
            frames[resource.name].write_parquet(built / parquet_name(resource))
        _replace_folder(built, out, {parquet_name(r) for r in package.resources})


def _json_default(value: object) -> str:
    if isinstance(value, date | datetime):
        return value.isoformat()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def json_document(frames: Mapping[str, pl.DataFrame]) -> dict[str, list[dict[str, Any]]]:
    """The JSON export's content: table name -> list of records."""
    return {name: frame.to_dicts() for name, frame in frames.items()}


def _write_json(package: DataPackage, out: Path) -> None:
    _check_file_target(out)
    document = json_document(_frames(package))
    text = json.dumps(document, indent=2, ensure_ascii=False, default=_json_default) + "\n"
    with _staging(out) as folder:
        built = folder / out.name
        built.write_bytes(text.encode("utf-8"))
        built.replace(out)


def _csv_entries(package: DataPackage) -> dict[str, bytes]:
    entries: dict[str, bytes] = {DESCRIPTOR_NAME: package.descriptor_path.read_bytes()}
    for resource in package.resources:
        entries[resource.relpath] = canonical_bytes(resource)
        if resource.schema_relpath is not None:
            schema_file = package.root / resource.schema_relpath
            entries[resource.schema_relpath] = schema_file.read_bytes()
    return entries


def _write_csv(package: DataPackage, out: Path) -> None:
    # Loading every table first makes the export refuse data the loader cannot type.
    _frames(package)
    entries = _csv_entries(package)
    with _staging(out) as folder:
        built = folder / out.name
        for relpath, data in entries.items():
            target = built / relpath
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        top_level = {Path(relpath).parts[0] for relpath in entries}
        _replace_folder(built, out, top_level)
