"""Both engines agree: Hypothesis injects one violation of each kind into a generated
package and compares the (table, line, column) of every structural finding."""

from __future__ import annotations

import itertools
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing.parametric import column, dataframes

from relations_data.canonical import canonical_bytes
from relations_data.package import open_package
from relations_data.schema import Field
from relations_data.validation import validate
from relations_data.validation.casting import fast_expression, typed_dtype, typed_expression
from relations_data.validation.pandera_checks import column_rules, deferred_rules, pandera_check
from relations_data.validation.reading import read_table
from relations_data.validation.text_rules import looks_canonical
from tests.conftest import ROOT
from tests.test_validation_support import (
    fresh_copy,
    frictionless_locations,
    semantic_violations,
    set_cell,
    structural,
    structural_violations,
)

PACKAGE = open_package(ROOT)
STRUCTURAL_CASES = structural_violations(PACKAGE)
SEMANTIC_CASES = semantic_violations(PACKAGE)
_counter = itertools.count()
SETTINGS = settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("engines")


@SETTINGS
@given(case=st.sampled_from(STRUCTURAL_CASES), row=st.integers(min_value=0, max_value=5))
def test_engines_agree_on_each_structural_violation(workdir: Path, case, row: int) -> None:
    root = fresh_copy(workdir, f"structural-{next(_counter)}")
    line = case.apply(root, row)
    report = validate(root)
    polars_found = structural(report, "polars")
    frictionless_found = frictionless_locations(report)
    assert not report.valid
    assert polars_found == frictionless_found, report.to_text()
    assert (case.table, line, case.field) in polars_found, (case, report.to_text())
    rules = {f.rule for f in report.findings if f.location == (case.table, line, case.field)}
    assert case.kind in rules or "type" in rules


@pytest.mark.parametrize("kind", sorted({c.kind for c in STRUCTURAL_CASES}))
def test_every_structural_kind_is_reported_at_its_cell(workdir: Path, kind: str) -> None:
    case = next(c for c in STRUCTURAL_CASES if c.kind == kind)
    root = fresh_copy(workdir, f"kind-{kind}")
    line = case.apply(root, 2)
    report = validate(root)
    assert structural(report, "polars") == frictionless_locations(report)
    located = [f for f in report.findings if f.location == (case.table, line, case.field)]
    assert {f.engine for f in located} == {"polars", "frictionless"}
    assert kind in {f.rule for f in located if f.engine == "polars"}
    finding = next(f for f in located if f.engine == "polars")
    assert finding.file == PACKAGE.resource(case.table).relpath
    assert "expected" in finding.message


@SETTINGS
@given(case=st.sampled_from(SEMANTIC_CASES), row=st.integers(min_value=0, max_value=5))
def test_polars_engine_flags_each_semantic_violation(workdir: Path, case, row: int) -> None:
    root = fresh_copy(workdir, f"semantic-{next(_counter)}")
    case.apply(root, row)
    report = validate(root, engines=("polars",))
    assert case.kind in {f.rule for f in report.findings}, report.to_text()
    flagged = [f for f in report.findings if f.rule == case.kind]
    if case.table:
        assert any(f.table == case.table for f in flagged)


@pytest.mark.parametrize("kind", sorted({c.kind for c in SEMANTIC_CASES}))
def test_every_semantic_rule_has_a_case_and_frictionless_ignores_it(
    workdir: Path, kind: str
) -> None:
    case = next(c for c in SEMANTIC_CASES if c.kind == kind)
    root = fresh_copy(workdir, f"semantic-kind-{kind}")
    case.apply(root, 1)
    report = validate(root)
    assert kind in {f.rule for f in report.findings if f.engine == "polars"}
    assert structural(report, "polars") == frictionless_locations(report)


DEFERRED = [
    (table, field, fk, sorted(rules))
    for table, fields in deferred_rules(PACKAGE.resources).items()
    for field, (fk, rules) in fields.items()
]


def test_foreign_key_fields_leave_pattern_and_length_to_the_key_check() -> None:
    # Identifier columns that point at a key share its pattern and length limits.
    assert ("event_actors", "event_id") in {(t, f) for t, f, _, _ in DEFERRED}
    assert all(set(rules) <= {"pattern", "min-length", "max-length"} for *_, rules in DEFERRED)


@pytest.mark.parametrize(
    ("table", "field", "fk", "rules"), DEFERRED, ids=[f"{t}.{f}" for t, f, _, _ in DEFERRED]
)
def test_bad_key_repeated_by_a_foreign_key_is_reported_in_both_tables(
    workdir: Path, table: str, field: str, fk, rules: list[str]
) -> None:
    """The referenced key breaks the same rules, so the foreign-key cell matches it: the
    rules the key check settles must still be reported on that cell."""
    root = fresh_copy(workdir, f"deferred-{table}-{field}")
    frame = pl.read_csv(open_package(root).resource(table).path, infer_schema=False)
    row = frame.with_row_index().filter(pl.col(field).is_not_null()).row(0, named=True)
    target = pl.read_csv(open_package(root).resource(fk.resource).path, infer_schema=False)
    target_row = target[fk.reference_fields[0]].to_list().index(row[field])
    limit = int(PACKAGE.resource(table).schema.field(field).constraints.get("maxLength", 20))
    bad = "Not An Id!" + "x" * limit
    set_cell(root, fk.resource, target_row, fk.reference_fields[0], bad)
    set_cell(root, table, row["index"], field, bad)
    report = validate(root)
    assert structural(report, "polars") == frictionless_locations(report), report.to_text()
    found = {f.rule for f in report.findings if f.location == (table, row["index"] + 2, field)}
    assert set(rules) <= found, report.to_text()


