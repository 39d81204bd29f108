"""Datasette on the SQLite export, with its metadata: every record one click from its evidence.

The export goes to a private temporary folder; Datasette runs as a child process bound to
127.0.0.1 (it is a local browser, not a server for the network) until it is stopped.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import ExportError
from .export import DATASETTE_METADATA, export

#: Name of the database in Datasette's addresses (``/relations/events``).
DATABASE = "relations"
HOST = "127.0.0.1"


def datasette_command(database: Path, port: int) -> list[str]:
    """The command line that serves ``database`` with the metadata beside it."""
    metadata = database.parent / DATASETTE_METADATA
    return [
        sys.executable, "-m", "datasette", "serve", str(database),
        "--metadata", str(metadata), "--host", HOST, "--port", str(port),
        "--setting", "sql_time_limit_ms", "5000",
    ]  # fmt: skip


@contextmanager
def exported_database(source: str | Path | None = None) -> Iterator[Path]:
    """The SQLite export (and its metadata) in a temporary folder, removed afterwards."""
    if importlib.util.find_spec("datasette") is None:
        raise ExportError(
            "relations-data serve needs the optional dependency 'datasette', which is not "
            "installed. Install it with: pip install 'relations-data[serve]'"
        )
    with tempfile.TemporaryDirectory(prefix="relations-data-serve-") as folder:
        yield export("sqlite", Path(folder) / f"{DATABASE}.db", source=source)


def serve(port: int = 8001, *, source: str | Path | None = None) -> int:
    """Serve the data with Datasette on 127.0.0.1 until interrupted; Datasette's exit status."""
    with exported_database(source) as database:
        try:
            return subprocess.call(datasette_command(database, port))
        except KeyboardInterrupt:
            return 0
