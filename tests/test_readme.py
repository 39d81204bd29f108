"""The README's two set-up commands are the ones CI runs."""

from __future__ import annotations

import re

from tests.conftest import ROOT


def _readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    quickstart = text.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```bash\n(.+?)\n\s*```", quickstart)


def test_readme_has_exactly_two_setup_commands() -> None:
    commands = _readme_commands()
    assert len(commands) == 2, commands
    assert commands[0].strip().endswith("relations-data validate")
    assert "'.[test]'" in commands[1]


def test_ci_runs_the_readme_test_command() -> None:
    ci_script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    test_command = _readme_commands()[1].strip()
    assert test_command in ci_script.splitlines()


REPOSITORY = "https://github.com/relations-data/relations-data"
RAW = "https://raw.githubusercontent.com/relations-data/relations-data/main/"


def test_readme_links_and_images_work_on_pypi() -> None:
    """PyPI shows the README without the repository around it: every link and image is
    absolute, and each one into this repository names a file or folder that exists."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    targets = re.findall(r"!?\[[^\]]*\]\(([^)\s]+)\)", text)
    assert targets
    for target in targets:
        assert re.match(r"https?://", target), f"relative link {target!r}"
        for prefix in (f"{REPOSITORY}/blob/main/", f"{REPOSITORY}/tree/main/", RAW):
            if target.startswith(prefix):
                assert (ROOT / target.removeprefix(prefix)).exists(), target
    images = re.findall(r"!\[[^\]]*\]\(([^)\s]+)\)", text)
    assert all(image.startswith(RAW) for image in images), images
