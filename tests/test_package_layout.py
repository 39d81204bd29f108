"""The data package's layout and schemas are complete and documented."""

from __future__ import annotations

import json
import re
from typing import Any, get_args

import pytest

from relations_data.loader import TableName
from tests.conftest import ROOT, TABLES, descriptor

SLUG = "^[a-z0-9]+(-[a-z0-9]+)*$"


def _schema(table: str) -> dict[str, Any]:
    resource = next(r for r in descriptor()["resources"] if r["name"] == table)
    data: dict[str, Any] = json.loads((ROOT / resource["schema"]).read_text(encoding="utf-8"))
    return data


def test_descriptor_has_the_required_metadata() -> None:
    package = descriptor()
    for key in (
        "name",
        "title",
        "description",
        "version",
        "licenses",
        "sources",
        "contributors",
        "keywords",
        "homepage",
        "created",
        "resources",
    ):
        assert package.get(key), f"datapackage.json lacks {key!r}"
    assert re.fullmatch(r"\d+\.\d+\.\d+", package["version"])


def test_table_name_literal_matches_the_descriptor() -> None:
    assert list(get_args(TableName)) == TABLES


@pytest.mark.parametrize("table", TABLES)
def test_every_resource_has_its_schema_file(table: str) -> None:
    resource = next(r for r in descriptor()["resources"] if r["name"] == table)
    assert resource["path"] == f"data/{table}.csv"
    assert resource["schema"] == f"schemas/{table}.schema.json"
    assert (ROOT / resource["schema"]).is_file()
    assert (ROOT / resource["path"]).is_file()


@pytest.mark.parametrize("table", TABLES)
def test_every_field_is_documented(table: str) -> None:
    schema = _schema(table)
    assert schema.get("primaryKey"), f"{table} has no primaryKey"
    for field in schema["fields"]:
        for key in ("name", "title", "description", "type"):
            assert field.get(key), f"{table}.{field.get('name')} lacks {key!r}"
        enum = field.get("constraints", {}).get("enum")
        if enum is not None:
            defined = field.get("enumDescriptions", {})
            assert list(defined) == enum, (
                f"{table}.{field['name']}: every enum value needs a definition"
            )
            assert all(text.strip() for text in defined.values())


@pytest.mark.parametrize("table", TABLES)
def test_references_are_declared_foreign_keys(table: str) -> None:
    schema = _schema(table)
    declared = {f for fk in schema.get("foreignKeys", []) for f in fk["fields"]}
    for field in schema["fields"]:
        name = field["name"]
        if name.endswith("_id") and name != "record_id":
            assert name in declared, f"{table}.{name} looks like a reference but has no foreignKey"
    for fk in schema.get("foreignKeys", []):
        target = fk["reference"]["resource"] or table
        assert target in TABLES


@pytest.mark.parametrize("table", TABLES)
def test_identifiers_are_slugs(table: str) -> None:
    for field in _schema(table)["fields"]:
        if field["name"] == "id" or field["name"].endswith("_id"):
            assert field["constraints"]["pattern"] == SLUG
