"""Project rules run only where a package declares them, never inferred from names."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from relations_data.cli import main
from relations_data.errors import PackageError
from relations_data.package import open_package
from relations_data.schema import RULES_PROPERTY
from relations_data.validation import validate
from relations_data.validation.declared import FIELD_RULES, PROFILE_PROPERTY, TABLE_RULES
from relations_data.validation.semantic import RULES as PROJECT_RULES
from relations_data.validation.typed import STRUCTURAL_RULES
from tests.conftest import ROOT


def _edit_json(path: Path, change: Any) -> None:
    data = json.loads(path.read_text("utf-8"))
    change(data)
    path.write_text(json.dumps(data, indent=2), "utf-8")


def _field(schema: dict[str, Any], name: str) -> dict[str, Any]:
    return next(f for f in schema["fields"] if f["name"] == name)


def _set_first_country(root: Path, value: str) -> None:
    path = root / "data" / "places.csv"
    lines = path.read_text("utf-8").split("\n")
    header = lines[0].split(",")
    cells = lines[1].split(",")
    cells[header.index("country")] = value
    lines[1] = ",".join(cells)
    path.write_text("\n".join(lines), "utf-8")


def _project_checks(report: Any) -> set[str]:
    return {c.rule for c in report.checks if c.rule not in STRUCTURAL_RULES}


def test_every_project_rule_is_declarable() -> None:
    assert set(FIELD_RULES) | TABLE_RULES == set(PROJECT_RULES)


def test_the_bundled_package_declares_every_project_rule() -> None:
    package = open_package(ROOT)
    assert package.descriptor[PROFILE_PROPERTY] == 1
    report = validate(engines=("polars",))
    assert _project_checks(report) == set(PROJECT_RULES)
    assert "relations-data:profile" in report.notes[0]


def test_a_package_without_the_profile_gets_table_schema_rules_only(package_copy: Path) -> None:
    _edit_json(package_copy / "datapackage.json", lambda d: d.pop(PROFILE_PROPERTY))
    _set_first_country(package_copy, "QQQ")
    report = validate(package_copy, engines=("polars",))
    assert report.valid, report.to_text()
    assert _project_checks(report) == set()
    assert report.notes[0].startswith("Only Table Schema rules ran")
    assert "Only Table Schema rules ran" in report.to_text()
    assert json.loads(report.to_json())["notes"] == report.notes
    # Opting in runs what the schemas declare.
    opted = validate(package_copy, engines=("polars",), rules=True)
    assert {f.rule for f in opted.findings} == {"iso-country"}


def test_rules_can_be_turned_off(package_copy: Path) -> None:
    _set_first_country(package_copy, "QQQ")
    assert {f.rule for f in validate(package_copy, engines=("polars",)).findings} == {"iso-country"}
    report = validate(package_copy, engines=("polars",), rules=False)
    assert report.valid
    assert "--no-rules" in report.notes[0]


def test_rules_follow_declarations_not_column_names(package_copy: Path) -> None:
    def undeclare(schema: dict[str, Any]) -> None:
        _field(schema, "country").pop(RULES_PROPERTY)
        _field(schema, "name")[RULES_PROPERTY] = ["iso-country"]

    _edit_json(package_copy / "schemas" / "places.schema.json", undeclare)
    _set_first_country(package_copy, "QQQ")
    report = validate(package_copy, engines=("polars",))
    located = {(f.rule, f.column) for f in report.findings}
    assert ("iso-country", "country") not in located
    assert ("iso-country", "name") in located  # place names are not country codes


@pytest.mark.parametrize(
    ("declaration", "message"),
    [
        (["no-such-rule"], "unknown rule 'no-such-rule'"),
        ([{"rule": "date-order"}], "needs the parameter 'start'"),
        ([{"rule": "date-order", "start": "nowhere"}], "expected a field of the table"),
        ([{"rule": "iso-country", "extra": 1}], "takes no parameter 'extra'"),
        ([{"rule": "date-precision", "precision": "note", "bound": "middle"}], "start or end"),
        ([3], "expected a rule name"),
    ],
)
def test_declarations_that_cannot_be_applied_are_refused(
    package_copy: Path, declaration: list[Any], message: str
) -> None:
    def declare(schema: dict[str, Any]) -> None:
        _field(schema, "name")[RULES_PROPERTY] = declaration

    _edit_json(package_copy / "schemas" / "places.schema.json", declare)
    with pytest.raises(PackageError, match=message) as caught:
        validate(package_copy, engines=("polars",))
    assert "places" in str(caught.value)


def test_unknown_profile_version_is_refused(package_copy: Path) -> None:
    _edit_json(package_copy / "datapackage.json", lambda d: d.update({PROFILE_PROPERTY: 2}))
    with pytest.raises(PackageError, match="expected 1"):
        validate(package_copy, engines=("polars",))


def test_cli_rules_switch(package_copy: Path) -> None:
    _set_first_country(package_copy, "QQQ")
    runner = CliRunner()
    on = runner.invoke(main, ["validate", str(package_copy), "--engine", "polars"])
    off = runner.invoke(main, ["validate", str(package_copy), "--engine", "polars", "--no-rules"])
    assert on.exit_code == 1 and "iso-country" in on.output
    assert off.exit_code == 0, off.output
    assert "Only Table Schema rules ran" in off.output
