"""The Data Package version rules, on hand-made pairs of packages.

Each mutation below changes one part of a small two-table package and names the bump
it needs. The parametrized test checks each rule through ``diff_packages`` and
``release check``; Hypothesis checks that combined changes need exactly the largest of
their bumps, so adding a breaking change never lowers the requirement.
"""

from __future__ import annotations

import copy
import csv
import json
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from relations_data.cli import main
from relations_data.diff import diff_packages
from relations_data.versioning import Bump, check_release, next_version, version_bump

State = dict[str, Any]
OLD_VERSION = "1.4.2"


def _base() -> State:
    things = {
        "fields": [
            {"name": "id", "type": "string", "constraints": {"required": True, "unique": True}},
            {"name": "name", "type": "string", "constraints": {"required": True}},
            {
                "name": "kind",
                "type": "string",
                "constraints": {"enum": ["a", "b", "c"]},
                "enumDescriptions": {"a": "An a.", "b": "A b.", "c": "A c."},
            },
            {"name": "score", "type": "number", "constraints": {"minimum": 0, "maximum": 10}},
            {"name": "code", "type": "string", "constraints": {"pattern": "^[A-Z]+$"}},
            {"name": "label", "type": "string", "constraints": {"maxLength": 50}},
            {"name": "slug", "type": "string", "constraints": {"minLength": 2}},
            {"name": "when", "type": "date", "constraints": {"required": True}},
            {"name": "count", "type": "integer"},
            {"name": "alpha", "type": "string"},
            {"name": "beta", "type": "string"},
            {"name": "gamma", "type": "string"},
            {"name": "delta", "type": "string", "title": "Delta", "description": "A note."},
            {"name": "parent_id", "type": "string"},
            {"name": "epsilon", "type": "string"},
        ],
        "primaryKey": ["id"],
        "foreignKeys": [{"fields": ["parent_id"], "reference": {"resource": "", "fields": ["id"]}}],
    }
    links = {
        "fields": [
            {"name": "thing_id", "type": "string", "constraints": {"required": True}},
            {"name": "tag", "type": "string", "constraints": {"required": True}},
            {"name": "other_id", "type": "string"},
        ],
        "primaryKey": ["thing_id", "tag"],
    }
    spare = {"fields": [{"name": "id", "type": "string"}], "primaryKey": ["id"]}
    descriptor = {
        "name": "toy",
        "version": OLD_VERSION,
        "title": "Toy package",
        "keywords": ["toy"],
        "licenses": [{"name": "CC-BY-4.0"}],
        "resources": [
            {"name": "things", "path": "data/things.csv", "title": "Things", "schema": things},
            {"name": "links", "path": "data/links.csv", "schema": links},
            {"name": "spare", "path": "data/spare.csv", "schema": spare},
        ],
    }
    thing_rows = [
        {"id": f"t{i}", "name": f"Thing {i}", "kind": "a", "score": "1", "code": "AB",
         "label": "x", "slug": "xy", "when": "2020-01-01", "count": "1", "alpha": "",
         "beta": "", "gamma": "", "delta": "", "parent_id": "", "epsilon": ""}
        for i in range(3)
    ]  # fmt: skip
    link_rows = [
        {"thing_id": "t0", "tag": "red", "other_id": ""},
        {"thing_id": "t1", "tag": "blue", "other_id": ""},
    ]
    rows = {"things": thing_rows, "links": link_rows, "spare": [{"id": "s1"}]}
    return {"descriptor": descriptor, "rows": rows}


