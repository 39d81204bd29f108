"""The one CSV reader of the package, with its guards: every command reads a table here.

``validate``, ``fmt``, ``load`` (and so ``show``, ``export``, ``release build``) and
``diff`` read each CSV through :func:`read_table`, so they accept and refuse exactly the
same files. Refused, with a :class:`~relations_data.errors.PackageError` naming the file
(and line):

- a missing file, a folder, or anything that is not a regular file (a FIFO would make
  the read wait forever);
- an empty file, a byte-order mark, bytes that are not UTF-8, a NUL byte (``a`` and
  ``a\\0`` would be two different identifiers);
- a row with too many or too few fields (Polars pads a short row with nulls silently);
- a header that does not match the Table Schema;
- a cell larger than :data:`MAX_CELL_BYTES`.

Messages quote at most :data:`~relations_data.messages.MAX_QUOTED_CHARS` characters of
a header or cell. Everything else is read as strings, so that a cell that is not of its
type is reported on its own line and column by the validators, not as a failed read.
"""

from __future__ import annotations

import csv
import io
import mmap
import stat
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from .errors import PackageError
from .messages import quoted
from .package import Resource

#: Name of the column holding each record's physical CSV line (header = line 1).
LINE = "__line__"
#: Largest cell accepted, in bytes of UTF-8 (1 MiB). The same for every command.
MAX_CELL_BYTES = 1024 * 1024
# The csv module (used for records that span lines) refuses fields over 128 Ki
# characters by default; a cell within MAX_CELL_BYTES has at most as many characters.
csv.field_size_limit(max(csv.field_size_limit(), MAX_CELL_BYTES + 1))


@dataclass(frozen=True)
class TextTable:
    """A CSV read as text: ``frame`` holds the schema's columns (missing values as null)
    plus :data:`LINE`. ``byte_exact`` is true when the file's size is exactly what
    writing ``frame`` with minimal quoting and LF line ends gives (the canonical-form
    check then needs no second copy of the file)."""

    resource: Resource
    frame: pl.DataFrame
    byte_exact: bool

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
        index = record_number - 2
        if 0 <= index < self.frame.height:
            return int(self.frame[LINE][index])
        return record_number


def _unused_byte(raw: bytes) -> str:
    for candidate in ("\x1f", "\x1e", "\x1d", "\x1c", "\x01", "\x02"):
        if candidate.encode() not in raw:
            return candidate
    return ""


def _field_counts_fast(raw: bytes, separator: str) -> pl.DataFrame | None:
    """Field count of every physical line, or ``None`` when a quoted cell spans lines.

    Quoted segments are removed before commas are counted, so commas inside quotes do
    not count; a line with an odd number of quotes means a record spans lines, which the
    (slower) :mod:`csv` reader handles instead.
    """
    lines = pl.read_csv(
        raw,
        has_header=False,
        separator=separator,
        quote_char=None,
        schema={"text": pl.String()},
        empty_string_is_null=False,
        raise_if_empty=False,
    ).with_row_index("line", offset=1)
    counted = lines.select(
        "line",
        quotes=pl.col("text").str.count_matches('"', literal=True),
        fields=pl.col("text").str.replace_all(r'"[^"]*"', "").str.count_matches(",", literal=True)
        + 1,
    )
    if counted.select((pl.col("quotes") % 2 == 1).any()).item():
        return None
    return counted.select("line", "fields")


def _field_counts_csv(text: str) -> list[tuple[int, int]]:
    """``(line, fields)`` of every record, by the :mod:`csv` module (records may span
    lines; on a small file this is also faster than a Polars query)."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    counts: list[tuple[int, int]] = []
    start = 1
    try:
        for record in reader:
            counts.append((start, len(record)))
            start = reader.line_num + 1
    except csv.Error as error:
        if "field larger than field limit" in str(error):
            raise PackageError(
                f"line {reader.line_num} holds a cell larger than the limit of "
                f"{MAX_CELL_BYTES} bytes"
            ) from None
        raise PackageError(f"malformed CSV at line {reader.line_num} ({error})") from None
    return counts


#: Below this size the csv module counts fields faster than a Polars query starts.
_SMALL_FILE = 256 * 1024


def check_field_counts(raw: bytes, text: str, expected: int, where: str) -> None:
    """Refuse rows with too many or too few fields.

    Polars pads short rows with empty strings silently, so the count is taken here, from
    the file itself, before Polars parses it.
    """
    # The csv module also ends a line at a bare CR, which Polars keeps inside the cell.
    small = len(raw) < _SMALL_FILE and b"\r" not in raw
    separator = "" if small else _unused_byte(raw)
    fast = _field_counts_fast(raw, separator) if separator else None
    if fast is not None:
        wrong = [tuple(row) for row in fast.filter(pl.col("fields") != expected).iter_rows()]
    else:
        try:
            counts = _field_counts_csv(text)
        except PackageError as error:
            raise PackageError(f"{where}: {error}.") from None
        wrong = [(line, found) for line, found in counts if found != expected]
    if wrong:
        line, found = wrong[0]
        more = f" ({len(wrong) - 1} more ragged line(s))" if len(wrong) > 1 else ""
        raise PackageError(
            f"{where}: line {line} has {found} field(s) but the header and schema have "
            f"{expected}{more}; every row needs exactly {expected} comma-separated fields."
        )


def _raw_problem(raw: bytes, where: str, expected: int) -> PackageError | None:
    """Diagnose a file Polars refused: encoding, then field counts (with the line)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        return PackageError(
            f"{where}: line {line} is not valid UTF-8 (byte {raw[error.start]:#04x}); "
            "save the file as UTF-8."
        )
    try:
        check_field_counts(raw, text, expected, where)
    except PackageError as error:
        return error
    return None


