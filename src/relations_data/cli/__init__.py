"""The ``relations-data`` command: a thin layer over the library.

Each command calls one library function; library errors become one clean line on
stderr and exit status 2 (unusable input), never a traceback. This package is the only
place that knows about the terminal.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from types import FrameType
from typing import Any

import click

from ..errors import RelationsDataError
from ..messages import redact
from . import (
    data_commands,
    export_commands,
    query_commands,
    release_commands,
    site_commands,
    validate_command,
)
from .exit_status import EXIT_INVALID, EXIT_UNUSABLE

__all__ = ["EXIT_INVALID", "EXIT_UNUSABLE", "main"]


class _Group(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except RelationsDataError as error:
            click.secho(f"Error: {redact(str(error))}", fg="red", err=True)
            ctx.exit(EXIT_UNUSABLE)
        except BrokenPipeError:
            # The reader went away (``| head``): stop quietly with success, as Unix tools
            # do. Click before 8.2 exits 1, the status reserved for invalid data. Later
            # writes (the interpreter's final flush) go to /dev/null instead of failing.
            _silence_stdout()
            ctx.exit(0)


def _silence_stdout() -> None:
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout is not a real file (tests capture it)
        pass
    finally:
        os.close(devnull)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="relations-data", prog_name="relations-data")
def main() -> None:
    """relations-data: a source-cited dataset of Russia–Cambodia relations.

    Validate, format, load, export, publish and query the data package.
    """
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _exit_on_terminate)


def _exit_on_terminate(signum: int, frame: FrameType | None) -> None:
    # SIGTERM ends the process through SystemExit, so that every ``finally`` removes
    # its temporary files; by default Python would die without running them.
    raise SystemExit(128 + signum)


_MODULES = (
    data_commands,
    query_commands,
    validate_command,
    release_commands,
    export_commands,
    site_commands,
)
for _module in _MODULES:
    for _command in _module.COMMANDS:
        main.add_command(_command)