def _resource(state: State, name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(r for r in state["descriptor"]["resources"] if r["name"] == name)
    return found


def _field(state: State, name: str, table: str = "things") -> dict[str, Any]:
    fields = _resource(state, table)["schema"]["fields"]
    found: dict[str, Any] = next(f for f in fields if f["name"] == name)
    return found


def _constraints(state: State, name: str) -> dict[str, Any]:
    field = _field(state, name)
    found: dict[str, Any] = field.setdefault("constraints", {})
    return found


def _add_field(state: State, field: dict[str, Any], value: str, table: str = "things") -> None:
    _resource(state, table)["schema"]["fields"].append(field)
    for row in state["rows"][table]:
        row[field["name"]] = value


def _remove_field(state: State, name: str, table: str = "things") -> None:
    schema = _resource(state, table)["schema"]
    schema["fields"] = [f for f in schema["fields"] if f["name"] != name]
    for row in state["rows"][table]:
        del row[name]


def _rename_field(state: State, old: str, new: str) -> None:
    _field(state, old)["name"] = new
    for row in state["rows"]["things"]:
        row[new] = row.pop(old)


def _swap_fields(state: State, first: str, second: str) -> None:
    fields = _resource(state, "things")["schema"]["fields"]
    names = [f["name"] for f in fields]
    i, j = names.index(first), names.index(second)
    fields[i], fields[j] = fields[j], fields[i]


def _set(name: str, key: str, value: Any) -> Callable[[State], None]:
    def mutate(state: State) -> None:
        _constraints(state, name)[key] = value

    return mutate


def _edit_enum(
    name: str, *, remove: str | None = None, add: str | None = None
) -> Callable[[State], None]:
    """Edit an enum in place, so that a removal and an addition compose instead of overwrite."""

    def mutate(state: State) -> None:
        values = _constraints(state, name)["enum"]
        if remove is not None:
            values.remove(remove)
        if add is not None:
            values.append(add)

    return mutate


def _drop(name: str, key: str) -> Callable[[State], None]:
    def mutate(state: State) -> None:
        del _constraints(state, name)[key]

    return mutate


def _edit_value_description(state: State) -> None:
    _field(state, "kind")["enumDescriptions"]["a"] = "An a, explained better."


def _add_described_enum_value(state: State) -> None:
    _constraints(state, "kind")["enum"] = ["a", "b", "c", "e"]
    _field(state, "kind")["enumDescriptions"]["e"] = "An e."


def _edit_cell(state: State) -> None:
    state["rows"]["things"][1]["name"] = "Thing one, corrected"


def _add_row(state: State) -> None:
    row = dict(state["rows"]["things"][0], id="t-new")
    state["rows"]["things"].append(row)


def _remove_identified_row(state: State) -> None:
    state["rows"]["things"] = [r for r in state["rows"]["things"] if r["id"] != "t2"]


def _remove_link_row(state: State) -> None:
    state["rows"]["links"] = [r for r in state["rows"]["links"] if r["tag"] != "blue"]


def _add_resource(state: State) -> None:
    schema = {"fields": [{"name": "id", "type": "string"}], "primaryKey": ["id"]}
    state["descriptor"]["resources"].append(
        {"name": "extras", "path": "data/extras.csv", "schema": schema}
    )
    state["rows"]["extras"] = [{"id": "e1"}]


def _remove_resource(state: State) -> None:
    state["descriptor"]["resources"] = [
        r for r in state["descriptor"]["resources"] if r["name"] != "spare"
    ]
    del state["rows"]["spare"]


def _set_key(key: list[str]) -> Callable[[State], None]:
    def mutate(state: State) -> None:
        _resource(state, "things")["schema"]["primaryKey"] = key

    return mutate


def _add_foreign_key(state: State) -> None:
    _resource(state, "links")["schema"]["foreignKeys"] = [
        {"fields": ["thing_id"], "reference": {"resource": "things", "fields": ["id"]}}
    ]


def _drop_foreign_key(state: State) -> None:
    del _resource(state, "things")["schema"]["foreignKeys"]


def _set_field(name: str, key: str, value: Any) -> Callable[[State], None]:
    def mutate(state: State) -> None:
        _field(state, name)[key] = value

    return mutate


def _set_package(key: str, value: Any) -> Callable[[State], None]:
    def mutate(state: State) -> None:
        state["descriptor"][key] = value

    return mutate


def _set_missing_values(state: State) -> None:
    _resource(state, "links")["schema"]["missingValues"] = ["", "NA"]


def _edit_resource_description(state: State) -> None:
    _resource(state, "things")["description"] = "Things, described better."


#: name -> (mutation, bump it needs). Mutations touch compatible parts, so they combine.
MUTATIONS: dict[str, tuple[Callable[[State], None], Bump]] = {
    "value corrected": (_edit_cell, Bump.PATCH),
    "row added": (_add_row, Bump.MINOR),
    "identified row removed": (_remove_identified_row, Bump.MAJOR),
    "link row removed": (_remove_link_row, Bump.PATCH),
    "field description edited": (_set_field("delta", "description", "A better note."), Bump.PATCH),
    "field title edited": (_set_field("gamma", "title", "Gamma"), Bump.PATCH),
    "resource description edited": (_edit_resource_description, Bump.PATCH),
    "package keywords edited": (_set_package("keywords", ["toy", "test"]), Bump.PATCH),
    "optional field added": (
        lambda s: _add_field(s, {"name": "extra", "type": "string"}, ""),
        Bump.MINOR,
    ),
    "required field added": (
        lambda s: _add_field(
            s, {"name": "must", "type": "string", "constraints": {"required": True}}, "y", "links"
        ),
        Bump.MAJOR,
    ),
    "field removed": (lambda s: _remove_field(s, "alpha"), Bump.MAJOR),
    "field renamed": (lambda s: _rename_field(s, "beta", "beta2"), Bump.MAJOR),
    "fields reordered": (lambda s: _swap_fields(s, "label", "slug"), Bump.MAJOR),
    "field retyped": (_set_field("count", "type", "number"), Bump.MAJOR),
    "format changed": (_set_field("when", "format", "%d/%m/%Y"), Bump.MAJOR),
    "required added": (_set("gamma", "required", True), Bump.MAJOR),
    "required removed": (_drop("when", "required"), Bump.MINOR),
    "unique added": (_set("name", "unique", True), Bump.MAJOR),
    "unique removed": (_drop("id", "unique"), Bump.MINOR),
    "enum value removed": (_edit_enum("kind", remove="c"), Bump.MAJOR),
    "enum value added": (_edit_enum("kind", add="d"), Bump.MINOR),
    "value description edited": (_edit_value_description, Bump.PATCH),
    "enum constraint added": (_set("delta", "enum", ["x", "y"]), Bump.MAJOR),
    "pattern changed": (_set("code", "pattern", "^[A-Z]{2,}$"), Bump.MAJOR),
    "pattern added": (_set("epsilon", "pattern", "^[a-z]*$"), Bump.MAJOR),
    "minimum raised": (_set("score", "minimum", 1), Bump.MAJOR),
    "maximum lowered": (_set("score", "maximum", 5), Bump.MAJOR),
    "maxLength lowered": (_set("label", "maxLength", 10), Bump.MAJOR),
    "minLength raised": (_set("slug", "minLength", 3), Bump.MAJOR),
    "primary key changed": (_set_key(["id", "name"]), Bump.MAJOR),
    "foreign key added": (_add_foreign_key, Bump.MAJOR),
    "foreign key removed": (_drop_foreign_key, Bump.MINOR),
    "resource added": (_add_resource, Bump.MINOR),
    "resource removed": (_remove_resource, Bump.MAJOR),
    "missingValues changed": (_set_missing_values, Bump.MAJOR),
    "licence changed": (_set_package("licenses", [{"name": "CC0-1.0"}]), Bump.MAJOR),
}
#: Loosenings of single constraints, checked alone (they overlap the tightenings above).
LOOSENINGS: dict[str, tuple[Callable[[State], None], Bump]] = {
    "enum constraint removed": (_drop("kind", "enum"), Bump.MINOR),
    "pattern removed": (_drop("code", "pattern"), Bump.MINOR),
    "minimum lowered": (_set("score", "minimum", -1), Bump.MINOR),
    "maximum raised": (_set("score", "maximum", 100), Bump.MINOR),
    "maximum removed": (_drop("score", "maximum"), Bump.MINOR),
    "maxLength raised": (_set("label", "maxLength", 80), Bump.MINOR),
    "minLength lowered": (_set("slug", "minLength", 1), Bump.MINOR),
    "enum reordered": (_set("kind", "enum", ["c", "b", "a"]), Bump.MINOR),
    "described enum value added": (_add_described_enum_value, Bump.MINOR),
    "nothing": (lambda s: None, Bump.NONE),
}
ALL_CASES = {**MUTATIONS, **LOOSENINGS}


def write_state(state: State, folder: Path, version: str | None = None) -> Path:
    descriptor = copy.deepcopy(state["descriptor"])
    if version is not None:
        descriptor["version"] = version
    (folder / "data").mkdir(parents=True)
    (folder / "datapackage.json").write_text(json.dumps(descriptor, indent=2), encoding="utf-8")
    for resource in descriptor["resources"]:
        names = [f["name"] for f in resource["schema"]["fields"]]
        with (folder / resource["path"]).open("w", newline="", encoding="utf-8") as stream:
            writer = csv.DictWriter(stream, fieldnames=names, lineterminator="\n")
            writer.writeheader()
            writer.writerows(state["rows"][resource["name"]])
    return folder


def mutated(names: list[str]) -> State:
    state = _base()
    for name in names:
        ALL_CASES[name][0](state)
    return state


def required(names: list[str], folder: Path) -> Bump:
    old = write_state(_base(), folder / "old")
    new = write_state(mutated(names), folder / "new")
    return diff_packages(old, new).bump


@pytest.mark.parametrize(("case", "expected"), [(n, b) for n, (_, b) in ALL_CASES.items()])
def test_each_rule_needs_its_bump(case: str, expected: Bump, tmp_path: Path) -> None:
    assert required([case], tmp_path) is expected


@pytest.mark.parametrize("case", [n for n, (_, b) in ALL_CASES.items() if b is not Bump.NONE])
def test_release_check_accepts_exactly_the_needed_bump(case: str, tmp_path: Path) -> None:
    expected = ALL_CASES[case][1]
    old = write_state(_base(), tmp_path / "old")
    enough = write_state(mutated([case]), tmp_path / "enough", next_version(OLD_VERSION, expected))
    result = check_release(enough, against=str(old))
    assert result.ok, result.reason
    assert result.required is expected
    for short in [b for b in Bump if b < expected]:
        version = next_version(OLD_VERSION, short)
        low = write_state(mutated([case]), tmp_path / f"low-{short.label}", version)
        failed = check_release(low, against=str(old))
        assert not failed.ok
        assert "NOT ENOUGH" in failed.reason
        assert next_version(OLD_VERSION, expected) in failed.reason


def test_release_check_cli_names_the_change_and_exits_1(tmp_path: Path) -> None:
    old = write_state(_base(), tmp_path / "old")
    new = write_state(mutated(["field removed"]), tmp_path / "new", "1.5.0")
    result = CliRunner().invoke(main, ["release", "check", str(new), "--against", str(old)])
    assert result.exit_code == 1, result.output
    assert "things.alpha: field removed" in result.output
    assert "2.0.0" in result.output
    fixed = write_state(mutated(["field removed"]), tmp_path / "fixed", "2.0.0")
    result = CliRunner().invoke(main, ["release", "check", str(fixed), "--against", str(old)])
    assert result.exit_code == 0, result.output
    assert "major" in result.output


@pytest.mark.parametrize(
    ("version", "ok"),
    [(OLD_VERSION, False), ("1.4.1", False), ("0.9.0", False), ("1.4.3", True), ("2.0.0", True)],
)
def test_versions_must_move_forward_when_data_changed(
    version: str, ok: bool, tmp_path: Path
) -> None:
    old = write_state(_base(), tmp_path / "old")
    new = write_state(mutated(["value corrected"]), tmp_path / "new", version)
    assert check_release(new, against=str(old)).ok is ok


def test_going_backwards_fails_even_without_changes(tmp_path: Path) -> None:
    old = write_state(_base(), tmp_path / "old")
    same = write_state(_base(), tmp_path / "same")
    back = write_state(_base(), tmp_path / "back", "1.4.1")
    assert check_release(same, against=str(old)).ok
    result = check_release(back, against=str(old))
    assert not result.ok
    assert "backwards" in result.reason


def test_version_bump_reads_semver() -> None:
    assert version_bump("1.2.3", "2.0.0") is Bump.MAJOR
    assert version_bump("1.2.3", "1.2.3") is Bump.NONE
    assert version_bump("1.2.3", "1.10.0") is Bump.MINOR
    assert version_bump("1.2.3", "1.2.10") is Bump.PATCH
    assert version_bump("1.10.0", "1.9.9") is None


@settings(max_examples=30, deadline=None)
@given(
    st.lists(st.sampled_from(sorted(MUTATIONS)), unique=True, max_size=6),
    st.sampled_from(sorted(n for n, (_, b) in MUTATIONS.items() if b is Bump.MAJOR)),
)
def test_bump_is_the_largest_and_breaking_changes_never_lower_it(
    names: list[str], breaking: str
) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        before = required(names, folder / "without")
        assert before is max((MUTATIONS[n][1] for n in names), default=Bump.NONE)
        after = required([*names, breaking] if breaking not in names else names, folder / "with")
        assert after >= before
        assert after is Bump.MAJOR
