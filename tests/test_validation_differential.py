"""Differential tests over the whole Table Schema grammar and the CSV dialects.

Hypothesis builds one-table packages: fields of every type and format (with
``missingValues`` per field and per schema, ``required``, ``unique``, bounds, ``enum``,
``pattern`` and lengths, primary keys), cells drawn from valid and invalid values of
each, written in a random dialect (header rows joined, quoting) and encoding, with blank
rows, comment rows, renamed labels, rows with a cell too few or too many, and headers
with a label too few or too many. Both engines must give the same verdict
and the same (line, column, rule) findings. Examples are bounded (and derandomized in
CI, see conftest.py) to keep the suite's time reasonable.
"""

from __future__ import annotations

import csv
import io
import json
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from relations_data.validation import Report, validate

#: (type, format, extra properties) -> cells, valid and invalid for it.
GRAMMAR: dict[tuple[str, str, str], tuple[str, ...]] = {
    ("string", "default", "{}"): ("a", "é", " x ", "#x", "1"),
    ("string", "email", "{}"): ("a@b.cd", "x", "a@b"),
    ("string", "uri", "{}"): ("http://x.org", "x", "mailto:a@b"),
    ("string", "uuid", "{}"): ("12345678-1234-1234-1234-123456789012", "123"),
    ("integer", "default", "{}"): (
        "1",
        "-1",
        "+7",
        "1_000",
        "1.0",
        "99999999999999999999999",
        "-170141183460469231731687303715884105729",
        "x",
    ),
    ("integer", "default", '{"bareNumber": false}'): ("$1", "1%", "1", "x"),
    ("number", "default", "{}"): ("1.5", "NaN", "1e3", "INF", "1,5", "x"),
    ("number", "default", '{"decimalChar": ",", "groupChar": "."}'): ("1.000,5", "1,5", "x"),
    ("boolean", "default", "{}"): ("true", "False", "1", "yes"),
    ("boolean", "default", '{"trueValues": ["Y"], "falseValues": ["N"]}'): ("Y", "N", "true"),
    ("date", "default", "{}"): ("2020-01-02", "2020-1-2", "1850-01", "2020-13-01"),
    ("date", "any", "{}"): ("1850-01", "1850", "Jan 2 2020", "2020-01-02", "garbage"),
    ("date", "%d/%m/%Y", "{}"): ("02/01/2020", "2020-01-02"),
    ("time", "default", "{}"): ("12:00:00", "12:00:00Z", "12:00:00+02:00", "12:00", "25:00:00"),
    ("time", "any", "{}"): ("12:00", "12:00 PM", "noon"),
    ("datetime", "default", "{}"): ("2020-01-02T12:00:00", "2020-01-02T12:00:00Z", "2020-01-02"),
    ("datetime", "any", "{}"): ("2020-01-02 12:00", "garbage"),
    ("year", "default", "{}"): ("2020", "20", "02020"),
    ("yearmonth", "default", "{}"): ("2020-01", "2020-13", "2020-1"),
    ("duration", "default", "{}"): ("P1Y2M", "PT1H", "1 day", "P"),
    ("geopoint", "default", "{}"): ("1,2", "90,180", "a,b"),
    ("geopoint", "array", "{}"): ("[1,2]", "1,2", "[200,200]"),
    ("geopoint", "object", "{}"): ('{"lon":1,"lat":2}', "[1,2]"),
    ("geojson", "default", "{}"): ('{"type":"Point","coordinates":[1,2]}', '{"a":1}', "x"),
    ("object", "default", "{}"): ('{"a":1}', "[1]", "x"),
    ("array", "default", "{}"): ("[1,2]", '{"a":1}', "x"),
    ("list", "default", '{"itemType": "integer", "delimiter": ";"}'): ("1;2", "1", "x;2"),
    ("list", "default", "{}"): ("a,b", "a"),
    ("any", "default", "{}"): ("anything", "1"),
}
MISSING = ("", "NA", "-")
V2 = "https://datapackage.org/profiles/2.0/datapackage.json"
#: Constraint values by (type, format): bounds for ``minimum``/``maximum`` (exclusive
#: too) and ``enum`` values, beyond 64 bits among them.
BOUNDS: dict[tuple[str, str], tuple[Any, ...]] = {
    ("integer", "default"): (0, 1, -1, 10**22, 10**40),
    ("number", "default"): (0, 1.5, 1000),
    ("date", "default"): ("2020-01-02", "1850-01-01"),
    ("year", "default"): (2000, 2020),
}
ENUMS: dict[tuple[str, str], tuple[Any, ...]] = {
    ("string", "default"): ("a", "é", "1"),
    ("integer", "default"): (1, -1, 99999999999999999999999),
    ("number", "default"): (1.5, 1000),
    ("year", "default"): (2020,),
}
PATTERNS = ("[a-z]", "[^#]*", "\\w+")


