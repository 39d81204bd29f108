"""Reading the package's CSVs, and the one set of guards every reader applies.

``fmt`` and ``diff`` read text through :func:`read_text_table`, the loader (and so
``show``, ``export``, ``release build``) checks a file with :func:`check_file` before
its typed parse, and the validators' reader (:mod:`relations_data.validation.reading`,
which also reads the CSV dialects frictionless reads) calls the same guards. Refused
everywhere, with a :class:`~relations_data.errors.PackageError` naming the file (and
line):

- a missing file, a folder, or anything that is not a regular file (a FIFO would make
  the read wait forever);
- a NUL byte (``a`` and ``a\\0`` would be two different identifiers);
- a row with too many or too few fields (Polars pads a short row with nulls silently),
  as a :class:`~relations_data.errors.RaggedTableError` (which ``validate`` turns into
  findings instead);
- a cell larger than :data:`MAX_CELL_BYTES`.

In the default dialect that ``fmt`` and the loader read, also an empty file, a
byte-order mark, bytes that are not UTF-8, and a header that does not match the Table
Schema. Messages quote at most :data:`~relations_data.messages.MAX_QUOTED_CHARS`
characters of a header or cell.
"""

from __future__ import annotations

import csv
import io
import mmap
import stat
from pathlib import Path

import polars as pl

from .errors import PackageError, RaggedTableError
from .messages import quoted
from .package import Resource

#: Largest cell accepted, in bytes of UTF-8 (1 MiB). The same for every command.
MAX_CELL_BYTES = 1024 * 1024
# The csv module (used for records that span lines) refuses fields over 128 Ki
# characters by default; a cell within MAX_CELL_BYTES has at most as many characters.
csv.field_size_limit(max(csv.field_size_limit(), MAX_CELL_BYTES + 1))


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
        raise PackageError(csv_problem(error, reader.line_num)) from None
    return counts


def csv_problem(error: csv.Error, line: int) -> str:
    """What the :mod:`csv` module's ``error`` at ``line`` means, for a message."""
    if "field larger than field limit" in str(error):
        return f"line {line} holds a cell larger than the limit of {MAX_CELL_BYTES} bytes"
    return f"malformed CSV at line {line} ({error})"


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
        raise RaggedTableError(
            f"{where}: line {line} has {found} field(s) but the header and schema have "
            f"{expected}{more}; every row needs exactly {expected} comma-separated fields."
        )


def raw_problem(raw: bytes, where: str, expected: int) -> PackageError | None:
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


def scan_bytes(path: Path, where: str) -> bool:
    """Refuse a NUL byte; return whether the file holds a double quote. Memory-mapped,
    so the file is searched without being read into memory."""
    if regular_file_size(path, "data file") == 0:
        return False  # nothing to map; the reader names an empty file
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


def _checked_bytes(resource: Resource, *, any_column_order: bool) -> bytes:
    """The bytes of a resource's CSV after every guard that needs no typed parse."""
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
    expected = list(resource.schema.field_names)
    problem = raw_problem(raw, where, len(expected))
    header = next(csv.reader(io.StringIO(raw.decode("utf-8", "replace"), newline="")), [])
    if header != expected and not (any_column_order and sorted(header) == sorted(expected)):
        raise _header_error(resource, header)
    if problem is not None:
        raise problem
    return raw


def check_file(resource: Resource) -> None:
    """The guards for a reader that parses the file itself (the loader, which reads with
    the schema's dtypes): regular file, not empty, no byte-order mark, UTF-8, no NUL
    byte, the schema's header in order, and exactly as many fields in every row. The
    loader checks the cell size on what it read (:func:`refuse_large_cells`)."""
    _checked_bytes(resource, any_column_order=False)


def read_text_table(resource: Resource) -> pl.DataFrame:
    """A resource's cells as written (nothing replaced by null but empty cells), columns
    in schema order whatever the header's order: what ``fmt`` rewrites and ``diff``
    compares. Every guard of :func:`check_file` applies, and the cell size limit."""
    raw = _checked_bytes(resource, any_column_order=True)
    try:
        frame = pl.read_csv(raw, infer_schema=False, raise_if_empty=True)
    except pl.exceptions.PolarsError as error:
        reason = quoted(str(error).splitlines()[0])
        raise PackageError(f"{resource.path}: malformed CSV ({reason}).") from None
    refuse_large_cells(frame, str(resource.path))
    return frame.select(resource.schema.field_names)
