"""Hand-made packages (tests/fixtures/*/): one per dialect option, type and format.

Each holds valid and invalid cells. Both engines must give the same verdict and the
same (table, line, column, rule) findings, and frictionless' findings must be the ones
recorded in the fixture's ``expected.json`` (so a fixture cannot silently become
trivial). ``--engine polars`` is run on its own, since it hands resources it does not
read (``formats/``: inline data, JSON, a spreadsheet) to frictionless.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from relations_data.validation import Report, validate

FIXTURES = Path(__file__).parent / "fixtures"
PACKAGES = sorted(p.parent for p in FIXTURES.glob("*/datapackage.json"))

Located = set[tuple[str, int | None, str | None, str]]


def located(report: Report) -> Located:
    return {(f.table, f.line, f.column, f.rule) for f in report.findings}


def expected(package: Path) -> Located:
    rows = json.loads((package / "expected.json").read_text("utf-8"))
    return {(t, line, column, rule) for t, line, column, rule in rows}


@pytest.mark.parametrize("package", PACKAGES, ids=[p.name for p in PACKAGES])
def test_both_engines_agree_on_the_fixture(package: Path) -> None:
    polars = validate(package, engines=("polars",))
    frictionless = validate(package, engines=("frictionless",))
    assert located(frictionless) == expected(package)
    assert located(polars) == located(frictionless), polars.to_text()
    assert polars.valid == frictionless.valid


def test_every_fixture_has_findings_to_agree_on() -> None:
    assert PACKAGES
    assert all(expected(p) for p in PACKAGES)


def test_resources_only_frictionless_reads_are_noted() -> None:
    report = validate(FIXTURES / "formats", engines=("polars",))
    assert report.engines == ("polars", "frictionless")
    noted = " ".join(report.notes)
    for name, reason in (("inline", "inline data"), ("rows", "json"), ("sheet", "xlsx")):
        assert f"'{name}' ({reason}" in noted
    assert {f.table for f in report.findings if f.engine == "frictionless"} == {
        "inline",
        "rows",
        "sheet",
    }


@pytest.mark.parametrize("engine", ["polars", "frictionless"])
def test_v2_additions_in_a_v1_package_make_it_unusable_for_both_engines(
    tmp_path: Path, engine: str
) -> None:
    """Without a v2 ``$schema`` the package is v1, which has no exclusive bounds:
    frictionless refuses the descriptor, and so does the Polars engine."""
    import shutil

    from relations_data.errors import PackageError

    package = tmp_path / "constraints"
    shutil.copytree(FIXTURES / "constraints", package)
    descriptor = json.loads((package / "datapackage.json").read_text("utf-8"))
    del descriptor["$schema"]
    (package / "datapackage.json").write_text(json.dumps(descriptor), "utf-8")
    with pytest.raises(PackageError, match="exclusiveMinimum"):
        validate(package, engines=(engine,))


@pytest.mark.parametrize("engine", ["polars", "frictionless"])
def test_repeated_missing_values_in_object_form_make_it_unusable_for_both_engines(
    tmp_path: Path, engine: str
) -> None:
    """Table Schema v2 requires the values (and labels) of missing values written as
    objects to be unique; frictionless refuses the descriptor, and so does the Polars
    engine. Plain texts may repeat."""
    from relations_data.errors import PackageError

    (tmp_path / "t.csv").write_text("a\nx\n", "utf-8")
    field: dict[str, object] = {"name": "a", "missingValues": [{"value": "NA"}, {"value": "NA"}]}
    descriptor = {
        "$schema": "https://datapackage.org/profiles/2.0/datapackage.json",
        "resources": [{"name": "t", "path": "t.csv", "schema": {"fields": [field]}}],
    }
    (tmp_path / "datapackage.json").write_text(json.dumps(descriptor), "utf-8")
    with pytest.raises(PackageError, match="NA"):
        validate(tmp_path, engines=(engine,))
    field["missingValues"] = ["NA", "NA"]
    (tmp_path / "datapackage.json").write_text(json.dumps(descriptor), "utf-8")
    assert validate(tmp_path, engines=(engine,)).valid


@pytest.mark.parametrize("enabled", [True, False])
def test_validate_leaves_the_garbage_collector_as_it_found_it(
    tmp_path: Path, enabled: bool
) -> None:
    """validate() pauses the cycle collector while it runs (for speed) and restores it,
    after a report and after unusable input alike."""
    import gc

    from relations_data.errors import PackageError

    # Unusable once reading has begun (a NUL byte), not before.
    (tmp_path / "t.csv").write_bytes(b"a\nx\x00\n")
    resource = {"name": "t", "path": "t.csv", "schema": {"fields": [{"name": "a"}]}}
    (tmp_path / "datapackage.json").write_text(json.dumps({"resources": [resource]}), "utf-8")
    try:
        gc.enable() if enabled else gc.disable()
        validate(FIXTURES / "constraints", engines=("polars",))
        assert gc.isenabled() is enabled
        with pytest.raises(PackageError, match="NUL"):
            validate(tmp_path, engines=("polars",))
        assert gc.isenabled() is enabled
    finally:
        gc.enable()