def regular_file_size(path: Path, what: str) -> int:
    """Size of ``path``, refusing anything but a regular file before it is opened."""
    try:
        status = path.stat()
    except FileNotFoundError:
        raise PackageError(f"{path}: {what} not found.") from None
    except OSError as error:
        raise PackageError(f"{path}: {what} cannot be read ({error.strerror}).") from None
    if stat.S_ISDIR(status.st_mode):
        raise PackageError(f"{path}: expected a file ({what}) but found a folder.")
    if not stat.S_ISREG(status.st_mode):
        # Opening a FIFO or a device would wait for a writer, or read forever.
        raise PackageError(f"{path}: expected a regular file ({what}); refused.")
    return status.st_size


def _refuse_nul(data: bytes | mmap.mmap, where: str) -> None:
    nul = data.find(b"\0")
    if nul != -1:
        line = data[:nul].count(b"\n") + 1
        raise PackageError(
            f"{where}: line {line} holds a NUL byte, which no cell may contain; remove it."
        )


def _scan_bytes(path: Path, where: str) -> bool:
    """Refuse a NUL byte; return whether the file holds a double quote. Memory-mapped,
    so the file is searched without being read into memory."""
    with path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
        _refuse_nul(data, where)
        return data.find(b'"') != -1


def refuse_large_cells(frame: pl.DataFrame, where: str, lines: pl.Series | None = None) -> None:
    """Refuse a text cell over :data:`MAX_CELL_BYTES` (``lines``: each row's CSV line)."""
    if not frame.height:
        return
    longest = frame.select(pl.col(pl.String).str.len_bytes().max())
    for column, size in zip(longest.columns, longest.row(0) if longest.width else (), strict=True):
        if size is not None and size > MAX_CELL_BYTES:
            index = frame.select(pl.col(column).str.len_bytes().arg_max()).item()
            line = f"line {lines[index]}, " if lines is not None else ""
            raise PackageError(
                f"{where}: {line}column {quoted(column)} holds a cell of {size} bytes, "
                f"more than the limit of {MAX_CELL_BYTES} bytes."
            )


def _layout(frame: pl.DataFrame, header: list[str], has_quote: bool) -> tuple[int, list[str]]:
    """Size of ``frame`` written as CSV (minimal quoting, LF ends), and the columns
    holding line breaks, in one pass. Without a quote in the file no cell can hold a
    comma, quote or line break, so only lengths are summed."""
    header_bytes = len(",".join(header).encode()) + 1
    if frame.height == 0:
        return header_bytes, []
    lengths = pl.sum_horizontal(
        [pl.col(c).str.len_bytes().cast(pl.Int64).sum() for c in header]
    ).alias("__bytes")
    if not has_quote:
        cells = int(frame.select(lengths).item())
        return header_bytes + cells + frame.height * len(header), []
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
    row = frame.select(lengths, quoting, *breaks).row(0)
    multiline = [c for c, flag in zip(header, row[2:], strict=True) if flag]
    return header_bytes + int(row[0]) + int(row[1]) + frame.height * len(header), multiline


def _lines(multiline: list[str]) -> pl.Expr:
    """Physical line of each record: 2 for the first, plus line breaks inside cells."""
    index = pl.int_range(pl.len(), dtype=pl.Int64) + 2
    if not multiline:
        return index.alias(LINE)
    breaks = pl.sum_horizontal(
        [pl.col(c).str.count_matches("\n", literal=True).fill_null(0) for c in multiline]
    ).cast(pl.Int64)
    return (index + breaks.cum_sum().shift(1, fill_value=0)).alias(LINE)


