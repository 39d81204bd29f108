"""Locks between processes, and removing the temporaries a killed process left behind.

Every temporary file or folder this package creates is named ``TEMP_PREFIX…`` and lives
beside its target (on the same file system, so that one rename publishes it). While a
process has temporaries in a folder it holds a *shared* lock on that folder. The next
process that writes there first tries the *exclusive* lock without waiting: it gets it
only when no running process has temporaries in the folder, and then removes every
temporary it finds — leftovers of a process that was killed (SIGKILL, power loss), which
no ``finally`` could clean. A running process's files are never touched.

Lock files live in ``<system temp>/relations-data-locks/``, named by a hash of what they
guard, so nothing is added to the user's folders; the kernel releases a dead process's
locks (``flock``). Where ``fcntl`` is missing (Windows) nothing is locked or swept.
Written here rather than taken from a library: ``filelock`` offers exclusive locks only,
and the sweep needs shared ones.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

#: Start of the name of every temporary file or folder the package creates.
TEMP_PREFIX = ".relations-data-tmp."
_LOCK_FOLDER = "relations-data-locks"


def _lock_file(guarded: Path) -> Path | None:
    """The lock file of ``guarded`` (a folder or file), or ``None`` if none can be made."""
    base = Path(tempfile.gettempdir()) / _LOCK_FOLDER
    try:
        base.mkdir(exist_ok=True)
        if base.stat().st_uid == os.getuid():
            # Shared by every user (sticky, like /tmp), so two users of one cache see
            # each other's locks.
            base.chmod(0o1777)
    except OSError:
        return None
    key = hashlib.sha256(str(guarded.resolve()).encode("utf-8", "surrogateescape"))
    return base / f"{key.hexdigest()[:32]}.lock"


@contextlib.contextmanager
def _flock(guarded: Path, operation: int) -> Iterator[bool]:
    """Hold ``operation`` (a ``fcntl.LOCK_*``) on ``guarded``; yield whether it is held."""
    path = _lock_file(guarded) if fcntl is not None else None
    if path is None:
        yield False
        return
    try:
        # Read-only is enough for flock, and lets one user lock another's lock file.
        descriptor = os.open(path, os.O_RDONLY | os.O_CREAT | os.O_NOFOLLOW, 0o644)
    except OSError:
        yield False
        return
    try:
        try:
            fcntl.flock(descriptor, operation)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(descriptor)  # closing releases the lock


@contextlib.contextmanager
def exclusive(guarded: Path) -> Iterator[None]:
    """Wait for, then hold, the exclusive lock of ``guarded`` (e.g. a registry file)."""
    with _flock(guarded, fcntl.LOCK_EX if fcntl is not None else 0):
        yield


def _is_temporary(path: Path) -> bool:
    return path.name.startswith(TEMP_PREFIX)


def sweep(
    folder: Path,
    is_temporary: Callable[[Path], bool] = _is_temporary,
    *,
    nested: bool = False,
) -> None:
    """Remove the temporaries (``is_temporary``) in ``folder`` — and in its subfolders
    if ``nested`` — unless a running process holds temporaries there."""
    if fcntl is None or not folder.is_dir():
        return
    with _flock(folder, fcntl.LOCK_EX | fcntl.LOCK_NB) as held:
        if not held:
            return
        parents = [folder]
        if nested:
            parents += [p for p in _entries(folder) if p.is_dir() and not p.is_symlink()]
        for parent in parents:
            for entry in _entries(parent):
                if is_temporary(entry):
                    _remove(entry)


def _entries(folder: Path) -> list[Path]:
    try:
        return list(folder.iterdir())
    except OSError:
        return []


def _remove(path: Path) -> None:
    with contextlib.suppress(OSError):
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()


_HELD: list[contextlib.ExitStack] = []


def hold_for_process(folder: Path, is_temporary: Callable[[Path], bool] = _is_temporary) -> None:
    """Sweep ``folder``, then hold its shared lock until the process ends (for
    temporaries that live as long as the process, removed at exit)."""
    if _HELD:
        return
    stack = contextlib.ExitStack()
    stack.enter_context(holding_temporaries(folder, is_temporary))
    _HELD.append(stack)  # never closed: the kernel releases the lock when the process ends


@contextlib.contextmanager
def holding_temporaries(
    folder: Path, is_temporary: Callable[[Path], bool] = _is_temporary, *, nested: bool = False
) -> Iterator[None]:
    """Sweep ``folder`` (see :func:`sweep`), then hold its shared lock: temporaries
    created inside the block are safe from other processes' sweeps."""
    sweep(folder, is_temporary, nested=nested)
    with _flock(folder, fcntl.LOCK_SH if fcntl is not None else 0):
        yield
