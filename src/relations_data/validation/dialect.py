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
blank rows (every cell empty or a missing value), header labels that differ from
the field names (``incorrect-label``, ``duplicate-label``, ``blank-label``, named as
written in the file), more or fewer labels than fields (``extra-label``,
``missing-label``) and rows with more or fewer cells than labels (``extra-cell``,
``missing-cell``). The fast reader hands such files here.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import polars as pl

from ..csv_reader import MAX_CELL_BYTES, csv_problem
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
class CellProblem:
    """A cell a row has beyond its labels (``extra-cell``, ``column`` empty, as
    frictionless leaves the field name empty) or lacks (``missing-cell``, ``column`` the
    field's name)."""

    line: int
    rule: str
    column: str
    value: str | None
    #: The cell's place in the row (1 for the first), as frictionless numbers fields.
    position: int


@dataclass(frozen=True)
class Read:
    """A file read record by record: the columns of the fields its labels cover (a
    missing cell is ``None``), their physical lines and frictionless row numbers, the
    labels as written, the blank rows, and the cells rows have too many or too few.

    ``filled`` tells, per data row, whether a cell under an extra label (beyond the
    fields) holds a value: frictionless reads such a cell as a field of type ``any``,
    so that row is not blank."""

    columns: dict[str, list[str | None]]
    lines: list[int]
    row_numbers: list[int]
    labels: tuple[str, ...]
    blank_lines: tuple[int, ...]
    blank_row_numbers: tuple[int, ...]
    problems: tuple[CellProblem, ...] = ()
    filled: tuple[bool, ...] = ()
    header_line: int = 1


def _text(resource: Resource, encoding: str) -> str:
    where = str(resource.path)
    raw = resource.path.read_bytes()
    if not raw.strip():
        raise PackageError(f"{where}: file is empty; expected at least a header row.")
    if is_utf8(encoding) and raw.startswith(BOM):
        raw = raw[len(BOM) :]  # frictionless reads a UTF-8 file with a BOM as UTF-8
    try:
        text = raw.decode(encoding)
    except LookupError:
        raise PackageError(f"{where}: unknown encoding {encoding!r} in the descriptor.") from None
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise PackageError(
            f"{where}: line {line} is not valid {encoding} (byte {raw[error.start]:#04x}); "
            "declare the file's encoding in the descriptor or save it as UTF-8."
        ) from None
    # The guard of csv_reader, on the decoded text: in UTF-16 a NUL byte is no NUL.
    nul = text.find("\0")
    if nul != -1:
        line = text.count("\n", 0, nul) + 1
        raise PackageError(
            f"{where}: line {line} holds a NUL character, which no cell may contain; remove it."
        )
    return text


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


def _refuse_large_cell(record: list[str], line: int, where: str) -> None:
    """csv_reader's cell limit, checked here on every record: the csv module's own limit
    is process-wide, and frictionless raises it to 2 GiB when it is imported."""
    # A character is at most 4 bytes of UTF-8: only long cells are encoded to count.
    if max(map(len, record), default=0) * 4 <= MAX_CELL_BYTES:
        return
    for number, cell in enumerate(record, start=1):
        size = len(cell.encode("utf-8", "surrogatepass"))
        if size > MAX_CELL_BYTES:
            raise PackageError(
                f"{where}: line {line}, cell {number} holds {size} bytes, more than the "
                f"limit of {MAX_CELL_BYTES} bytes."
            )


def _joined_labels(header_cells: list[list[str]], join: str) -> tuple[str, ...]:
    """The labels of the header rows, joined as frictionless joins them: a column's
    cell is added unless it repeats the one above it (a merged cell), and a row shorter
    than the others adds nothing to the columns it lacks."""
    labels: list[str] = []
    above: dict[int, str] = {}
    for cells in header_cells:
        for index, cell in enumerate(cells):
            if above.get(index) == cell:
                continue
            above[index] = cell
            if index < len(labels):
                labels[index] = join.join([labels[index], cell])
            else:
                labels.append(cell)
    return tuple(labels)


#: Records frictionless looks at to find the header row.
_SAMPLE_SIZE = 100


def _header_rows(dialect: Dialect, records: list[list[str]], comments: set[int]) -> list[int]:
    """The header rows as frictionless 5 finds them. With the defaults (one header row,
    ``headerRows`` not changed) it takes the first record that is no comment and about
    as wide as the records of its sample (within 10%, at least one cell): a comment, an
    empty line or a much narrower title line before the header is skipped."""
    values = dialect.values
    if not values["header"]:
        return []
    declared = [int(r) for r in values["headerRows"]]
    if declared != DEFAULTS["headerRows"]:
        return declared
    sample = records[:_SAMPLE_SIZE]
    if not sample:
        return declared
    width = round(sum(len(r) for r in sample) / len(sample))
    drift = max(round(width * 0.1), 1)
    for number, record in enumerate(sample, start=1):
        if number not in comments and abs(len(record) - width) <= drift:
            return [number]
    return declared


