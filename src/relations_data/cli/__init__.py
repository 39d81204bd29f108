"""The ``relations-data`` command: a thin layer over the library.

Each command calls one library function; library errors become one clean line on
stderr and exit status 2 (unusable input), never a traceback. This package is the only
place that knows about the terminal.
"""

from __future__ import annotations

from typing import Any

import click

from ..errors import RelationsDataError
from . import data_commands, export_commands, release_commands, validate_command
from .exit_status import EXIT_INVALID, EXIT_UNUSABLE

__all__ = ["EXIT_INVALID", "EXIT_UNUSABLE", "main"]


class _Group(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except RelationsDataError as error:
            click.secho(f"Error: {error}", fg="red", err=True)
            ctx.exit(EXIT_UNUSABLE)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="relations-data", prog_name="relations-data")
def main() -> None:
    """relations-data: a source-cited dataset of Russia–Cambodia relations.

    Validate, format, load, export and release the data package.
    """


for _module in (data_commands, validate_command, release_commands, export_commands):
    for _command in _module.COMMANDS:
        main.add_command(_command)
