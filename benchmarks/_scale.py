"""Generate a valid copy of the data package at any size, from its Table Schemas.

Every value is derived from a field's type and constraints (enum, pattern, bounds,
lengths, keys), so the generator follows the schemas as they change. Used by
``benchmarks/validate.py`` and by the validation tests (which inject violations into
the valid tables it writes).
"""

from __future__ import annotations

import math
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import polars as pl

from relations_data.canonical import format_package
from relations_data.package import DataPackage, bundled_root, open_package
from relations_data.schema import Field, TableSchema

#: Rows per table relative to the number of events (at least ``MIN_ROWS``).
RATIOS: Mapping[str, float] = {
    "events": 1.0,
    "event_actors": 2.0,
    "event_vessels": 0.5,
    "sources": 0.02,
    "actors": 0.01,
    "places": 0.005,
    "memberships": 0.005,
    "aliases": 0.01,
    "event_places": 1.0,
    "observations": 0.01,
    "claims": 0.02,
    "agreements": 0.01,
    "agreement_parties": 0.02,
    "vessels": 0.001,
}
MIN_ROWS = 6
BASE_DATE = "2000-01-01"


def minimal_match(pattern: str) -> str:
    """A short string matching ``pattern`` (anchors, classes, repeats, groups, branches)."""
    import importlib

    sre_parse: Any = importlib.import_module("re._parser")  # the re module's own parser

    def emit(items: Any) -> str:
        out = []
        for op, arg in items:
            name = str(op)
            if name == "LITERAL":
                out.append(chr(arg))
            elif name == "IN":
                out.append(_first_of_class(arg))
            elif name in ("MAX_REPEAT", "MIN_REPEAT"):
                low, _high, body = arg
                out.append(emit(body) * max(low, 1))
            elif name == "SUBPATTERN":
                out.append(emit(arg[-1]))
            elif name == "BRANCH":
                out.append(emit(arg[1][0]))
            elif name == "ANY":
                out.append("a")
        return "".join(out)

    def _first_of_class(arg: Any) -> str:
        for op, value in arg:
            if str(op) == "RANGE":
                return chr(value[0])
            if str(op) == "LITERAL":
                return chr(value)
        return "a"

    return emit(sre_parse.parse(pattern))


def _slug(table: str) -> str:
    return table.replace("_", "-")


def _ids(table: str, index: pl.Expr) -> pl.Expr:
    return pl.format("{}-{}", pl.lit(_slug(table)), index)


def row_counts(package: DataPackage, events: int) -> dict[str, int]:
    """Rows of each table for ``events`` events; citations cover every fact row once."""
    counts = {
        name: max(MIN_ROWS, math.ceil(events * RATIOS.get(name, 0.01)))
        for name in package.table_names
    }
    for name, (_, _, facts) in _polymorphic(package).items():
        counts[name] = sum(counts[t] for t in facts)
    return counts


def _polymorphic(package: DataPackage) -> dict[str, tuple[str, str, list[str]]]:
    names = set(package.table_names)
    found = {}
    for resource in package.resources:
        for field in resource.schema.fields:
            if field.name.endswith("_table") and field.enum and set(field.enum) <= names:
                sibling = field.name[: -len("_table")] + "_id"
                found[resource.name] = (field.name, sibling, [str(v) for v in field.enum])
    return found


def _text(field: Field, index: pl.Expr) -> pl.Expr:
    low = int(field.constraints.get("minLength", 0))
    high = int(field.constraints.get("maxLength", 1000))
    base = pl.format("{} {} of the generated package", pl.lit(field.name.replace("_", " ")), index)
    text = base.str.pad_end(max(low, 1), "x").str.slice(0, high)
    return text.str.strip_chars()


def _interval_fields(schema: TableSchema) -> dict[str, str]:
    """Date fields that start or end an interval, and precision fields."""
    roles: dict[str, str] = {}
    for field in schema.fields:
        if field.type == "date":
            roles[field.name] = "date"
        elif field.name.endswith("precision"):
            roles[field.name] = "precision"
    return roles


