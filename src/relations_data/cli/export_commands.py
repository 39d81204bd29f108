"""Commands of ``relations-data`` defined in this module (filled in by its issue)."""

from __future__ import annotations

import click

COMMANDS: list[click.Command] = []
