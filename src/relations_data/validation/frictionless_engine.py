"""The frictionless engine: frictionless-py validates the package; errors become findings.

frictionless reads only what the package paths, already checked by
:func:`relations_data.package.open_package`, point at: it is given a descriptor rebuilt
from the checked resources (relative paths, schemas inlined), never the original file,
so an outside path or a URL other than ``http(s)`` can reach it neither through a
resource, a schema nor a dialect. It runs untrusted (frictionless' default, never
changed here), so even what it fetches cannot point it at a local file. The one thing
passed through is an ``http(s)`` URL of a resource's data or Table Schema, which
frictionless downloads (with its own 10 s timeout): a remote file that cannot be fetched
is its ``scheme-error``, a remote Table Schema that cannot be fetched or read its
``schema-error``, both findings naming the resource and the URL. A package without such
a URL makes no network access. Its row numbers count records with the header as row 1;
they are mapped to physical CSV lines the same way the Polars engine numbers them.

The ``pattern`` constraints are the one thing frictionless is not given: it matches them
with Python's backtracking ``re``, where a pattern such as ``^(a+)+$`` takes minutes on
a 40-character cell. This engine checks them itself with the Polars (Rust) regex engine,
which runs in linear time, and reports them as frictionless would (rule ``pattern``).
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from typing import Any

from ..errors import PackageError
from ..messages import redact
from ..package import DataPackage, OtherResource, is_remote
from .dialect import Dialect, encoding_of
from .findings import Collector
from .reading import LINE, TextTable
from .report import Finding, shorten
from .standards import standard_profile
from .typed import RULES

ENGINE = "frictionless"

#: frictionless error type -> rule name shared with the Polars engine.
_RULES = {
    "type-error": "type",
    "unique-error": "unique",
    "primary-key": "primary-key",
    "foreign-key": "foreign-key",
}
_CONSTRAINT = re.compile(r'constraint "(\w+)"')


def _kebab(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"-\1", name).lower()


def _rules_of(table: TextTable) -> list[str]:
    """The rules frictionless applies to a table: the schema's constraints and keys."""
    schema = table.resource.schema
    rules = ["type"]
    for field in schema.fields:
        for name in field.constraints:
            rule = _kebab(name)
            if rule in RULES and rule not in rules:
                rules.append(rule)
    if schema.primary_key:
        rules.append("primary-key")
    if schema.foreign_keys:
        rules.append("foreign-key")
    return rules


def safe_descriptor(package: DataPackage) -> dict[str, Any]:
    """The package descriptor rebuilt from checked paths, with schemas inlined."""
    resources = []
    raw_resources = {
        r.get("name"): r for r in package.descriptor.get("resources", []) if isinstance(r, dict)
    }
    for resource in package.resources:
        raw = raw_resources.get(resource.name, {})
        if resource.schema_relpath is not None:
            schema = json.loads((package.root / resource.schema_relpath).read_text("utf-8"))
        else:
            schema = raw.get("schema", {})
        schema = _without_patterns({k: v for k, v in schema.items() if k != "$schema"})
        entry: dict[str, Any] = {
            "name": resource.name,
            "path": resource.relpath,
            "schema": schema,
            "format": "csv",
            "encoding": encoding_of(raw),
        }
        dialect = Dialect.of(raw).sanitized()
        if dialect:
            entry["dialect"] = dialect
        for key in ("bytes", "hash"):
            if key in raw:
                entry[key] = raw[key]
        resources.append(entry)
    resources.extend(_other_entry(other) for other in package.other_resources)
    rebuilt: dict[str, Any] = {
        "name": str(package.descriptor.get("name", "package")),
        "resources": resources,
    }
    # The standard's version decides what frictionless accepts (v2's exclusive bounds);
    # only a datapackage.org profile is passed on, never a URL it would fetch.
    profile = standard_profile(package.descriptor.get("$schema"))
    if profile is not None:
        rebuilt["$schema"] = profile
    return rebuilt


def _without_patterns(schema: dict[str, Any]) -> dict[str, Any]:
    fields = []
    for field in schema.get("fields", []):
        constraints = field.get("constraints") if isinstance(field, dict) else None
        if isinstance(constraints, dict) and "pattern" in constraints:
            kept = {k: v for k, v in constraints.items() if k != "pattern"}
            fields.append({**field, "constraints": kept})
        else:
            fields.append(field)
    return {**schema, "fields": fields}