def _constraints(draw: Any, kind: str, format_: str) -> dict[str, Any]:
    """Table Schema constraints beyond ``required`` and ``unique`` for the field."""
    constraints: dict[str, Any] = {}
    bounds = BOUNDS.get((kind, format_)) if format_ == "default" else None
    if bounds and draw(st.integers(0, 2)) == 0:
        name = draw(st.sampled_from(["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"]))
        constraints[name] = draw(st.sampled_from(bounds))
    enum = ENUMS.get((kind, format_))
    if enum and draw(st.integers(0, 3)) == 0:
        constraints["enum"] = draw(st.lists(st.sampled_from(enum), min_size=1, unique=True))
    if kind in ("array", "list", "object") and draw(st.integers(0, 2)) == 0:
        constraints[draw(st.sampled_from(["minLength", "maxLength"]))] = draw(st.integers(0, 2))
    if kind == "string" and format_ == "default":
        if draw(st.integers(0, 3)) == 0:
            constraints["pattern"] = draw(st.sampled_from(PATTERNS))
        if draw(st.integers(0, 3)) == 0:
            constraints[draw(st.sampled_from(["minLength", "maxLength"]))] = draw(st.integers(0, 2))
    return constraints


UNHASHABLE = ("array", "object", "geojson", "geopoint", "list")
#: Times and datetimes with and without an offset are different values to frictionless
#: and compared as UTC here (docs/validation.md, "Differences left").
ZONED = ("time", "datetime")


@st.composite
def fields(draw: Any) -> list[dict[str, Any]]:
    kinds = draw(st.lists(st.sampled_from(sorted(GRAMMAR)), min_size=1, max_size=4))
    out = []
    for index, (kind, format_, extra) in enumerate(kinds):
        field: dict[str, Any] = {"name": f"f{index}", "type": kind, "format": format_}
        field |= json.loads(extra)
        constraints = _constraints(draw, kind, format_)
        if draw(st.booleans()):
            constraints["required"] = True
        # frictionless 5 cannot compare lists and dicts for uniqueness (TypeError).
        if draw(st.integers(0, 4)) == 0 and kind not in UNHASHABLE + ZONED:
            constraints["unique"] = True
        if constraints:
            field["constraints"] = constraints
        if draw(st.integers(0, 4)) == 0:
            # Unique: v2's object form requires it (a repeat is refused by both engines).
            field["missingValues"] = draw(
                st.lists(st.sampled_from(MISSING), max_size=2, unique=True)
            )
        out.append(field)
    return out


@st.composite
def dialects(draw: Any) -> dict[str, Any]:
    dialect: dict[str, Any] = {}
    delimiter = draw(st.sampled_from([",", ",", ";", "\t", "|"]))
    if delimiter != ",":
        dialect["delimiter"] = delimiter
    if draw(st.integers(0, 3)) == 0:
        dialect["quoteChar"] = "'"
    if draw(st.integers(0, 3)) == 0:
        dialect |= {"doubleQuote": False, "escapeChar": "\\"}
    if draw(st.integers(0, 3)) == 0:
        dialect["skipInitialSpace"] = True
    if draw(st.integers(0, 3)) == 0:
        dialect["commentChar"] = "#"
    if draw(st.integers(0, 5)) == 0:
        dialect["header"] = False
    elif draw(st.integers(0, 5)) == 0:
        dialect |= {"headerRows": [1, 2], "headerJoin": draw(st.sampled_from(["", "."]))}
    return dialect


def _header(labels: list[str], dialect: dict[str, Any]) -> list[list[str]]:
    """The header rows spelling ``labels``: none, one, or two joined by ``headerJoin``
    (``f0`` as ``f`` and ``0`` joined by "", or as ``f`` and ``0`` giving ``f.0``, a
    renamed label)."""
    if dialect.get("header") is False:
        return []
    if "headerRows" not in dialect:
        return [labels]
    return [[label[:1] for label in labels], [label[1:] for label in labels]]


def _write(rows: list[list[str]], dialect: dict[str, Any], terminator: str, quoting: int) -> str:
    buffer = io.StringIO()
    writer = csv.writer(
        buffer,
        quoting=quoting,
        delimiter=dialect.get("delimiter", ","),
        quotechar=dialect.get("quoteChar", '"'),
        doublequote=dialect.get("doubleQuote", True),
        escapechar=dialect.get("escapeChar"),
        lineterminator=terminator,
    )
    for row in rows:
        writer.writerow(row)
    return buffer.getvalue()


