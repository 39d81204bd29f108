"""Differential tests over the whole Table Schema grammar and the CSV dialects.

Hypothesis builds one-table packages: fields of every type and format (with
``missingValues`` per field and per schema, ``required`` and ``unique``), cells drawn
from valid and invalid values of each, written in a random dialect and encoding, with
blank rows, comment rows, renamed labels, rows with a cell too few or too many, and
headers with a label too few or too many. Both engines must give the same verdict
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
    ("integer", "default", "{}"): ("1", "-1", "+7", "1.0", "99999999999999999999999", "x"),
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
    ("any", "default", "{}"): ("anything", "1"),
}
MISSING = ("", "NA", "-")
UNHASHABLE = ("array", "object", "geojson", "geopoint")
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
        constraints = {}
        if draw(st.booleans()):
            constraints["required"] = True
        # frictionless 5 cannot compare lists and dicts for uniqueness (TypeError).
        if draw(st.integers(0, 4)) == 0 and kind not in UNHASHABLE + ZONED:
            constraints["unique"] = True
        if constraints:
            field["constraints"] = constraints
        if draw(st.integers(0, 4)) == 0:
            field["missingValues"] = draw(st.lists(st.sampled_from(MISSING), max_size=2))
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
    return dialect


def _write(rows: list[list[str]], dialect: dict[str, Any], terminator: str) -> str:
    buffer = io.StringIO()
    writer = csv.writer(
        buffer,
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
    pools = [GRAMMAR[(f["type"], f["format"], _extra(f))] + MISSING for f in schema_fields]
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
    header = [] if dialect.get("header") is False else [labels]
    terminator = data.draw(st.sampled_from(["\n", "\r\n"]))
    text = _write(header + body, dialect, terminator)
    if "commentChar" in dialect:
        lines = text.split(terminator)
        lines.insert(data.draw(st.integers(1, max(1, len(lines) - 1))), "# a comment")
        text = terminator.join(lines)
    encoding = data.draw(st.sampled_from(["utf-8", "utf-8", "latin-1", "utf-8-bom"]))
    raw = text.encode("latin-1" if encoding == "latin-1" else "utf-8")
    if encoding == "utf-8-bom":
        raw = b"\xef\xbb\xbf" + raw
    schema: dict[str, Any] = {"fields": schema_fields}
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
        (root / "datapackage.json").write_text(json.dumps({"resources": [resource]}))
        polars = validate(root, engines=("polars",))
        frictionless = validate(root, engines=("frictionless",))
    assert polars.valid == frictionless.valid
    assert _located(polars) == _located(frictionless), (raw, resource, polars.to_text())


def _extra(field: dict[str, Any]) -> str:
    extra = {k: v for k, v in field.items() if k not in ("name", "type", "format")}
    extra.pop("constraints", None)
    extra.pop("missingValues", None)
    return json.dumps(extra) if extra else "{}"