def _pattern_findings(table: TextTable) -> list[Finding]:
    """Cells of string fields that do not match the field's pattern (linear-time regex)."""
    import polars as pl

    findings: list[Finding] = []
    for field in table.resource.schema.fields:
        pattern = field.constraints.get("pattern")
        if field.type != "string" or not isinstance(pattern, str):
            continue
        column = pl.col(field.name)
        bad = table.frame.filter(
            column.is_not_null() & ~column.str.contains(f"^(?:{pattern})$")
        ).select(LINE, field.name)
        for line, cell in bad.iter_rows():
            findings.append(
                Finding(
                    table=table.name,
                    file=table.resource.relpath,
                    line=int(line),
                    column=field.name,
                    value=shorten(cell),
                    rule="pattern",
                    message=f"expected {shorten(f'constraint pattern is {pattern!r}', 160)}, "
                    f"found {shorten(repr(cell))}",
                    engine=ENGINE,
                )
            )
    return findings


#: Properties of a resource only frictionless reads that it is given (paths were
#: checked by ``open_package``; the dialect is reduced to scalars by :class:`Dialect`).
_OTHER_KEYS = ("path", "data", "format", "mediatype", "encoding", "bytes", "hash")


def _other_entry(other: OtherResource) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": other.name}
    entry |= {k: other.descriptor[k] for k in _OTHER_KEYS if k in other.descriptor}
    if other.schema_url is not None:
        entry["schema"] = other.schema_url  # fetched by frictionless in run()
        entry["type"] = "table"
    elif other.schema is not None:
        entry["schema"] = {k: v for k, v in other.schema.items() if k != "$schema"}
        entry["type"] = "table"  # frictionless 5 reads JSON as a table only when told
    dialect = Dialect.of(other.descriptor).sanitized()
    if dialect:
        entry["dialect"] = dialect
    return entry


def run(
    package: DataPackage, tables: dict[str, TextTable], *, only_others: bool = False
) -> Collector:
    """Validate with frictionless-py; return its findings mapped into the common report.

    ``only_others``: validate only the resources the Polars engine does not read
    (inline data, JSON, spreadsheets…), in the context of the whole package.
    """
    import frictionless

    out = Collector(ENGINE)
    descriptor = safe_descriptor(package)
    try:
        unfetched = _fetch_remote_schemas(descriptor, package)
        out.findings.extend(unfetched)
        for finding in unfetched:
            out.ran(finding.rule, f"frictionless {finding.rule}", finding.table)
        missing = {finding.table for finding in unfetched}
        fl_package = frictionless.Package(descriptor, basepath=str(package.root))
        if only_others:
            reports = [
                fl_package.get_resource(other.name).validate()
                for other in package.other_resources
                if other.name not in missing
            ]
            report = frictionless.Report.from_validation_reports(time=0, reports=reports)
            tables = {}
        else:
            report = fl_package.validate()
    except frictionless.FrictionlessException as error:
        raise PackageError(
            f"{package.descriptor_path}: frictionless cannot open it ({error})."
        ) from None
    except Exception as error:
        if _broken_download(error, package):
            raise PackageError(
                f"{package.descriptor_path}: the download of a remote resource broke off "
                f"({redact(f'{type(error).__name__}: {error}')}); frictionless could not "
                f"validate it: {_remote_urls(package)}."
            ) from None
        raise PackageError(
            f"{package.descriptor_path}: frictionless failed on this package "
            f"({type(error).__name__}: {error})."
        ) from None
    for name, text in tables.items():
        for rule in _rules_of(text):
            out.ran(rule, RULES[rule], name)
    for resource in package.other_resources:
        out.ran("type", RULES["type"], resource.name)
    others = {other.name: other for other in package.other_resources}
    for text in tables.values():
        out.findings.extend(_pattern_findings(text))
    for task in report.tasks:
        table = tables.get(task.name or "")
        other = others.get(task.name or "")
        for issue in task.errors:
            finding = _finding(issue, table, package)
            if other is not None:
                path = other.descriptor.get("path")
                # Inline data lives in the descriptor; several files: the first.
                file = path if isinstance(path, str) else package.descriptor_path.name
                # A URL's credentials never reach the report (frictionless quotes it).
                message = redact(finding.message)
                finding = replace(finding, table=other.name, file=redact(file), message=message)
            out.findings.append(finding)
            out.ran(
                finding.rule, RULES.get(finding.rule, f"frictionless {issue.type}"), finding.table
            )
    for issue in report.errors:
        out.findings.append(
            Finding(
                table="",
                file=package.descriptor_path.name,
                line=None,
                column=None,
                value=None,
                rule=str(issue.type),
                message=redact(str(issue.message)),
                engine=ENGINE,
            )
        )
    return out