def test_valid_generated_package_passes_both_engines(workdir: Path) -> None:
    report = validate(fresh_copy(workdir, "valid"))
    assert report.valid, report.to_text()
    assert {c.engine for c in report.checks} == {"polars", "frictionless"}
    assert all(c.passed for c in report.checks)


#: Cells near the edges of the type grammars, mixed into the generated ones.
EDGE_CELLS = (
    "2020-01- 2", "2020-1-2", " 2020-01-02", "2020-01-02 ", "+200-01-02", "0999-01-01",
    "0000-01-01", "2020-02-30", "2020-13-01", "20201-01-01", "2020-01-002", " 1", "1_000",
    "1e3", "+1", "-0", "NaN", "inf", "1.", ".5", "0x10", "",
)  # fmt: skip


@settings(max_examples=40, deadline=None)
@given(
    frame=dataframes([column("text", dtype=pl.String, allow_null=True)], min_size=1, max_size=20),
    edges=st.lists(st.sampled_from(EDGE_CELLS), max_size=6),
)
def test_type_parsing_matches_frictionless_readers(frame: pl.DataFrame, edges: list[str]) -> None:
    from frictionless import fields

    frame = pl.concat([frame, pl.DataFrame({"text": edges}, schema={"text": pl.String})])
    for kind, reader in (
        ("number", fields.NumberField(name="text")),
        ("integer", fields.IntegerField(name="text")),
        ("date", fields.DateField(name="text")),
    ):
        field = Field(name="text", type=kind)
        fast = fast_expression(field)
        parsed = frame.select(
            typed_expression(field).is_not_null().alias("full"),
            (fast if fast is not None else typed_expression(field)).is_not_null().alias("fast"),
        )
        for value, ok, quick in zip(frame["text"], parsed["full"], parsed["fast"], strict=True):
            if not value or not value.isascii():
                continue  # Python's int() and Decimal() also read non-ASCII digits
            expected = reader.read_cell(value)[1] is None
            assert ok == expected, (kind, value)
            assert quick <= expected, (kind, value)  # the cheap parse never accepts more


@settings(max_examples=40, deadline=None)
@given(
    frame=dataframes(
        [column(name, dtype=pl.String, allow_null=True) for name in ("a", "b")],
        min_size=0,
        max_size=8,
    )
)
def test_fast_canonical_check_agrees_with_canonical_bytes(frame: pl.DataFrame) -> None:
    import json
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        schema = {"fields": [{"name": "a"}, {"name": "b"}], "primaryKey": ["a"]}
        (root / "schema.json").write_text(json.dumps(schema))
        (root / "datapackage.json").write_text(
            json.dumps({"resources": [{"name": "t", "path": "t.csv", "schema": "schema.json"}]})
        )
        frame.write_csv(root / "t.csv", line_terminator="\n", null_value="")
        resource = open_package(root).resource("t")
        try:
            table = read_table(resource)
        except Exception:
            return
        exact = canonical_bytes(resource) == (root / "t.csv").read_bytes()
        assert looks_canonical(table) <= exact
        if table.byte_exact:
            assert looks_canonical(table) == exact


@pytest.mark.parametrize("broken", [False, True])
def test_pandera_is_imported_only_when_a_screen_finds_a_violation(
    workdir: Path, broken: bool
) -> None:
    import subprocess
    import sys

    root = fresh_copy(workdir, f"pandera-{broken}")
    if broken:
        case = next(c for c in STRUCTURAL_CASES if c.kind == "enum")
        case.apply(root, 1)
    script = (
        "import sys\n"
        "from relations_data.validation import validate\n"
        f"report = validate({str(root)!r}, engines=('polars',))\n"
        "print(report.valid, 'pandera' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == ([str(not broken), str(broken)])


@pytest.mark.parametrize("resource", PACKAGE.resources, ids=lambda r: r.name)
def test_pandera_built_in_checks_state_vocabularies_patterns_and_lengths(resource: object) -> None:
    """Pandera's own isin, str_matches and str_length run these rules, named after them."""
    schema = PACKAGE.resource(str(getattr(resource, "name", ""))).schema
    for field in schema.fields:
        text = typed_dtype(field) == pl.String()
        for rule in column_rules(field):
            check = pandera_check(rule)
            assert check.name == rule.rule
            if rule.rule in ("enum", "pattern") or (rule.rule.endswith("-length") and text):
                assert rule.builtin is not None, f"{schema.table}.{field.name}: {rule.rule}"
                assert dict(rule.builtin[1]).items() <= check.statistics.items()