def _extra_names(labels: tuple[str, ...], names: list[str]) -> list[str]:
    """Names of the fields frictionless makes up for labels beyond the schema's fields:
    the label, with ``2``, ``3``… added when the name is taken."""
    used = set(names)
    made = []
    for label in labels[len(names) :]:
        name, suffix = label, 2
        while name in used:
            name, suffix = f"{label}{suffix}", suffix + 1
        used.add(name)
        made.append(name)
    return made


def read_records(resource: Resource, dialect: Dialect, encoding: str) -> Read:
    """Read ``resource`` with its dialect; raise :class:`PackageError` for a file no
    engine can use (undecodable, a NUL character, a cell over the size limit).

    Rows and header are matched as frictionless 5 matches them: the labels pair with
    the fields by position, a field without a label is not read (``missing-label``), a
    label beyond the fields reads its cells as ``any`` (``extra-label``); each cell of a
    row beyond its labels is an ``extra-cell``, each one it lacks a ``missing-cell`` (read
    as empty). Without a header row the fields are the labels.
    """
    where = str(resource.path)
    names = list(resource.schema.field_names)
    values = dialect.values
    comment = str(values["commentChar"] or "")
    every: list[tuple[int, list[str]]] = []  # (line, record) of every record
    reader = _reader(_text(resource, encoding), dialect, where)
    start = 1
    try:
        for record in reader:
            line, start = start, reader.line_num + 1
            _refuse_large_cell(record, line, where)
            every.append((line, record))
    except csv.Error as error:
        raise PackageError(f"{where}: {csv_problem(error, reader.line_num)}.") from None
    # frictionless numbers every record, comment rows included.
    comments = {
        n for n, (_, r) in enumerate(every, 1) if comment and r and r[0].startswith(comment)
    }
    header_rows = _header_rows(dialect, [r for _, r in every], comments)
    header_cells: list[list[str]] = []
    records: list[tuple[int, int, list[str]]] = []
    blank_lines: list[int] = []
    blank_rows: list[int] = []
    for number, (line, record) in enumerate(every, start=1):
        if number in comments:
            continue
        if number in header_rows:
            header_cells.append(record)
        elif number > max(header_rows, default=0):
            if record:
                records.append((line, number, record))
            else:  # an empty line; rows of empty cells are decided later, by the
                blank_lines.append(line)  # fields' missing values
                blank_rows.append(number)
    labels = _joined_labels(header_cells, str(values["headerJoin"]))
    if not labels:  # no header, or an empty one: frictionless pairs the fields by position
        labels = tuple(names)
    read_names = names[: len(labels)]
    expected = read_names + _extra_names(labels, names)
    columns: dict[str, list[str | None]] = {name: [] for name in read_names}
    problems: list[CellProblem] = []
    filled: list[bool] = []
    for line, _, record in records:
        for index, name in enumerate(read_names):
            columns[name].append(record[index] if index < len(record) else None)
        # A field made up for an extra label has frictionless' default missing value.
        filled.append(any(record[len(names) : len(expected)]))
        problems.extend(
            CellProblem(line, "extra-cell", "", cell, position)
            for position, cell in enumerate(record[len(expected) :], start=len(expected) + 1)
        )
        problems.extend(
            CellProblem(line, "missing-cell", name, None, position)
            for position, name in enumerate(expected[len(record) :], start=len(record) + 1)
        )
    return Read(
        columns,
        [line for line, _, _ in records],
        [row for _, row, _ in records],
        labels,
        tuple(blank_lines),
        tuple(blank_rows),
        tuple(problems),
        tuple(filled),
        every[header_rows[0] - 1][0] if header_rows and header_rows[0] <= len(every) else 1,
    )


def first_labels(resource: Resource) -> list[str] | None:
    """The labels of the first record of a default-dialect file (``None`` if unreadable)."""
    try:
        with resource.path.open(encoding="utf-8-sig", newline="") as handle:
            return next(csv.reader(handle), None)
    except (OSError, UnicodeDecodeError, csv.Error):
        return None


def label_problems(labels: tuple[str, ...], names: tuple[str, ...]) -> list[tuple[str, str]]:
    """(column as written, frictionless error type) of each label that differs from its
    field's name, by position as frictionless compares them: labels beyond the fields
    (``extra-label``, the column named as the label), fields beyond the labels
    (``missing-label``, the field's name), then blank, repeated and other labels."""
    problems = [(label, "extra-label") for label in labels[len(names) :]]
    problems += [(name, "missing-label") for name in names[len(labels) :]]
    seen: set[str] = set()
    for label, name in zip(labels, names, strict=False):
        if label == "":
            problems.append((name, "blank-label"))
        elif label in seen:
            problems.append((label, "duplicate-label"))
        elif label != name:
            problems.append((label, "incorrect-label"))
        seen.add(label)
    return problems


def frame_of(read: Read) -> pl.DataFrame:
    """The columns of the fields ``read``'s labels cover, as text."""
    return pl.DataFrame(read.columns, schema=dict.fromkeys(read.columns, pl.String()))
