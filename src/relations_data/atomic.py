"""Atomic file writes: write a temporary file, then rename it over the target.

A crash or an error mid-write leaves either the old file or nothing, never half a file.
The temporary is named ``.relations-data-tmp.…`` (see :mod:`relations_data.locks`): one
left by a killed process is removed by the next write into the same folder.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from .locks import TEMP_PREFIX, holding_temporaries


@contextlib.contextmanager
def atomic_path(target: Path, *, suffix: str = "", staging: Path | None = None) -> Iterator[Path]:
    """Yield a temporary path; on success rename it onto ``target``.

    The temporary is created in ``staging`` (default: beside ``target``), which must be
    on the same file system as ``target``; ``fmt`` stages in the package root so that
    no temporary ever appears inside ``data/``.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    folder = staging if staging is not None else target.parent
    with holding_temporaries(folder):
        handle, name = tempfile.mkstemp(
            prefix=f"{TEMP_PREFIX}{target.name}.", suffix=suffix or ".tmp", dir=folder
        )
        os.close(handle)
        temporary = Path(name)
        try:
            yield temporary
            # mkstemp creates the file private (0600); give it the mode the target had,
            # or the mode a new file gets under the umask.
            temporary.chmod(target.stat().st_mode & 0o777 if target.exists() else umask_mode())
            temporary.replace(target)
        finally:
            temporary.unlink(missing_ok=True)


def umask_mode(*, folder: bool = False) -> int:
    """The mode a new file (or ``folder``) gets under the process's umask.

    ``mkstemp`` and ``mkdtemp`` create private entries (0600, 0700); what they publish
    gets this ordinary mode instead, so that another user (the one who runs an image
    whose cache root filled) can read it as the umask allows.
    """
    # The umask can only be read by setting it; it is set straight back.
    umask = os.umask(0o022)
    os.umask(umask)
    return (0o777 if folder else 0o666) & ~umask


def atomic_write_bytes(target: Path, data: bytes, *, staging: Path | None = None) -> None:
    """Write ``data`` to ``target`` atomically (see :func:`atomic_path`)."""
    with atomic_path(target, staging=staging) as temporary:
        temporary.write_bytes(data)
