"""Table Schema features the package does not use yet, on a small synthetic package:
composite and nullable foreign keys, missingValues and more field types. Both engines
must agree on where every violation is."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from relations_data.validation import validate
from tests.test_validation_support import frictionless_locations, structural

PARENT = {
    "fields": [
        {"name": "country", "type": "string", "constraints": {"required": True}},
        {"name": "code", "type": "integer", "constraints": {"required": True, "minimum": 1}},
        {"name": "active", "type": "boolean"},
        {"name": "founded", "type": "year", "constraints": {"maximum": 2100}},
        {"name": "share", "type": "number", "constraints": {"maximum": 1}},
    ],
    "primaryKey": ["country", "code"],
    "missingValues": ["", "NA"],
}
CHILD = {
    "fields": [
        {"name": "id", "type": "string", "constraints": {"required": True, "unique": True}},
        {"name": "country", "type": "string"},
        {"name": "code", "type": "integer"},
        {"name": "parent", "type": "string"},
        {"name": "seen", "type": "date", "constraints": {"minimum": "2000-01-01"}},
    ],
    "primaryKey": ["id"],
    "foreignKeys": [
        {
            "fields": ["country", "code"],
            "reference": {"resource": "parents", "fields": ["country", "code"]},
        },
        {"fields": ["parent"], "reference": {"resource": "", "fields": ["id"]}},
    ],
    "missingValues": ["", "NA"],
}


def _package(root: Path, parents: str, children: str) -> Path:
    (root / "data").mkdir(parents=True)
    (root / "parents.json").write_text(json.dumps(PARENT))
    (root / "children.json").write_text(json.dumps(CHILD))
    (root / "data" / "parents.csv").write_text(parents)
    (root / "data" / "children.csv").write_text(children)
    descriptor = {
        "name": "features",
        "resources": [
            {"name": "parents", "path": "data/parents.csv", "schema": "parents.json"},
            {"name": "children", "path": "data/children.csv", "schema": "children.json"},
        ],
    }
    (root / "datapackage.json").write_text(json.dumps(descriptor))
    return root


VALID_PARENTS = "country,code,active,founded,share\nKHM,1,true,1953,0.5\nRUS,2,NA,,\n"
VALID_CHILDREN = (
    "id,country,code,parent,seen\n"
    "a,KHM,1,,2001-01-01\n"
    "b,RUS,2,a,NA\n"
    "c,,,b,\n"  # an empty composite key passes; so does an empty self-reference
)


def test_valid_feature_package_passes_both_engines(tmp_path: Path) -> None:
    report = validate(_package(tmp_path, VALID_PARENTS, VALID_CHILDREN))
    structural_only = [f for f in report.findings if f.rule != "canonical-form"]
    assert not structural_only, report.to_text()


@pytest.mark.parametrize(
    ("parents", "children", "where"),
    [
        (VALID_PARENTS, VALID_CHILDREN + "d,KHM,2,,\n", ("children", 5, "country,code")),
        (VALID_PARENTS, VALID_CHILDREN + "d,KHM,,,\n", ("children", 5, "country,code")),
        (VALID_PARENTS, VALID_CHILDREN + "d,,,zz,\n", ("children", 5, "parent")),
        (VALID_PARENTS, VALID_CHILDREN + "d,,,,1999-12-31\n", ("children", 5, "seen")),
        (VALID_PARENTS, VALID_CHILDREN + "a,,,,\n", ("children", 5, "id")),
        (VALID_PARENTS + "KHM,1,,,\n", VALID_CHILDREN, ("parents", 4, "country,code")),
        (VALID_PARENTS + "VNM,0,,,\n", VALID_CHILDREN, ("parents", 4, "code")),
        (VALID_PARENTS + "VNM,3,maybe,,\n", VALID_CHILDREN, ("parents", 4, "active")),
        (VALID_PARENTS + "VNM,3,,20x1,\n", VALID_CHILDREN, ("parents", 4, "founded")),
        (VALID_PARENTS + "VNM,3,,2200,\n", VALID_CHILDREN, ("parents", 4, "founded")),
        (VALID_PARENTS + "VNM,3,,,1.5\n", VALID_CHILDREN, ("parents", 4, "share")),
        (VALID_PARENTS + "VNM,3,,,NaN\n", VALID_CHILDREN, ("parents", 4, "share")),
        (VALID_PARENTS + "NA,3,,,\n", VALID_CHILDREN, ("parents", 4, "country")),
    ],
    ids=lambda value: "-".join(map(str, value)) if isinstance(value, tuple) else "",
)
def test_engines_agree_on_feature_violations(
    tmp_path: Path, parents: str, children: str, where: tuple[str, int, str]
) -> None:
    report = validate(_package(tmp_path, parents, children))
    polars_found = structural(report, "polars")
    assert polars_found == frictionless_locations(report), report.to_text()
    assert where in polars_found, report.to_text()
