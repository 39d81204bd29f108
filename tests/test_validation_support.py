"""Helpers for the validation tests: synthetic packages and violations derived from the
schemas (plus a check that the generator itself writes valid packages)."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pytest
from benchmarks._scale import build_package

from relations_data.package import DataPackage, open_package
from relations_data.schema import Field
from relations_data.validation import Report, validate
from relations_data.validation.declared import RuleUse, declared, stance_bounds
from relations_data.validation.typed import READING_RULES
from relations_data.validation.typed import STRUCTURAL_RULES as STRUCTURAL
from tests.conftest import ROOT

_TEMPLATE: dict[int, Path] = {}


def template(tmp_root: Path, events: int = 8) -> Path:
    """A valid generated package, built once per size and copied for each example."""
    if events not in _TEMPLATE:
        _TEMPLATE[events] = build_package(tmp_root / f"template-{events}", events, source=ROOT)
    return _TEMPLATE[events]


def fresh_copy(tmp_root: Path, name: str, events: int = 8) -> Path:
    source = template(tmp_root, events)
    target = tmp_root / name
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(source, target)
    return target


def read_text(path: Path) -> pl.DataFrame:
    return pl.read_csv(path, infer_schema=False)


def write_text(frame: pl.DataFrame, path: Path) -> None:
    frame.write_csv(path, line_terminator="\n", null_value="")


def set_cell(root: Path, table: str, row: int, column: str, value: str | None) -> None:
    package = open_package(root)
    path = package.resource(table).path
    frame = read_text(path)
    frame = frame.with_columns(
        pl.when(pl.int_range(pl.len()) == row)
        .then(pl.lit(value, pl.String))
        .otherwise(pl.col(column))
        .alias(column)
    )
    write_text(frame, path)


def structural(report: Report, engine: str) -> set[tuple[str, int | None, str | None]]:
    return {f.location for f in report.findings if f.engine == engine and f.rule in STRUCTURAL}


def frictionless_locations(report: Report) -> set[tuple[str, int | None, str | None]]:
    return {f.location for f in report.findings if f.engine == "frictionless"}


@dataclass(frozen=True)
class Violation:
    """One broken cell (or row): where, and the rule that must catch it."""

    kind: str
    table: str
    field: str
    apply: Callable[[Path, int], int]  # (package root, row) -> CSV line that is now wrong


def _cell(table: str, field: str, value: str | None) -> Callable[[Path, int], int]:
    def apply(root: Path, row: int) -> int:
        set_cell(root, table, row, field, value)
        return row + 2

    return apply


def _bound(field: Field, name: str, step: int) -> str | None:
    value = field.constraints[name]
    if field.type in ("number", "integer", "year"):
        return str(value + step)
    if field.type == "date":
        return (dt.date.fromisoformat(value) + dt.timedelta(days=step)).isoformat()
    return None


def structural_violations(package: DataPackage) -> list[Violation]:
    """One violation per constraint kind and field the schemas declare."""
    found: list[Violation] = []
    for resource in package.resources:
        schema, table = resource.schema, resource.name
        for field in schema.fields:
            c = field.constraints
            if field.type != "string" or field.format != "default":
                found.append(Violation("type", table, field.name, _cell(table, field.name, "x?y")))
            if field.required:
                found.append(
                    Violation("required", table, field.name, _cell(table, field.name, None))
                )
            if field.enum is not None:
                found.append(
                    Violation("enum", table, field.name, _cell(table, field.name, "zz-none"))
                )
            if "pattern" in c:
                found.append(
                    Violation("pattern", table, field.name, _cell(table, field.name, "!?"))
                )
            for name, step in (("minimum", -1), ("maximum", 1)):
                if name in c and (value := _bound(field, name, step)) is not None:
                    found.append(
                        Violation(name, table, field.name, _cell(table, field.name, value))
                    )
            if c.get("minLength", 0) >= 2:
                found.append(
                    Violation("min-length", table, field.name, _cell(table, field.name, "x"))
                )
            if "maxLength" in c:
                long = "y" * (int(c["maxLength"]) + 1)
                found.append(
                    Violation("max-length", table, field.name, _cell(table, field.name, long))
                )
            if field.unique:
                found.append(
                    Violation("unique", table, field.name, _copy_from_first(table, field.name))
                )
        if len(schema.primary_key) > 1:
            found.append(
                Violation("primary-key", table, ",".join(schema.primary_key), _duplicate(table))
            )
        for fk in schema.foreign_keys:
            found.append(
                Violation(
                    "foreign-key", table, ",".join(fk.fields), _cell(table, fk.fields[0], "zz-gone")
                )
            )
    return found


def _copy_from_first(table: str, field: str) -> Callable[[Path, int], int]:
    def apply(root: Path, row: int) -> int:
        row = max(row, 1)
        path = open_package(root).resource(table).path
        first = read_text(path)[field][0]
        set_cell(root, table, row, field, first)
        return row + 2

    return apply


def _duplicate(table: str) -> Callable[[Path, int], int]:
    def apply(root: Path, row: int) -> int:
        path = open_package(root).resource(table).path
        frame = read_text(path)
        row = min(row, frame.height - 1)
        frame = pl.concat([frame, frame.slice(row, 1)])
        write_text(frame, path)
        return frame.height + 1

    return apply


def semantic_violations(package: DataPackage) -> list[Violation]:
    """One violation per project rule and the columns the schemas declare it on."""
    found: list[Violation] = []
    for resource in package.resources:
        table = resource.name
        for use in declared(resource):
            field = use.field or ""
            if use.rule == "date-order":
                start = str(use.params["start"])
                found.append(Violation("date-order", table, field, _backwards(table, start, field)))
            elif use.rule == "date-precision":
                precision = str(use.params["precision"])
                bound = str(use.params["bound"])
                found.append(
                    Violation(
                        "date-precision", table, field, _precision(table, precision, field, bound)
                    )
                )
            elif use.rule == "iso-country":
                found.append(Violation("iso-country", table, field, _cell(table, field, "XXX")))
            elif use.rule == "iso-currency":
                found.append(Violation("iso-currency", table, field, _cell(table, field, "QQQ")))
            elif use.rule == "imo-check-digit":
                found.append(Violation(use.rule, table, field, _cell(table, field, "1234568")))
            elif use.rule == "formula-trigger":
                for free in resource.schema.fields:
                    if (
                        free.type == "string"
                        and free.enum is None
                        and "pattern" not in free.constraints
                    ):
                        found.append(
                            Violation(use.rule, table, free.name, _cell(table, free.name, "=1+2 x"))
                        )
            elif use.rule == "citation-target":
                ids = str(use.params["id"])
                found.append(Violation(use.rule, table, ids, _cell(table, ids, "zz-gone")))
            elif use.rule == "fact-cited":
                pair = (field, str(use.params["id"]))
                enum = resource.schema.field(field).enum or ()
                for fact in use.params.get("tables", enum):
                    found.append(
                        Violation(use.rule, str(fact), "", _uncite(table, pair, str(fact)))
                    )
            elif use.rule == "actor-validity":
                fk = next(k for k in resource.schema.foreign_keys if k.fields == (field,))
                valid_to = str(use.params["valid"][1])
                found.append(
                    Violation(use.rule, "", "", _cell(fk.resource, valid_to, "1990-01-01"))
                )
            elif use.rule == "canonical-form":
                found.append(Violation(use.rule, table, "", _swap_rows(table)))
            elif use.rule == "language-tag":
                found.append(Violation(use.rule, table, field, _cell(table, field, "xx-Latn")))
            elif use.rule == "iso-script":
                found.append(Violation(use.rule, table, field, _cell(table, field, "Xxxx")))
            elif use.rule == "claim-verdict":
                found.append(Violation(use.rule, table, field, _wrong_verdict(table, use)))
            elif use.rule == "precision-given":
                precision = str(use.params["precision"])
                found.append(Violation(use.rule, table, precision, _cell(table, precision, None)))
            elif use.rule == "currency-unit":
                found.append(Violation(use.rule, table, field, _toggle_currency(table, use)))
    return found


def _wrong_verdict(table: str, use: RuleUse) -> Callable[[Path, int], int]:
    """A verdict the generated evidence (one supports citation per record) contradicts."""
    wrong = next(
        value
        for value, bounds in stance_bounds(use).items()
        if not (
            bounds["supports"][0] <= 1
            and (bounds["supports"][1] is None or bounds["supports"][1] >= 1)
        )
    )
    return _cell(table, str(use.field), wrong)


def _toggle_currency(table: str, use: RuleUse) -> Callable[[Path, int], int]:
    """Drop the currency of money, or give one to a count."""
    unit, money, field = str(use.params["unit"]), str(use.params["money"]), str(use.field)

    def apply(root: Path, row: int) -> int:
        path = open_package(root).resource(table).path
        given = read_text(path)[unit][row]
        set_cell(root, table, row, field, None if given == money else "USD")
        return row + 2

    return apply


def _backwards(table: str, start: str, end: str) -> Callable[[Path, int], int]:
    def apply(root: Path, row: int) -> int:
        set_cell(root, table, row, start, "2001-01-01")
        set_cell(root, table, row, end, "2000-12-31")
        return row + 2

    return apply


def _precision(table: str, field: str, date: str, bound: str) -> Callable[[Path, int], int]:
    def apply(root: Path, row: int) -> int:
        # Generated dates are 2000-01-01 plus the row index in days: never a month's end,
        # but the first row starts one; a start is moved off the first of the month.
        set_cell(root, table, row, field, "month")
        if bound == "start":
            set_cell(root, table, row, date, "2000-01-15")
        return row + 2

    return apply


def _uncite(table: str, pair: tuple[str, str], fact: str) -> Callable[[Path, int], int]:
    def apply(root: Path, row: int) -> int:
        path = open_package(root).resource(table).path
        frame = read_text(path)
        frame = frame.filter(pl.col(pair[0]) != fact)
        write_text(frame, path)
        return 0

    return apply


def _swap_rows(table: str) -> Callable[[Path, int], int]:
    def apply(root: Path, row: int) -> int:
        path = open_package(root).resource(table).path
        frame = read_text(path)
        frame = pl.concat([frame.slice(1, 1), frame.slice(0, 1), frame.slice(2)])
        write_text(frame, path)
        return 2

    return apply


def test_generated_package_is_valid_for_both_engines(tmp_path: Path) -> None:
    root = fresh_copy(tmp_path, "valid")
    report = validate(root)
    assert report.valid, report.to_text()
    assert {t.name for t in report.tables} == set(open_package(root).table_names)
    assert all(t.rows > 0 for t in report.tables)


@pytest.mark.parametrize(
    "kind", sorted(STRUCTURAL - {"exclusive-minimum", "exclusive-maximum", *READING_RULES})
)
def test_the_schemas_offer_every_structural_violation_kind(kind: str) -> None:
    package = open_package(ROOT)
    kinds = {v.kind for v in structural_violations(package)}
    if kind == "unique":
        assert any(f.unique for r in package.resources for f in r.schema.fields)
    assert kind in kinds