def read_table(resource: Resource, *, any_column_order: bool = False) -> TextTable:
    """Read one resource as text, raising :class:`PackageError` for unusable files.

    ``any_column_order`` accepts the schema's columns in any order and returns them in
    schema order (``fmt`` puts the header in order); otherwise the header must be in
    schema order. The common case costs one Polars parse: a short row (which Polars
    pads silently) changes the file size that the parsed frame predicts, and only then
    is the file scanned line by line to name the ragged line.
    """
    path = resource.path
    where = str(path)
    expected = list(resource.schema.field_names)
    size = regular_file_size(path, f"data file of table {resource.name!r}")
    try:
        with path.open("rb") as handle:
            head = handle.read(4096)
    except OSError as error:
        raise PackageError(f"{where}: cannot be read ({error.strerror}).") from None
    if head.startswith(b"\xef\xbb\xbf"):
        raise PackageError(f"{where}: starts with a byte-order mark; save it as UTF-8 without BOM.")
    if size == 0 or (size <= len(head) and not head.strip()):
        raise PackageError(f"{where}: file is empty; expected at least a header row.")
    has_quote = _scan_bytes(path, where)
    try:
        frame = pl.read_csv(
            path,
            infer_schema=False,
            raise_if_empty=True,
            truncate_ragged_lines=False,
            empty_string_is_null=_empty_is_missing(resource),
        )
    except pl.exceptions.PolarsError as error:
        problem = _raw_problem(path.read_bytes(), where, len(expected))
        if problem is not None:
            raise problem from None
        reason = quoted(str(error).splitlines()[0])
        raise PackageError(f"{where}: malformed CSV ({reason}).") from None
    in_order = frame.columns == expected
    if not in_order and not (any_column_order and sorted(frame.columns) == sorted(expected)):
        raise _header_error(resource, frame.columns)
    if not in_order:
        frame = frame.select(expected)
    predicted, multiline = _layout(frame, expected, has_quote)
    byte_exact = predicted == size
    if not byte_exact:
        raw = path.read_bytes()
        problem = _raw_problem(raw, where, len(expected))
        if problem is not None:
            raise problem
    lines = frame.select(_lines(multiline)).to_series()
    refuse_large_cells(frame, where, lines)
    if not any_column_order:
        frame = _without_missing_values(frame, resource)
    if frame.width:
        lines = aligned(lines, frame.to_series(0))
    return TextTable(resource=resource, frame=frame.with_columns(lines), byte_exact=byte_exact)


def _empty_is_missing(resource: Resource) -> bool:
    """Whether an empty cell is missing in every field (then the reader nulls them)."""
    schema = resource.schema
    return all("" in schema.missing_values_of(f) for f in schema.fields)


def _without_missing_values(frame: pl.DataFrame, resource: Resource) -> pl.DataFrame:
    """``frame`` with each field's missing values (its own, else the schema's) null."""
    schema = resource.schema
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


def _header_error(resource: Resource, found: list[str]) -> PackageError:
    expected = list(resource.schema.field_names)
    missing = [c for c in expected if c not in found]
    extra = [c for c in found if c not in expected]
    problem_text = (
        f"missing {quoted(missing)}, unexpected {quoted(extra)}"
        if missing or extra
        else f"columns in the order {quoted(found)}"
    )
    return PackageError(
        f"{resource.path}: line 1 (header) of table {resource.name!r} does not match its "
        f"Table Schema: expected {quoted(expected)}, found {problem_text}."
    )


def check_file(resource: Resource) -> None:
    """The guards of :func:`read_table` for a reader that parses the file itself (the
    loader, which reads with the schema's dtypes): regular file, not empty, no
    byte-order mark, UTF-8, no NUL byte, the schema's header in order, and exactly as
    many fields in every row. The loader checks the cell size on what it read
    (:func:`refuse_large_cells`)."""
    path = resource.path
    where = str(path)
    size = regular_file_size(path, f"data file of table {resource.name!r}")
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise PackageError(f"{where}: cannot be read ({error.strerror}).") from None
    if raw.startswith(b"\xef\xbb\xbf"):
        raise PackageError(f"{where}: starts with a byte-order mark; save it as UTF-8 without BOM.")
    if size == 0 or not raw.strip():
        raise PackageError(f"{where}: file is empty; expected at least a header row.")
    _refuse_nul(raw, where)
    problem = _raw_problem(raw, where, len(resource.schema.field_names))
    header = next(csv.reader(io.StringIO(raw.decode("utf-8"), newline="")), [])
    if header != list(resource.schema.field_names):
        raise _header_error(resource, header)
    if problem is not None:
        raise problem


def read_text_table(resource: Resource) -> pl.DataFrame:
    """A resource's cells as written (no missing value replaced), columns in schema
    order, without line numbers: what ``fmt`` rewrites and ``diff`` compares."""
    return read_table(resource, any_column_order=True).frame.drop(LINE)


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
