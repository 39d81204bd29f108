"""CSV dialects, encodings and headers the fast reader does not take, read as frictionless
reads them.

The fast reader (:func:`.reading.read_table`, one Polars parse) reads the dialect of
this project's files: comma, double quote, one header row in schema order, UTF-8. A
resource that declares another dialect or encoding, starts with a byte-order mark,
holds empty lines or has header labels other than its field names is read here
instead, record by record, with the standard library's :mod:`csv` reader (the same
reader frictionless uses, configured by the same dialect properties), into the same
:class:`~.reading.TextTable`. Slower, but such files are rare and small.

What frictionless reports rather than refuses is kept for the engines to report:
blank rows (every cell empty or a missing value) and header labels that differ from
the field names (``incorrect-label``, ``duplicate-label``, ``blank-label``, named as
written in the file).
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import polars as pl

from ..errors import PackageError
from ..package import Resource

#: The dialect of the fast reader (Table Schema / CSVW defaults).
DEFAULTS: Mapping[str, Any] = {
    "delimiter": ",",
    "quoteChar": '"',
    "doubleQuote": True,
    "escapeChar": None,
    "skipInitialSpace": False,
    "commentChar": None,
    "header": True,
    "headerRows": [1],
    "headerJoin": " ",
    "lineTerminator": "\r\n",
    "nullSequence": None,
    "caseSensitiveHeader": False,
}
#: Properties that change how the file is read (lineTerminator and nullSequence do
#: not: the csv reader takes \n, \r\n and \r alike, and frictionless 5 reads the null
#: sequence as text, so it is text here too).
_READING = ("delimiter", "quoteChar", "doubleQuote", "escapeChar", "skipInitialSpace",
            "commentChar", "header", "headerRows", "headerJoin")  # fmt: skip
BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class Dialect:
    """The dialect properties of a resource (v1 flat, or frictionless 5's ``csv``
    control), with the defaults filled in."""

    values: Mapping[str, Any]

    @classmethod
    def of(cls, raw: Mapping[str, Any]) -> Dialect:
        dialect = raw.get("dialect")
        values = dict(DEFAULTS)
        path = raw.get("path")
        if raw.get("format") == "tsv" or (isinstance(path, str) and path.endswith(".tsv")):
            values["delimiter"] = "\t"  # frictionless reads tsv as CSV with tabs
        if isinstance(dialect, Mapping):
            control = dialect.get("csv")
            values.update({k: v for k, v in dialect.items() if k in DEFAULTS})
            if isinstance(control, Mapping):
                values.update({k: v for k, v in control.items() if k in DEFAULTS})
        return cls(values)

    @property
    def default(self) -> bool:
        return all(self.values[k] == DEFAULTS[k] for k in _READING)

    def sanitized(self) -> dict[str, Any]:
        """The properties that differ from the defaults, for frictionless (scalars and
        the header row list only: nothing in a dialect can point at a file)."""
        out: dict[str, Any] = {}
        if "delimiter" in self.values and self.values["delimiter"] == "\t":
            out["delimiter"] = "\t"
        for key, value in self.values.items():
            if value == DEFAULTS[key]:
                continue
            if isinstance(value, str | bool | int) or value is None:
                out[key] = value
            elif key == "headerRows" and isinstance(value, list):
                out[key] = [int(v) for v in value]
        return out


def encoding_of(raw: Mapping[str, Any]) -> str:
    value = raw.get("encoding")
    return str(value) if isinstance(value, str) and value else "utf-8"


def is_utf8(encoding: str) -> bool:
    try:
        return codecs.lookup(encoding).name == "utf-8"
    except LookupError:
        return False


@dataclass(frozen=True)
class Read:
    """A file read record by record: the columns of its data rows, their physical lines
    and frictionless row numbers, the labels as written, and the blank rows."""

    columns: dict[str, list[str]]
    lines: list[int]
    row_numbers: list[int]
    labels: tuple[str, ...]
    blank_lines: tuple[int, ...]
    blank_row_numbers: tuple[int, ...]


def _text(resource: Resource, encoding: str) -> str:
    where = str(resource.path)
    raw = resource.path.read_bytes()
    if not raw.strip():
        raise PackageError(f"{where}: file is empty; expected at least a header row.")
    if is_utf8(encoding) and raw.startswith(BOM):
        raw = raw[len(BOM) :]  # frictionless reads a UTF-8 file with a BOM as UTF-8
    try:
        return raw.decode(encoding)
    except LookupError:
        raise PackageError(f"{where}: unknown encoding {encoding!r} in the descriptor.") from None
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise PackageError(
            f"{where}: line {line} is not valid {encoding} (byte {raw[error.start]:#04x}); "
            "declare the file's encoding in the descriptor or save it as UTF-8."
        ) from None


def _reader(text: str, dialect: Dialect, where: str) -> Any:
    values = dialect.values
    try:
        return csv.reader(
            io.StringIO(text, newline=""),
            delimiter=str(values["delimiter"]),
            quotechar=str(values["quoteChar"]) if values["quoteChar"] else None,
            doublequote=bool(values["doubleQuote"]),
            escapechar=str(values["escapeChar"]) if values["escapeChar"] else None,
            skipinitialspace=bool(values["skipInitialSpace"]),
            strict=False,
        )
    except (TypeError, ValueError) as error:
        raise PackageError(f"{where}: the CSV dialect cannot be used ({error}).") from None


def read_records(resource: Resource, dialect: Dialect, encoding: str) -> Read:
    """Read ``resource`` with its dialect; raise :class:`PackageError` for a file no
    engine can use (undecodable, or rows with too many or too few fields)."""
    where = str(resource.path)
    names = list(resource.schema.field_names)
    values = dialect.values
    comment = values["commentChar"]
    header_rows = [int(r) for r in values["headerRows"]] if values["header"] else []
    header_cells: list[list[str]] = []
    columns: dict[str, list[str]] = {name: [] for name in names}
    lines: list[int] = []
    rows: list[int] = []
    blank_lines: list[int] = []
    blank_rows: list[int] = []
    reader = _reader(_text(resource, encoding), dialect, where)
    start = 1
    number = 0
    try:
        for record in reader:
            line, start = start, reader.line_num + 1
            number += 1  # frictionless counts comment rows too
            if comment and record and record[0].startswith(str(comment)):
                continue
            if number in header_rows:
                header_cells.append(record)
                continue
            if number < max(header_rows, default=0):
                continue
            if not record:  # an empty line; rows of empty cells are decided later,
                blank_lines.append(line)  # by the fields' missing values
                blank_rows.append(number)
                continue
            if len(record) != len(names):
                raise PackageError(
                    f"{where}: line {line} has {len(record)} field(s) but the header and "
                    f"schema have {len(names)}; every row needs exactly {len(names)} fields."
                )
            for name, cell in zip(names, record, strict=True):
                columns[name].append(cell)
            lines.append(line)
            rows.append(number)
    except csv.Error as error:
        raise PackageError(f"{where}: malformed CSV at line {reader.line_num} ({error}).") from None
    labels = tuple(names)
    if header_rows:
        width = max((len(r) for r in header_cells), default=0)
        joined = [
            str(values["headerJoin"]).join(r[i] if i < len(r) else "" for r in header_cells)
            for i in range(width)
        ]
        if len(joined) != len(names):
            raise PackageError(
                f"{where}: line 1 (header) of table {resource.name!r} has {len(joined)} "
                f"label(s) but its Table Schema has {len(names)} fields."
            )
        labels = tuple(joined)
    return Read(columns, lines, rows, labels, tuple(blank_lines), tuple(blank_rows))


def first_labels(resource: Resource) -> list[str] | None:
    """The labels of the first record of a default-dialect file (``None`` if unreadable)."""
    try:
        with resource.path.open(encoding="utf-8-sig", newline="") as handle:
            return next(csv.reader(handle), None)
    except (OSError, UnicodeDecodeError, csv.Error):
        return None


def label_problems(labels: tuple[str, ...], names: tuple[str, ...]) -> list[tuple[str, str]]:
    """(column as written, frictionless error type) of each label that differs from its
    field's name, by position as frictionless compares them."""
    problems: list[tuple[str, str]] = []
    seen: set[str] = set()
    for label, name in zip(labels, names, strict=True):
        if label == "":
            problems.append((name, "blank-label"))
        elif label in seen:
            problems.append((label, "duplicate-label"))
        elif label != name:
            problems.append((label, "incorrect-label"))
        seen.add(label)
    return problems


def frame_of(read: Read, names: tuple[str, ...]) -> pl.DataFrame:
    return pl.DataFrame(
        {name: read.columns[name] for name in names},
        schema=dict.fromkeys(names, pl.String()),
    )