def _broken_download(error: Exception, package: DataPackage) -> bool:
    """Whether ``error`` is a download that failed after it started (a read timeout, a
    dropped connection): frictionless reports a failed request as ``scheme-error`` but
    lets urllib3's errors while reading the body through."""
    # urllib3 comes with requests, which frictionless downloads with.
    from urllib3.exceptions import HTTPError

    remote = any(other.remote for other in package.other_resources)
    return remote and isinstance(error, HTTPError | OSError)


def _remote_urls(package: DataPackage) -> str:
    """The remote resources and their URLs, for a message (credentials hidden)."""
    named = []
    for other in package.other_resources:
        path = other.descriptor.get("path")
        urls = [p for p in (path if isinstance(path, list) else [path]) if is_remote(p)]
        urls += [other.schema_url] if other.schema_url else []
        if urls:
            named.append(f"{other.name!r} ({', '.join(redact(str(u)) for u in urls)})")
    return ", ".join(named)


#: Most bytes of a remote Table Schema read: a schema is small, and a server sending
#: an endless body must not fill the memory (frictionless reads at most this much).
MAX_REMOTE_SCHEMA_BYTES = 10 * 1024 * 1024


def _fetch_remote_schemas(descriptor: dict[str, Any], package: DataPackage) -> list[Finding]:
    """Have frictionless fetch each remote Table Schema now, and inline it.

    frictionless would fetch it while opening the package and, on failure, refuse the
    whole package with a ``schema-error`` that names the URL only; fetched here, one at
    a time, the same ``schema-error`` becomes a finding naming the resource too, and
    that resource alone is left out (a foreign key pointing at it is then frictionless'
    ``resource-error``). Its ``$schema`` is dropped, as for local schemas: frictionless
    would fetch that profile as well.
    """
    import frictionless

    findings: list[Finding] = []
    remote = {o.name: o.schema_url for o in package.other_resources if o.schema_url}
    kept: list[dict[str, Any]] = []
    for entry in descriptor["resources"]:
        url = remote.get(entry["name"])
        if url is None:
            kept.append(entry)
            continue
        try:
            schema = frictionless.Schema.metadata_retrieve(url, size=MAX_REMOTE_SCHEMA_BYTES)
            if not isinstance(schema, dict):
                raise frictionless.FrictionlessException(
                    frictionless.errors.SchemaError(note="expected a JSON object")
                )
            schema = {k: v for k, v in schema.items() if k != "$schema"}
            frictionless.Schema.from_descriptor(schema)  # a schema-error if malformed
        except frictionless.FrictionlessException as error:
            findings.append(
                Finding(
                    table=entry["name"],
                    file=redact(url),
                    line=None,
                    column=None,
                    value=None,
                    rule=str(error.error.type),
                    message=redact(f"{error.error.title}: {error.error.note}"),
                    engine=ENGINE,
                )
            )
            continue
        kept.append({**entry, "schema": schema})
    descriptor["resources"] = kept
    return findings


def _finding(error: Any, table: TextTable | None, package: DataPackage) -> Finding:
    kind = str(error.type)
    rule = _RULES.get(kind, kind)
    note = str(getattr(error, "note", "") or "")
    if kind == "constraint-error":
        match = _CONSTRAINT.search(note)
        rule = _kebab(match.group(1)) if match else "constraint"
    row_number = getattr(error, "row_number", None)
    column = getattr(error, "field_name", None)
    if kind == "primary-key" and table is not None:
        column = ",".join(table.resource.schema.primary_key)
    if kind == "foreign-key":
        names = getattr(error, "field_names", None)
        column = ",".join(names) if names else column
    line = row_number
    if row_number is not None and table is not None:
        line = table.line_of_record(int(row_number))
    if kind in {
        "extra-label",
        "missing-label",
        "blank-label",
        "duplicate-label",
        "incorrect-label",
    }:
        line = table.header_line if table is not None else 1
        column = getattr(error, "label", None) or column
    cell = getattr(error, "cell", None)
    value = cell
    if kind == "foreign-key":
        value = ",".join(str(v) for v in getattr(error, "field_values", []) or [])
    elif kind == "primary-key" and table is not None and row_number is not None:
        value = None
    name = table.name if table is not None else ""
    file = table.resource.relpath if table is not None else package.descriptor_path.name
    if kind in ("type-error", "constraint-error"):
        said = shorten(note or error.title, 160)
        message = f"expected {said}, found {cell!r}"
    else:
        message = f"{error.title}: {note}" if note else str(error.message)
    return Finding(
        table=name,
        file=file,
        line=line,
        column=column,
        value=shorten(value) if value not in (None, "") else None,
        rule=rule,
        message=message,
        engine=ENGINE,
    )
