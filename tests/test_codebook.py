"""The codebook documents every table, field and vocabulary value, and detects staleness."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from relations_data.cli import main
from relations_data.codebook import codebook_text, local_or_bundled, write_codebook
from relations_data.package import open_package
from tests._synthetic import ROWS, synthetic_package, write_synthetic_rows
from tests.conftest import TABLES


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return synthetic_package(tmp_path_factory.mktemp("synthetic"))


@pytest.fixture(scope="module")
def text(synthetic: Path) -> str:
    return codebook_text(synthetic)


def _flat(value: str) -> str:
    return " ".join(value.split()).replace("|", "\\|")


def _section(text: str, table: str) -> str:
    start = text.index(f"\n## {table}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end >= 0 else len(text)]


def test_codebook_is_deterministic(synthetic: Path, text: str) -> None:
    assert codebook_text(synthetic) == text
    assert text.endswith("\n")
    assert not text.endswith("\n\n")


@pytest.mark.parametrize("table", TABLES)
def test_codebook_documents_every_field_and_vocabulary_value(
    synthetic: Path, text: str, table: str
) -> None:
    resource = open_package(synthetic).resource(table)
    section = _section(text, table)
    assert _flat(resource.description) in section
    assert f"- Rows: {len(ROWS[table])}" in section
    assert "- Primary key: " + ", ".join(f"`{k}`" for k in resource.schema.primary_key) in section
    for fk in resource.schema.foreign_keys:
        assert f"[{fk.resource}](#{fk.resource})" in section
    for field in resource.schema.fields:
        assert f"| `{field.name}` | {_flat(field.title)} | {field.type}" in section
        assert _flat(field.description) in section
        for value in field.enum or ():
            definition = field.enum_descriptions[str(value)]
            assert f"| `{value}` | {_flat(definition)} |" in section


def test_codebook_diagram_has_every_foreign_key(synthetic: Path, text: str) -> None:
    diagram = text[text.index("```mermaid") : text.index("```", text.index("erDiagram"))]
    for resource in open_package(synthetic).resources:
        assert f"    {resource.name} {{" in diagram
        for fk in resource.schema.foreign_keys:
            assert f"{fk.resource} " in diagram
            assert f'--o{{ {resource.name} : "{", ".join(fk.fields)}"' in diagram


def test_check_fails_after_a_schema_description_is_edited(
    package_copy: Path, tmp_path: Path
) -> None:
    write_synthetic_rows(package_copy)
    out = tmp_path / "docs" / "codebook.md"
    assert write_codebook(out, source=package_copy).stale  # first write creates it
    assert not write_codebook(out, source=package_copy, check=True).stale
    runner = CliRunner()
    args = ["codebook", "--check", "--out", str(out), "--source", str(package_copy)]
    assert runner.invoke(main, args).exit_code == 0

    schema_path = package_copy / "schemas" / "events.schema.json"
    schema = json.loads(schema_path.read_text(encoding="utf-8"))
    schema["fields"][0]["description"] = "An edited description of the identifier."
    schema_path.write_text(json.dumps(schema, indent=2), encoding="utf-8")

    before = out.read_text(encoding="utf-8")
    assert write_codebook(out, source=package_copy, check=True).stale
    result = runner.invoke(main, args)
    assert result.exit_code == 1
    assert str(out) in result.output and "stale" in result.output
    assert out.read_text(encoding="utf-8") == before  # --check never writes

    result = runner.invoke(main, ["codebook", "--out", str(out), "--source", str(package_copy)])
    assert result.exit_code == 0, result.output
    assert "An edited description of the identifier." in out.read_text(encoding="utf-8")
    assert runner.invoke(main, args).exit_code == 0


def test_check_fails_when_the_row_counts_change(package_copy: Path, tmp_path: Path) -> None:
    write_synthetic_rows(package_copy)
    out = tmp_path / "codebook.md"
    write_codebook(out, source=package_copy)
    write_synthetic_rows(package_copy, {**ROWS, "citations": []})
    assert write_codebook(out, source=package_copy, check=True).stale


def test_missing_codebook_is_stale(synthetic: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["codebook", "--check", "--out", str(tmp_path / "x.md"), "--source", str(synthetic)]
    )
    assert result.exit_code == 1
    assert not (tmp_path / "x.md").exists()


def test_default_source_is_the_package_in_the_current_folder(
    synthetic: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert local_or_bundled(synthetic) == synthetic
    assert local_or_bundled(tmp_path) is None
    monkeypatch.chdir(synthetic)
    result = CliRunner().invoke(main, ["codebook"])
    assert result.exit_code == 0, result.output
    assert (synthetic / "docs" / "codebook.md").read_text(encoding="utf-8") == codebook_text(
        synthetic
    )
