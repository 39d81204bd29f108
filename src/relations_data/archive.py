"""Reading zip archives from anywhere without trusting them.

The standard library's ``zipfile.extractall`` sanitises names but neither refuses links
nor bounds the uncompressed size, so entries are checked and copied one by one here.
"""

from __future__ import annotations

import shutil
import stat
import zipfile
import zlib
from pathlib import Path, PurePosixPath

from .errors import ArchiveError, UnsafePathError

#: Largest total uncompressed size accepted from one archive (zip-bomb guard).
MAX_UNCOMPRESSED_BYTES = 2 * 1024**3
#: Largest number of entries accepted from one archive.
MAX_ENTRIES = 10_000
_CHUNK = 1024 * 1024


def _checked_member_path(info: zipfile.ZipInfo, archive: Path) -> PurePosixPath:
    name = info.filename
    member = PurePosixPath(name)
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        raise UnsafePathError(f"{archive}: entry {name!r} has an absolute path; refused.")
    if ".." in member.parts or "\\" in name:
        raise UnsafePathError(f"{archive}: entry {name!r} leaves the archive folder; refused.")
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        raise UnsafePathError(f"{archive}: entry {name!r} is a symbolic link; refused.")
    return member


def extract_zip(
    archive: Path, destination: Path, *, max_bytes: int = MAX_UNCOMPRESSED_BYTES
) -> None:
    """Extract ``archive`` into the existing folder ``destination``, refusing anything unsafe.

    Raises :class:`UnsafePathError` for absolute, ``..`` or link entries and
    :class:`ArchiveError` for a corrupt archive or one larger than ``max_bytes``
    once uncompressed. Sizes are enforced while copying, since headers can lie.
    """
    try:
        with zipfile.ZipFile(archive) as bundle:
            infos = bundle.infolist()
            if len(infos) > MAX_ENTRIES:
                raise ArchiveError(
                    f"{archive}: expected at most {MAX_ENTRIES} entries but found "
                    f"{len(infos)}; refused."
                )
            members = [(info, _checked_member_path(info, archive)) for info in infos]
            declared = sum(info.file_size for info in infos)
            if declared > max_bytes:
                raise ArchiveError(
                    f"{archive}: uncompressed size {declared} bytes exceeds the limit of "
                    f"{max_bytes} bytes; refused."
                )
            written = 0
            for info, member in members:
                target = destination.joinpath(*member.parts)
                if info.is_dir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                with bundle.open(info) as source, target.open("wb") as sink:
                    while chunk := source.read(_CHUNK):
                        written += len(chunk)
                        if written > max_bytes:
                            raise ArchiveError(
                                f"{archive}: uncompressed size exceeds the limit of "
                                f"{max_bytes} bytes; refused."
                            )
                        sink.write(chunk)
    except zipfile.BadZipFile as error:
        raise ArchiveError(f"{archive}: not a valid zip archive ({error}).") from error
    except (OSError, EOFError, ValueError, RuntimeError, NotImplementedError, zlib.error) as error:
        # Encrypted entries, unknown compression and truncated data all land here.
        raise ArchiveError(f"{archive}: cannot be read ({error}).") from error


def remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
