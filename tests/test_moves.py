"""Moves are found from the values, for any table or column, not from a list of names."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from relations_data.moves import find_moves
from relations_data.package import open_package
from tests.conftest import ROOT


def _rename_table(root: Path, old: str, new: str, columns: dict[str, str]) -> None:
    descriptor = json.loads((root / "datapackage.json").read_text(encoding="utf-8"))
    for resource in descriptor["resources"]:
        if resource["name"] == old:
            resource.update(name=new, path=f"data/{new}.csv", schema=f"schemas/{new}.schema.json")
    (root / "datapackage.json").write_text(json.dumps(descriptor), encoding="utf-8")
    schema = json.loads((root / "schemas" / f"{old}.schema.json").read_text(encoding="utf-8"))
    for field in schema["fields"]:
        field["name"] = columns.get(field["name"], field["name"])
    schema["primaryKey"] = [columns.get(k, k) for k in schema["primaryKey"]]
    for fk in schema.get("foreignKeys", []):
        fk["fields"] = [columns.get(k, k) for k in fk["fields"]]
    (root / "schemas" / f"{new}.schema.json").write_text(json.dumps(schema), encoding="utf-8")
    frame = pl.read_csv(root / "data" / f"{old}.csv", infer_schema=False).rename(columns)
    frame.write_csv(root / "data" / f"{new}.csv", line_terminator="\n")
    (root / "data" / f"{old}.csv").unlink()


def test_a_renamed_table_with_renamed_columns_is_found(package_copy: Path) -> None:
    _rename_table(package_copy, "event_vessels", "ship_parts", {"vessel_id": "ship_id"})
    moves = find_moves(open_package(ROOT), open_package(package_copy))
    (move,) = moves
    rows = pl.read_csv(ROOT / "data" / "event_vessels.csv").height
    assert (move.source, move.target, move.found, move.total) == (
        "event_vessels",
        "ship_parts",
        rows,
        rows,
    )
    assert ("vessel_id", "ship_id") in move.columns


def test_nothing_moves_between_equal_packages(package_copy: Path) -> None:
    assert find_moves(open_package(ROOT), open_package(package_copy)) == ()


def test_a_dropped_column_whose_values_are_nowhere_is_no_move(package_copy: Path) -> None:
    path = package_copy / "schemas" / "vessels.schema.json"
    schema = json.loads(path.read_text(encoding="utf-8"))
    schema["fields"] = [f for f in schema["fields"] if f["name"] != "vessel_class"]
    path.write_text(json.dumps(schema), encoding="utf-8")
    data = package_copy / "data" / "vessels.csv"
    pl.read_csv(data, infer_schema=False).drop("vessel_class").write_csv(data, line_terminator="\n")
    assert find_moves(open_package(ROOT), open_package(package_copy)) == ()
