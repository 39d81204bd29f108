"""Every CLI command has help text and is documented with an example in README.md or docs/."""

from __future__ import annotations

import re

import click
import pytest

from relations_data.cli import main
from tests.conftest import ROOT

PROGRAM = "relations-data"


def _command_paths(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths: list[tuple[str, ...]] = []
    for name in sorted(group.commands):
        command = group.commands[name]
        path = (*prefix, name)
        paths.append(path)
        if isinstance(command, click.Group):
            paths.extend(_command_paths(command, path))
    return paths


def _command(path: tuple[str, ...]) -> click.Command:
    command: click.Command = main
    for name in path:
        assert isinstance(command, click.Group)
        command = command.commands[name]
    return command


COMMAND_PATHS = _command_paths(main)


def _documentation() -> str:
    files = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    return "\n".join(f.read_text(encoding="utf-8") for f in files if f.is_file())


def test_the_command_tree_is_walked() -> None:
    # Guards the walk itself: these commands of this module must be found.
    assert {("export",), ("codebook",), ("timeline",)} <= set(COMMAND_PATHS)


@pytest.mark.parametrize("path", COMMAND_PATHS, ids=" ".join)
def test_every_command_has_help_text(path: tuple[str, ...]) -> None:
    command = _command(path)
    assert (command.help or "").strip(), f"'{PROGRAM} {' '.join(path)}' has no help text"
    for parameter in command.params:
        if isinstance(parameter, click.Option) and not parameter.hidden:
            assert parameter.help, f"option {parameter.opts} of {' '.join(path)} has no help"


@pytest.mark.parametrize("path", COMMAND_PATHS, ids=" ".join)
def test_every_command_is_documented(path: tuple[str, ...]) -> None:
    mention = re.escape(f"{PROGRAM} {' '.join(path)}") + r"(?![\w-])"
    assert re.search(mention, _documentation()), (
        f"'{PROGRAM} {' '.join(path)}' is not mentioned in README.md or docs/*.md; "
        "add it with an example (docs/cli.md lists every command)."
    )


@pytest.mark.parametrize("path", COMMAND_PATHS, ids=" ".join)
def test_every_command_help_runs(path: tuple[str, ...]) -> None:
    from click.testing import CliRunner

    result = CliRunner().invoke(main, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output
