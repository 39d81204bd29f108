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
place only when complete, so a failure (a full disk included) leaves no half-written
output, and a temporary left by a killed export is removed by the next one. An export
never overwrites a file of the package it reads, never writes a cell a spreadsheet would
run as a formula (see :mod:`relations_data.formula`), and merges its Datasette
``metadata.json`` into an existing one instead of replacing it.
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
from .formula import FORMULA_TRIGGERS, formula_expr
from .loader import TableName, load
from .locks import TEMP_PREFIX, holding_temporaries
from .messages import quoted
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
        Unknown format, unusable target, the ``duckdb`` extra is not installed, or (for a
        database) a foreign key points at a resource that is not a local CSV table.
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
    _refuse_own_files(package, target, Path(out), fmt)
    if fmt in ("sqlite", "duckdb"):
        _refuse_keys_to_other_resources(package)
    try:
        writer(package, target)
    except OSError as error:
        raise ExportError(
            f"{out}: cannot be written ({error.strerror or error}); nothing was written."
        ) from None
    except sqlite3.Error as error:
        raise ExportError(
            f"{out}: SQLite cannot write the database ({error}); nothing was written."
        ) from None
    return Path(out)


def _refuse_own_files(package: DataPackage, target: Path, out: Path, fmt: str) -> None:
    """Refuse a target that is, or (for a folder export) holds, a file of the package."""
    inputs = [package.descriptor_path, *(r.path for r in package.resources)]
    inputs += [package.root / r.schema_relpath for r in package.resources if r.schema_relpath]
    resolved = {path.resolve() for path in inputs}
    if fmt in ("parquet", "csv"):
        clobbered = {p for p in resolved if p.is_relative_to(target)}
    else:
        writes = {target, target.parent / DATASETTE_METADATA} if fmt == "sqlite" else {target}
        clobbered = writes & resolved
    if clobbered:
        raise ExportError(
            f"{out}: the export would overwrite {min(clobbered)}, a file of the package "
            "it exports; everything was left as is. Choose a target outside the package."
        )


def _refuse_keys_to_other_resources(package: DataPackage) -> None:
    """Refuse a foreign key to a resource the loader does not read (inline data, JSON, a
    remote file…): the database would hold the key but not the table it points at."""
    others = {other.name: other.reason for other in package.other_resources}
    for resource in package.resources:
        for key in resource.schema.foreign_keys:
            if key.resource in others:
                raise ExportError(
                    f"{package.descriptor_path}: the foreign key {resource.name}."
                    f"{','.join(key.fields)} -> {key.resource} points at a resource the "
                    f"export does not read ({others[key.resource]}: only local CSV tables "
                    "are exported); no database was written."
                )


# -- reading -----------------------------------------------------------------------------


def _frames(package: DataPackage) -> dict[str, pl.DataFrame]:
    """Every table as the loader types it, in descriptor order; refuses formula cells."""
    # Loading through the opened descriptor avoids re-extracting a zip for every table.
    frames = {
        r.name: load(cast(TableName, r.name), source=package.descriptor_path)
        for r in package.resources
    }
    for resource in package.resources:
        _refuse_formulas(resource, frames[resource.name])
    return frames


def _refuse_formulas(resource: Resource, frame: pl.DataFrame) -> None:
    """Refuse a text cell a spreadsheet would run as a formula (``validate`` reports
    the same cells as ``formula-trigger``)."""
    text = [n for n, d in frame.schema.items() if d == pl.String or isinstance(d, pl.Enum)]
    if not text or frame.is_empty():
        return
    flags = [formula_expr(pl.col(n).cast(pl.String)).fill_null(False) for n in text]
    found = frame.select([flag.any().alias(n) for flag, n in zip(flags, text, strict=True)])
    for name, flag in zip(text, found.row(0), strict=True):
        if flag:
            index = frame.select(formula_expr(pl.col(name).cast(pl.String)).arg_max()).item()
            value = str(frame[name][index])
            raise ExportError(
                f"{resource.path}: table {resource.name!r}, column {name!r}, row {index + 1}: "
                f"the cell {quoted(value[:40])} starts with a spreadsheet formula trigger "
                f"({' '.join(repr(t) for t in FORMULA_TRIGGERS)}); no export writes it. "
                "Run 'relations-data validate' to list every such cell."
            )


# -- atomic targets --------------------------------------------------------------------------


@contextlib.contextmanager
def _staging(out: Path) -> Iterator[Path]:
    """A private temporary folder beside ``out``, removed afterwards whatever happens
    (one a killed export left is removed by the next export there)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with holding_temporaries(out.parent):
        folder = Path(tempfile.mkdtemp(prefix=f"{TEMP_PREFIX}{out.name}.", dir=out.parent))
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
                try:
                    connection.executemany(
                        insert_sql(resource.schema), _sqlite_rows(frames[resource.name])
                    )
                except sqlite3.IntegrityError as error:
                    raise ValidationError(
                        f"{resource.path}: table {resource.name!r} breaks a constraint of "
                        f"its Table Schema ({error}); no database was written. Run "
                        "'relations-data validate' for details."
                    ) from None
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


def _existing_metadata(path: Path) -> dict[str, Any]:
    """The Datasette metadata already at ``path`` (empty if none); refuses one it cannot
    merge, rather than replace a file of the user's."""
    if not path.exists():
        return {}
    try:
        existing = json.loads(path.read_bytes().decode("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as error:
        raise ExportError(
            f"{path}: an existing Datasette metadata file that cannot be read as JSON "
            f"({type(error).__name__}); it was left as is and nothing was written. Move it "
            "away, or export into another folder."
        ) from None
    if not isinstance(existing, dict):
        raise ExportError(
            f"{path}: an existing Datasette metadata file that is not a JSON object; it was "
            "left as is and nothing was written."
        )
    return existing


def merged_metadata(existing: Mapping[str, Any], ours: Mapping[str, Any]) -> dict[str, Any]:
    """``existing`` with ``ours`` merged in: objects are merged key by key, and every
    other value this export writes replaces the old one; keys only the user's file has
    (plugins, other databases, canned queries) are kept.

    >>> merged_metadata({"plugins": {"a": 1}, "title": "old"}, {"title": "new"})
    {'plugins': {'a': 1}, 'title': 'new'}
    """
    result = dict(existing)
    for key, value in ours.items():
        previous = result.get(key)
        if isinstance(value, Mapping) and isinstance(previous, Mapping):
            result[key] = merged_metadata(previous, value)
        else:
            result[key] = value
    return result


def _write_sqlite(package: DataPackage, out: Path) -> None:
    _check_file_target(out)
    metadata_target = out.parent / DATASETTE_METADATA
    existing = _existing_metadata(metadata_target)
    with _staging(out) as folder:
        database = folder / out.name
        _write_sqlite_database(package, database)
        metadata = folder / DATASETTE_METADATA
        ours = datasette_metadata(package, out.stem)
        metadata.write_bytes(_json_bytes(merged_metadata(existing, ours)))
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
    connection = None
    try:
        connection = duckdb.connect(str(path))
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
    except duckdb.IOException as error:
        raise OSError(str(error).splitlines()[0]) from None  # export() names the target
    except duckdb.Error as error:
        raise ValidationError(
            f"Expected the data to satisfy the keys of its Table Schemas, but DuckDB "
            f"refused it ({quoted(str(error).splitlines()[0])}); no database was written. Run "
            "'relations-data validate' for details."
        ) from None
    finally:
        if connection is not None:
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
