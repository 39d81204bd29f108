"""Reading every CSV of a package as text, refusing what no validator can use.

Unusable input (missing or empty file, bytes not valid in the declared encoding, a NUL
byte, a cell over the size limit) raises :class:`~relations_data.errors.PackageError`
naming the file and line. Everything else is read as strings, so that a cell that is
not of its type is reported on its own line and column by the engines, not as a failed
read; what frictionless reports about the file's shape (blank rows, header labels,
rows with more or fewer cells) is kept in the :class:`TextTable` for them to report.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from functools import cache
from typing import Any

import polars as pl

from ..csv_reader import (
    MAX_CELL_BYTES,
    raw_problem,
    refuse_large_cells,
    regular_file_size,
    scan_bytes,
)
from ..errors import PackageError, RaggedTableError
from ..messages import quoted
from ..package import DataPackage, Resource
from ..schema import TABLE_SCHEMA_TYPES
from .casting import parse_constraint
from .dialect import (
    BOM,
    CellProblem,
    Dialect,
    encoding_of,
    first_labels,
    frame_of,
    is_utf8,
    read_records,
)

#: Name of the column holding each record's physical CSV line (header = line 1).
LINE = "__line__"


@dataclass(frozen=True)
class TextTable:
    """A CSV read as text: ``frame`` holds the schema's columns (missing values as null)
    plus :data:`LINE`. ``byte_exact`` is true when the file's size is exactly what
    writing ``frame`` with minimal quoting and LF line ends gives (the canonical-form
    check then needs no second copy of the file)."""

    resource: Resource
    frame: pl.DataFrame
    byte_exact: bool
    #: Physical lines of the blank rows (every cell empty or a missing value), which
    #: are not in ``frame`` and are reported as ``blank-row``, as frictionless does.
    blank_lines: tuple[int, ...] = ()
    #: The header labels as written, when they differ from the field names.
    labels: tuple[str, ...] | None = None
    #: frictionless row number -> physical line, when rows were left out of ``frame``.
    row_lines: Mapping[int, int] | None = None
    #: Cells rows have beyond their labels or lack (``extra-cell``, ``missing-cell``).
    problems: tuple[CellProblem, ...] = ()
    #: Fields no header label pairs with: frictionless does not read them (and reports
    #: ``missing-label``), so ``resource`` here holds a schema without them.
    unread: tuple[str, ...] = ()
    #: Physical line of the (first) header row: 1 unless comments, an empty or a title
    #: line come first (frictionless finds the header as :mod:`.dialect` does).
    header_line: int = 1

    @property
    def name(self) -> str:
        return self.resource.name

    @property
    def rows(self) -> int:
        return self.frame.height

    def raw(self) -> bytes:
        return self.resource.path.read_bytes()

    def line_of_record(self, record_number: int) -> int:
        """Physical line of a record numbered like frictionless (header = 1)."""
        if self.row_lines is not None:
            return self.row_lines.get(record_number, record_number)
        index = record_number - 2
        if 0 <= index < self.frame.height:
            return int(self.frame[LINE][index])
        return record_number


def _layout(frame: pl.DataFrame, header: list[str], quoted: bool) -> tuple[int, list[str], int]:
    """Size of ``frame`` written as CSV (minimal quoting, LF ends), the columns holding
    line breaks, and the longest cell in bytes, in one pass. Without a quote in the file
    no cell can hold a comma, quote or line break, so only lengths are summed."""
    header_bytes = len(",".join(header).encode()) + 1
    if frame.height == 0:
        return header_bytes, [], 0
    lengths = pl.sum_horizontal(
        [pl.col(c).str.len_bytes().cast(pl.Int64).sum() for c in header]
    ).alias("__bytes")
    longest = pl.max_horizontal(
        [pl.col(c).str.len_bytes().max().fill_null(0) for c in header]
    ).alias("__longest")
    if not quoted:
        cells, widest = frame.select(lengths, longest).row(0)
        return header_bytes + int(cells) + frame.height * len(header), [], int(widest)
    special = [",", '"', "\n", "\r"]
    quoting = pl.sum_horizontal(
        [
            pl.when(pl.col(c).str.contains_any(special))
            .then(pl.col(c).str.count_matches('"', literal=True).cast(pl.Int64) + 2)
            .otherwise(0)
            .sum()
            for c in header
        ]
    ).alias("__quoting")
    breaks = [pl.col(c).str.contains("\n", literal=True).any().alias(c) for c in header]
    row = frame.select(lengths, quoting, longest, *breaks).row(0)
    multiline = [c for c, flag in zip(header, row[3:], strict=True) if flag]
    size = header_bytes + int(row[0]) + int(row[1]) + frame.height * len(header)
    return size, multiline, int(row[2])


def _lines(multiline: list[str]) -> pl.Expr:
    """Physical line of each record: 2 for the first, plus line breaks inside cells."""
    index = pl.int_range(pl.len(), dtype=pl.Int64) + 2
    if not multiline:
        return index.alias(LINE)
    breaks = pl.sum_horizontal(
        [pl.col(c).str.count_matches("\n", literal=True).fill_null(0) for c in multiline]
    ).cast(pl.Int64)
    return (index + breaks.cum_sum().shift(1, fill_value=0)).alias(LINE)


def read_table(resource: Resource, has_quote: bool | None = None) -> TextTable:
    """Read one resource as text, raising :class:`PackageError` for unusable files.

    The common case costs one Polars parse: a short row (which Polars pads silently)
    changes the file size that the parsed frame predicts, and only then is the file
    scanned line by line to name the ragged line. ``has_quote``: whether the file holds
    a double quote, when the caller's scan for NUL bytes has found out (else it is
    scanned here). Cells over the size limit are refused here too.
    """
    path = resource.path
    where = str(path)
    expected = list(resource.schema.field_names)
    size = regular_file_size(path, f"data file of table {resource.name!r}")
    try:
        with path.open("rb") as handle:
            head = handle.read(3)
    except OSError as error:
        raise PackageError(f"{where}: cannot be read ({error.strerror}).") from None
    if head.startswith(b"\xef\xbb\xbf"):
        raise PackageError(f"{where}: starts with a byte-order mark; save it as UTF-8 without BOM.")
    blank = size == 0 or (size < 4096 and not path.read_bytes().strip())
    if blank:
        raise PackageError(f"{where}: file is empty; expected at least a header row.")
    try:
        frame = pl.read_csv(
            path,
            infer_schema=False,
            raise_if_empty=True,
            truncate_ragged_lines=False,
            empty_string_is_null=_empty_is_missing(resource),
        )
    except pl.exceptions.PolarsError as error:
        problem = raw_problem(path.read_bytes(), where, len(expected))
        if problem is not None:
            raise problem from None
        reason = quoted(str(error).splitlines()[0])
        raise PackageError(f"{where}: malformed CSV ({reason}).") from None
    if frame.columns != expected:
        missing = [c for c in expected if c not in frame.columns]
        extra = [c for c in frame.columns if c not in expected]
        problem_text = (
            f"missing {quoted(missing) if missing else 'none'}, "
            f"unexpected {quoted(extra) if extra else 'none'}"
            if missing or extra
            else f"columns in the order {quoted(frame.columns)}"
        )
        raise PackageError(
            f"{where}: line 1 (header) does not match the Table Schema of {resource.name!r}: "
            f"expected {quoted(expected)}, found {problem_text}."
        )
    if has_quote is None:
        has_quote = scan_bytes(path, where)
    predicted, multiline, longest = _layout(frame, expected, has_quote)
    byte_exact = predicted == size
    if not byte_exact:
        raw = path.read_bytes()
        problem = raw_problem(raw, where, len(expected))
        if problem is not None:
            raise problem
    lines = frame.select(_lines(multiline)).to_series()
    if longest > MAX_CELL_BYTES:
        refuse_large_cells(frame, where, lines)
    # Polars keeps a quoted empty cell ("") as text; a file holding one is not byte exact.
    empty_done = None if byte_exact or not has_quote else False
    frame = _without_missing_values(frame, resource, empty_done=empty_done)
    if frame.width:
        lines = aligned(lines, frame.to_series(0))
    return TextTable(resource=resource, frame=frame.with_columns(lines), byte_exact=byte_exact)


def _empty_is_missing(resource: Resource) -> bool:
    """Whether an empty cell is missing in every field (then the reader nulls them)."""
    schema = resource.schema
    return all("" in schema.missing_values_of(f) for f in schema.fields)


def _without_missing_values(
    frame: pl.DataFrame, resource: Resource, *, empty_done: bool | None = None
) -> pl.DataFrame:
    """``frame`` with each field's missing values (its own, else the schema's) null
    (empty cells too, unless the reader has nulled them: ``empty_done``)."""
    schema = resource.schema
    if empty_done is None:
        empty_done = _empty_is_missing(resource)
    changes = []
    for field in schema.fields:
        values = [v for v in schema.missing_values_of(field) if v != "" or not empty_done]
        if values:
            column = pl.col(field.name)
            changes.append(
                pl.when(column.is_in(values)).then(None).otherwise(column).alias(field.name)
            )
    return frame.with_columns(changes) if changes else frame


def aligned(values: pl.Series, like: pl.Series) -> pl.Series:
    """``values`` cut into chunks of the lengths of ``like``'s (zero-copy slices).

    The CSV reader returns each column in chunks; a column added in one piece makes
    every later ``select`` over the frame copy all columns into single chunks first,
    which on a large table costs more than most checks.
    """
    lengths = like.chunk_lengths()
    if len(lengths) < 2 or values.chunk_lengths() == lengths:
        return values
    pieces = []
    offset = 0
    for length in lengths:
        pieces.append(values.slice(offset, length))
        offset += length
    return pl.concat(pieces, rechunk=False)


@cache
def _usable_pattern(pattern: str) -> bool:
    """Whether both Python and Polars compile ``pattern`` (cached: fields share them)."""
    try:
        re.compile(pattern)
        pl.select(pl.lit("").str.contains(f"^(?:{pattern})$"))
    except (re.error, pl.exceptions.PolarsError):
        return False
    return True


def check_schema(resource: Resource, names: tuple[str, ...]) -> None:
    """Refuse a Table Schema no engine can apply (raises :class:`PackageError`)."""
    schema = resource.schema
    where = f"Table Schema of {resource.name!r} ({resource.schema_relpath or 'inline'})"
    seen: set[str] = set()
    for field in schema.fields:
        if field.name in seen or not field.name:
            raise PackageError(f"{where}: field name {field.name!r} is empty or repeated.")
        seen.add(field.name)
        if field.type not in TABLE_SCHEMA_TYPES:
            raise PackageError(
                f"{where}: field {field.name!r} has type {field.type!r}; expected one of "
                f"{', '.join(sorted(TABLE_SCHEMA_TYPES))}."
            )
        constraints = field.constraints
        if not isinstance(constraints, Mapping):
            raise PackageError(f"{where}: constraints of {field.name!r} must be an object.")
        pattern = constraints.get("pattern")
        if pattern is not None and (not isinstance(pattern, str) or not _usable_pattern(pattern)):
            raise PackageError(
                f"{where}: field {field.name!r} has pattern {pattern!r}, which is not a "
                "regular expression both Python and Polars accept."
            )
        for key in ("minLength", "maxLength"):
            value = constraints.get(key)
            if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
                raise PackageError(f"{where}: {key} of {field.name!r} must be an integer.")
        for key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
            value = constraints.get(key)
            if value is None:
                continue
            parsed = parse_constraint(field, value)
            unparsed = field.type != "string" and isinstance(parsed, str)
            numeric = field.type in ("number", "integer", "year")
            if (
                isinstance(value, bool)
                or unparsed
                or (numeric and not isinstance(parsed, int | float))
                or field.type in ("string", "boolean")
            ):
                raise PackageError(
                    f"{where}: {key} {value!r} of {field.name!r} does not fit its type."
                )
        enum = constraints.get("enum")
        if enum is not None and (not isinstance(enum, list) or not enum):
            raise PackageError(f"{where}: enum of {field.name!r} must be a non-empty list.")
        if not isinstance(field.true_values, tuple) or not isinstance(field.false_values, tuple):
            raise PackageError(f"{where}: trueValues/falseValues of {field.name!r} must be lists.")
    for key in schema.primary_key:
        if key not in seen:
            raise PackageError(f"{where}: primary key field {key!r} is not a field.")
    for fk in schema.foreign_keys:
        unknown = [f for f in fk.fields if f not in seen]
        if unknown or fk.resource not in names or len(fk.fields) != len(fk.reference_fields):
            raise PackageError(
                f"{where}: foreign key {list(fk.fields)} -> "
                f"{fk.resource}.{list(fk.reference_fields)} does not match the fields and "
                "tables of the package."
            )
    if not all(isinstance(v, str) for v in schema.missing_values):
        raise PackageError(f"{where}: missingValues must be a list of strings.")


#: Column of a record-by-record read: whether a cell under an extra label holds a value.
_FILLED = "__filled__"


def _blank_mask(frame: pl.DataFrame, names: list[str]) -> pl.Expr:
    blank = pl.all_horizontal([pl.col(n).is_null() for n in names])
    return blank & ~pl.col(_FILLED) if _FILLED in frame.columns else blank


def _without_blank_rows(table: TextTable) -> TextTable:
    """``table`` with rows whose every cell is missing left out and kept as
    ``blank_lines`` (one cheap screen; the frame is copied only when there are some)."""
    names = list(table.resource.schema.field_names)
    frame = table.frame
    if not names or frame.height == 0 or not frame.select(_blank_mask(frame, names).any()).item():
        return table
    numbered = frame.with_columns(
        (
            pl.int_range(pl.len(), dtype=pl.Int64) + 2 if table.row_lines is None else pl.lit(0)
        ).alias("__row")
    )
    if table.row_lines is not None:
        by_line = {line: row for row, line in table.row_lines.items()}
        numbered = numbered.with_columns(
            pl.col(LINE).replace_strict(by_line, return_dtype=pl.Int64).alias("__row")
        )
    blank = numbered.filter(_blank_mask(frame, names))
    kept = numbered.filter(~_blank_mask(frame, names))
    row_lines = dict(zip(kept["__row"].to_list(), kept[LINE].to_list(), strict=True))
    row_lines |= dict(zip(blank["__row"].to_list(), blank[LINE].to_list(), strict=True))
    blank_lines = {*table.blank_lines, *blank[LINE].to_list()}
    return replace(
        table,
        frame=kept.drop("__row"),
        blank_lines=tuple(sorted(blank_lines)),
        row_lines=row_lines,
        # frictionless reports a blank row as that alone.
        problems=tuple(p for p in table.problems if p.line not in blank_lines),
    )


def _labelled(resource: Resource, count: int) -> Resource:
    """``resource`` with only its first ``count`` fields (those the header labels pair
    with), and the keys that name only those: frictionless checks no other."""
    schema = resource.schema
    if count >= len(schema.fields):
        return resource
    fields = schema.fields[:count]
    kept = {field.name for field in fields}
    reduced = replace(
        schema,
        fields=fields,
        primary_key=schema.primary_key if set(schema.primary_key) <= kept else (),
        foreign_keys=tuple(fk for fk in schema.foreign_keys if set(fk.fields) <= kept),
    )
    return replace(resource, schema=reduced)


def _read_records_table(resource: Resource, dialect: Dialect, encoding: str) -> TextTable:
    """Read a resource record by record (:mod:`.dialect`): any dialect, encoding, BOM,
    empty lines, labels other than the field names, more or fewer labels or cells."""
    names = resource.schema.field_names
    read = read_records(resource, dialect, encoding)
    labelled = _labelled(resource, len(read.labels))
    frame = _without_missing_values(frame_of(read), labelled, empty_done=False)
    row_lines = dict(zip(read.row_numbers, read.lines, strict=True))
    row_lines |= dict(zip(read.blank_row_numbers, read.blank_lines, strict=True))
    extra = [pl.Series(LINE, read.lines, pl.Int64)]
    if any(read.filled):
        extra.append(pl.Series(_FILLED, read.filled, pl.Boolean))
    table = TextTable(
        resource=labelled,
        frame=frame.with_columns(extra),
        byte_exact=False,
        blank_lines=read.blank_lines,
        labels=read.labels if read.labels != names else None,
        row_lines=row_lines,
        problems=read.problems,
        unread=names[len(read.labels) :],
        header_line=read.header_line,
    )
    table = _without_blank_rows(table)
    return replace(table, frame=table.frame.drop(_FILLED, strict=False))


def _recoverable(resource: Resource, error: PackageError) -> bool:
    """Whether a default-dialect file the fast reader refused is one frictionless reads:
    a byte-order mark, empty lines, labels other than the field names, or rows with more
    or fewer cells than the fields."""
    if isinstance(error, RaggedTableError):
        return True
    try:
        with resource.path.open("rb") as handle:
            head = handle.read(len(BOM))
        raw = resource.path.read_bytes()
    except OSError:
        return False
    if head == BOM:
        return True
    body = raw.replace(b"\r\n", b"\n")
    if b"\n\n" in body or body.startswith(b"\n"):
        return True
    labels = first_labels(resource)
    names = resource.schema.field_names
    if labels is None:
        return False
    # More, fewer, renamed, reordered or repeated labels are findings; equal ones holding
    # a quote were misread by the fast reader (Polars keeps a header's "" escapes).
    return tuple(labels) != names or any('"' in label for label in labels)


def read_resource(resource: Resource, raw: Mapping[str, Any]) -> TextTable:
    """Read one resource as text with its dialect and encoding (``raw`` is its
    descriptor). The fast reader takes the default dialect; anything else, and
    default-dialect files it refuses that frictionless reads, go record by record."""
    # The package's guards (csv_reader) first: a FIFO would make any read wait forever.
    regular_file_size(resource.path, f"data file of table {resource.name!r}")
    dialect, encoding = Dialect.of(raw), encoding_of(raw)
    utf8 = is_utf8(encoding)
    has_quote = None
    if utf8:  # other encodings are searched for NUL once decoded (UTF-16 holds NUL bytes)
        has_quote = scan_bytes(resource.path, str(resource.path))
    if dialect.default and utf8:
        try:
            return _without_blank_rows(read_table(resource, has_quote))
        except PackageError as error:
            if not _recoverable(resource, error):
                raise
    table = _read_records_table(resource, dialect, encoding)
    refuse_large_cells(table.frame, str(resource.path), table.frame[LINE])
    return table


def foreign_keys_elsewhere(package: DataPackage) -> list[str]:
    """Foreign keys of the tables that point at resources only frictionless reads."""
    others = {other.name for other in package.other_resources}
    return [
        f"{resource.name}.{','.join(fk.fields)} -> {fk.resource}"
        for resource in package.resources
        for fk in resource.schema.foreign_keys
        if fk.resource in others
    ]


def raw_resources(package: DataPackage) -> dict[str, Mapping[str, Any]]:
    """Each resource's descriptor as written, by name."""
    listed = package.descriptor.get("resources", [])
    by_name = {str(r.get("name")): r for r in listed if isinstance(r, Mapping)}
    return {r.name: by_name.get(r.name, {}) for r in package.resources}