def _value(
    table: str, schema: TableSchema, field: Field, index: pl.Expr, counts: Mapping[str, int]
) -> pl.Expr:
    fk = next((fk for fk in schema.foreign_keys if fk.fields == (field.name,)), None)
    if fk is not None:
        size = counts[fk.resource]
        if fk.resource == table:
            return pl.when(index > 0).then(_ids(table, index // 2)).otherwise(None)
        return _ids(fk.resource, index % size)
    if schema.primary_key == (field.name,) or field.unique:
        return _ids(table, index)
    roles = _interval_fields(schema)
    if field.enum is not None:
        values = [str(v) for v in field.enum]
        if roles.get(field.name) == "precision":
            return pl.lit("day")
        if "supports" in values:
            return pl.lit("supports")
        verdicts = next(
            (r for r in field.rules if isinstance(r, dict) and r.get("rule") == "claim-verdict"),
            None,
        )
        if verdicts is not None:
            # Each record gets one citation with stance supports: pick a value it allows.
            def admits(bounds: Mapping[str, list[int | None]]) -> bool:
                return all(
                    low is not None
                    and low <= int(stance == "supports")
                    and (high is None or high >= int(stance == "supports"))
                    for stance, (low, high) in bounds.items()
                )

            fits = [v for v in values if admits(verdicts["stances"].get(v, {}))]
            return pl.lit(fits[0])
        return pl.lit(pl.Series(values)).gather(index % len(values))
    if field.type == "date":
        if field.name.startswith("valid_") and not field.required:
            return pl.lit(None, pl.String)
        day = pl.lit(BASE_DATE).str.to_date() + pl.duration(days=index % 7000)
        return day.dt.to_string("%Y-%m-%d")
    if field.type in ("number", "integer", "year"):
        low = field.constraints.get("minimum")
        high = field.constraints.get("maximum")
        if low is not None and high is not None:
            return pl.lit(str((low + high) // 2))
        start = int(low) if low is not None else 0
        return (index % 100 + start).cast(pl.String)
    if field.type == "boolean":
        return pl.lit(field.true_values[0])
    pattern = field.constraints.get("pattern")
    if field.name in ("country", "flag") or pattern == "^[A-Z]{3}$":
        codes = "currency" in field.name
        values = ["USD", "RUB", "EUR"] if codes else ["RUS", "KHM", "VNM", "SUN"]
        code = pl.lit(pl.Series(values)).gather(index % len(values))
        if codes and "unit" in schema.field_names:
            # A currency goes with money only (rule "currency-unit").
            unit = _value(table, schema, schema.field("unit"), index, counts)
            return pl.when(unit == "currency").then(code).otherwise(None)
        return code
    if field.name == "language" or field.name.endswith("_language"):
        return pl.lit("en")  # a registered BCP 47 tag (rule "language-tag")
    if field.name == "script":
        return pl.lit("Latn")  # the first match of the pattern, "Aaaa", is no ISO 15924 code
    if isinstance(pattern, str):
        if not field.required:
            return pl.lit(None, pl.String)
        return pl.lit(minimal_match(pattern))
    if field.format == "uri":
        return pl.format("https://example.org/{}", index)
    if not field.required and field.name == "note":
        return pl.lit(None, pl.String)
    return _text(field, index)


def _link_frame(
    table: str, schema: TableSchema, n: int, counts: Mapping[str, int]
) -> pl.DataFrame | None:
    """Tables whose primary key spans two foreign keys: distinct pairs, parent by parent."""
    key_fks = [fk for fk in schema.foreign_keys if fk.fields[0] in schema.primary_key]
    if len(key_fks) < 2:
        return None
    first, second = key_fks[0], key_fks[1]
    per = max(1, math.ceil(n / counts[first.resource]))
    index = pl.int_range(n, dtype=pl.Int64)
    parent = index // per
    columns: dict[str, pl.Expr] = {
        first.fields[0]: _ids(first.resource, parent % counts[first.resource]),
        second.fields[0]: _ids(second.resource, (parent + index % per) % counts[second.resource]),
    }
    for field in schema.fields:
        if field.name not in columns:
            columns[field.name] = _value(table, schema, field, index, counts)
    return pl.select(**{f.name: columns[f.name] for f in schema.fields})


def _citations(
    schema: TableSchema,
    spec: tuple[str, str, list[str]],
    counts: Mapping[str, int],
    table: str,
) -> pl.DataFrame:
    table_field, id_field, facts = spec
    parts = []
    for fact in facts:
        n = counts[fact]
        index = pl.int_range(n, dtype=pl.Int64)
        columns = {table_field: pl.lit(fact), id_field: _ids(fact, index)}
        # Cite each record from a source other than the one a record (a claim) names.
        columns |= {
            fk.fields[0]: _ids(fk.resource, (index + 1) % counts[fk.resource])
            for fk in schema.foreign_keys
            if len(fk.fields) == 1 and fk.resource != table
        }
        for field in schema.fields:
            if field.name not in columns:
                columns[field.name] = _value(table, schema, field, index, counts)
        parts.append(pl.select(**{f.name: columns[f.name] for f in schema.fields}))
    return pl.concat(parts)


def table_frame(package: DataPackage, name: str, counts: Mapping[str, int]) -> pl.DataFrame:
    """The generated rows of one table, all columns as text (nulls for empty cells)."""
    schema = package.resource(name).schema
    n = counts[name]
    spec = _polymorphic(package).get(name)
    if spec is not None:
        return _citations(schema, spec, counts, name)
    linked = _link_frame(name, schema, n, counts)
    if linked is not None:
        return linked
    index = pl.int_range(n, dtype=pl.Int64)
    return pl.select(
        **{f.name: _value(name, schema, f, index, counts).cast(pl.String) for f in schema.fields}
    )


def copy_layout(target: Path, source: Path | None = None) -> Path:
    """Copy ``datapackage.json`` and ``schemas/`` of the package at ``source`` to ``target``."""
    source = source or bundled_root()
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source / "datapackage.json", target / "datapackage.json")
    shutil.copytree(source / "schemas", target / "schemas", dirs_exist_ok=True)
    (target / "data").mkdir(exist_ok=True)
    return target


def build_package(target: Path, events: int, *, source: Path | None = None) -> Path:
    """Write a valid package with ``events`` events (and proportional tables) to ``target``."""
    copy_layout(target, source)
    package = open_package(target / "datapackage.json")
    counts = row_counts(package, events)
    for resource in package.resources:
        frame = table_frame(package, resource.name, counts)
        resource.path.parent.mkdir(parents=True, exist_ok=True)
        frame.write_csv(resource.path, line_terminator="\n", null_value="")
    format_package(package)
    return target