def _located(report: Report) -> set[tuple[int | None, str | None, str]]:
    return {(f.line, f.column, f.rule) for f in report.findings}


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data(), schema_fields=fields(), dialect=dialects())
def test_engines_agree_over_types_formats_and_dialects(
    data: Any, schema_fields: list[dict[str, Any]], dialect: dict[str, Any]
) -> None:
    names = [f["name"] for f in schema_fields]
    key = _primary_key(data, schema_fields)
    pools = [
        tuple(
            cell
            for cell in GRAMMAR[(f["type"], f["format"], _extra(f))] + MISSING
            # Keys beyond 128 bits are a difference left (docs/validation.md).
            if f["name"] not in key or len(cell.strip("+-")) < 39
        )
        for f in schema_fields
    ]
    rows = data.draw(
        st.lists(st.tuples(*[st.sampled_from(p) for p in pools]), min_size=1, max_size=6)
    )
    body: list[list[str]] = [list(row) for row in rows]
    for _ in range(data.draw(st.integers(0, 2))):  # blank rows
        body.insert(data.draw(st.integers(0, len(body))), [""] * len(names))
    for row in body:  # ragged rows: a cell dropped or added
        change = data.draw(st.sampled_from(["keep"] * 6 + ["drop", "add"]))
        if change == "drop" and len(row) > 1:
            row.pop(data.draw(st.integers(0, len(row) - 1)))
        elif change == "add":
            row.append(data.draw(st.sampled_from(("x", "", "1"))))
    labels = list(names)
    if data.draw(st.integers(0, 5)) == 0:
        labels[-1] = "renamed"
    shape = data.draw(st.sampled_from(["same"] * 6 + ["fewer", "more"]))
    if shape == "fewer" and len(labels) > 1:
        labels.pop()
    elif shape == "more":
        labels.append(data.draw(st.sampled_from(("extra", names[0], ""))))
    header = _header(labels, dialect)
    terminator = data.draw(st.sampled_from(["\n", "\r\n"]))
    quoting = data.draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_MINIMAL, csv.QUOTE_ALL]))
    text = _write(header + body, dialect, terminator, quoting)
    if "commentChar" in dialect:
        lines = text.split(terminator)
        lines.insert(data.draw(st.integers(0, max(1, len(lines) - 1))), "# a comment")
        text = terminator.join(lines)
    encoding = data.draw(st.sampled_from(["utf-8", "utf-8", "latin-1", "utf-8-bom"]))
    raw = text.encode("latin-1" if encoding == "latin-1" else "utf-8")
    if encoding == "utf-8-bom":
        raw = b"\xef\xbb\xbf" + raw
    schema: dict[str, Any] = {"fields": schema_fields}
    if key:
        schema["primaryKey"] = key
    if data.draw(st.booleans()):
        schema["missingValues"] = ["", "NA"]
    resource: dict[str, Any] = {"name": "t", "path": "t.csv", "schema": schema}
    if dialect:
        resource["dialect"] = dialect
    if encoding == "latin-1":
        resource["encoding"] = "latin-1"
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "t.csv").write_bytes(raw)
        package: dict[str, Any] = {"resources": [resource]}
        if data.draw(st.booleans()) or "exclusive" in json.dumps(schema):
            package["$schema"] = V2  # else v1, which has no exclusive bounds
            if data.draw(st.booleans()):  # v2's object form of missing values
                for field in schema_fields:
                    if "missingValues" in field:
                        field["missingValues"] = [{"value": v} for v in field["missingValues"]]
        (root / "datapackage.json").write_text(json.dumps(package))
        polars = validate(root, engines=("polars",))
        frictionless = validate(root, engines=("frictionless",))
    assert polars.valid == frictionless.valid
    assert _located(polars) == _located(frictionless), (raw, resource, polars.to_text())


def _primary_key(data: Any, schema_fields: list[dict[str, Any]]) -> list[str]:
    """Sometimes a primary key of one or two fields; its fields are made ``required``
    and not ``unique`` (an empty or repeated key cell is otherwise reported differently
    on purpose, docs/validation.md)."""
    candidates = [f for f in schema_fields if f["type"] not in UNHASHABLE + ZONED]
    if not candidates or data.draw(st.integers(0, 3)) != 0:
        return []
    chosen = data.draw(st.lists(st.sampled_from(candidates), min_size=1, max_size=2, unique_by=id))
    for field in chosen:
        constraints = field.setdefault("constraints", {})
        constraints.pop("unique", None)
        constraints["required"] = True
    return [f["name"] for f in chosen]


def _extra(field: dict[str, Any]) -> str:
    extra = {k: v for k, v in field.items() if k not in ("name", "type", "format")}
    extra.pop("constraints", None)
    extra.pop("missingValues", None)
    return json.dumps(extra) if extra else "{}"