def _file_size(resource: Resource) -> int:
    try:
        return resource.path.stat().st_size
    except OSError:
        return 0  # read_table names the problem


def read_package(
    package: DataPackage, on_read: Callable[[TextTable], object] | None = None
) -> dict[str, TextTable]:
    """Check every schema, then read every table, refusing the first unusable file (in
    package order). Returns the tables in package order.

    ``on_read`` is called with each table as soon as it is read (the Polars engine
    starts checking it in the background while the next file is parsed). The largest
    files are read first, so that their checks, the longest, overlap the reading of the
    rest instead of trailing after it.
    """
    names = package.table_names
    every = names + tuple(other.name for other in package.other_resources)
    if len(set(every)) != len(every):
        raise PackageError(f"{package.descriptor_path}: resource names repeat: {list(every)}.")
    for resource in package.resources:
        check_schema(resource, every)
    tables: dict[str, TextTable] = {}
    raw = raw_resources(package)
    for resource in sorted(package.resources, key=_file_size, reverse=True):
        try:
            tables[resource.name] = read_resource(resource, raw[resource.name])
        except PackageError:
            # An unusable file earlier in the package wins, as in a sequential read.
            for earlier in package.resources[: package.resources.index(resource)]:
                if earlier.name not in tables:
                    read_resource(earlier, raw[earlier.name])
            raise
        if on_read is not None:
            on_read(tables[resource.name])
    tables = {name: tables[name] for name in names}
    for resource in package.resources:
        for fk in resource.schema.foreign_keys:
            if fk.resource not in names:
                continue  # a resource only frictionless reads (foreign_keys_elsewhere)
            target = package.resource(fk.resource).schema.field_names
            if any(f not in target for f in fk.reference_fields):
                raise PackageError(
                    f"Table Schema of {resource.name!r}: foreign key references "
                    f"{fk.resource}.{list(fk.reference_fields)}, which are not all fields."
                )
    return tables
