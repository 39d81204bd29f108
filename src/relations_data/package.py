"""Finding and opening a data package: the bundled copy, a folder, a descriptor or a zip.

Paths inside a descriptor are untrusted: absolute paths, ``..``, links leading outside
the package and URLs other than ``http(s)://`` are refused before any resource is read.
A resource whose data or Table Schema is an ``http(s)`` URL is not read here: it becomes
an :class:`OtherResource`, which only the frictionless engine reads (and downloads).
"""

from __future__ import annotations

import atexit
import difflib
import json
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .archive import extract_zip, remove_tree
from .errors import PackageError, UnknownTableError, UnsafePathError
from .locks import TEMP_PREFIX, hold_for_process
from .messages import quoted, redact
from .schema import TableSchema

DESCRIPTOR_NAME = "datapackage.json"
#: Folder inside the installed ``relations_data`` package where the wheel puts the data.
BUNDLE_DIR = "_package"
#: The URLs a descriptor may name: frictionless downloads them, nothing else reads them.
REMOTE_PREFIXES = ("http://", "https://")
_DRIVE = re.compile(r"^[A-Za-z]:")
#: The Data Package name pattern (lower-case letters, digits, ``.``, ``_``, ``-``), also
#: starting with a letter or digit so that no name is ``..`` or a hidden file. A
#: resource name becomes a file name (Parquet export, release archive), a table name
#: and an archive entry, so every one is checked against it.
NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
#: Longest resource name accepted (a file name must fit the file system's limit).
MAX_NAME_LENGTH = 128
_EXTRACTED: list[Path] = []


@dataclass(frozen=True)
class Resource:
    """One table of a data package, with its file and schema resolved safely."""

    name: str
    path: Path
    relpath: str
    schema: TableSchema
    schema_relpath: str | None
    title: str
    description: str


@dataclass(frozen=True)
class OtherResource:
    """A resource that is not a local CSV file with a Table Schema (inline data, JSON,
    a spreadsheet, several files, no schema): its paths are checked like any other, and
    only frictionless reads it. ``schema`` is its Table Schema inlined, if it has one."""

    name: str
    reason: str
    descriptor: Mapping[str, Any]
    schema: Mapping[str, Any] | None
    #: The ``http(s)`` URL of its Table Schema, which frictionless fetches.
    schema_url: str | None = None

    @property
    def remote(self) -> bool:
        """Whether its data or its Table Schema is an ``http(s)`` URL."""
        return self.schema_url is not None or any(map(is_remote, _paths(self.descriptor)))


def is_remote(path: object) -> bool:
    """Whether a descriptor path is an ``http(s)`` URL (read by frictionless only),
    written plainly: no blank or control character that URL parsers would drop."""
    return (
        isinstance(path, str)
        and path[:8].lower().startswith(REMOTE_PREFIXES)
        and path.isprintable()
        and not any(c.isspace() for c in path)
    )


def _is_url(path: str) -> bool:
    """Whether frictionless would read ``path`` as a URL: it has a scheme as
    ``urllib.parse`` sees it (with or without ``//``: ``data:``, ``file:x``, and after
    the blanks and tabs the parser drops), a Windows drive letter aside."""
    if _DRIVE.match(path):
        return False  # refused as absolute
    try:
        return bool(urlsplit(path).scheme)
    except ValueError:  # a malformed URL ("http://[::1")
        return True


def _paths(raw: Mapping[str, Any]) -> list[object]:
    path = raw.get("path")
    return list(path) if isinstance(path, list) else [] if path is None else [path]


#: Formats read as CSV (frictionless reads tsv as CSV with a tab delimiter).
CSV_FORMATS = frozenset({"csv", "tsv"})


@dataclass(frozen=True)
class DataPackage:
    """An opened data package: its root folder, descriptor and resources."""

    root: Path
    descriptor_path: Path
    descriptor: Mapping[str, Any]
    resources: tuple[Resource, ...]
    #: Resources only frictionless reads (see :class:`OtherResource`).
    other_resources: tuple[OtherResource, ...] = ()

    @property
    def version(self) -> str:
        return str(self.descriptor.get("version", ""))

    @property
    def table_names(self) -> tuple[str, ...]:
        return tuple(r.name for r in self.resources)

    def resource(self, name: str) -> Resource:
        for candidate in self.resources:
            if candidate.name == name:
                return candidate
        raise UnknownTableError(unknown_table_message(name, self.table_names))

    def schemas(self) -> dict[str, TableSchema]:
        return {r.name: r.schema for r in self.resources}


def unknown_table_message(name: str, known: tuple[str, ...]) -> str:
    message = f"Unknown table {name!r}: expected one of {', '.join(known)}."
    close = difflib.get_close_matches(name, known, n=1)
    if close:
        message += f" Did you mean {close[0]!r}?"
    return message


def bundled_root() -> Path:
    """Folder holding the bundled ``datapackage.json``.

    An installed wheel carries the data inside the package; a source checkout (editable
    install, running the tests) reads the top-level files of the repository instead.
    """
    installed = Path(str(resources.files("relations_data"))) / BUNDLE_DIR
    if (installed / DESCRIPTOR_NAME).is_file():
        return installed
    checkout = Path(__file__).resolve().parents[2]
    if (checkout / DESCRIPTOR_NAME).is_file():
        return checkout
    raise PackageError(
        f"The bundled data package is missing: expected {installed / DESCRIPTOR_NAME}. "
        "Reinstall relations-data."
    )


def _check_relative(path: str, where: str, kind: str) -> None:
    if _is_url(path):
        raise UnsafePathError(
            f"{where}: {kind} path {redact(quoted(path))} is a URL; only local paths and "
            "http(s) URLs are read."
        )
    if path.startswith(("/", "\\")) or _DRIVE.match(path):
        raise UnsafePathError(f"{where}: {kind} path {path!r} is absolute; refused.")
    if ".." in re.split(r"[\\/]", path):
        raise UnsafePathError(f"{where}: {kind} path {path!r} contains '..'; refused.")


def _inside(root: Path, relpath: str, where: str, kind: str) -> Path:
    _check_relative(relpath, where, kind)
    candidate = root / relpath
    # resolve() follows links, so a link pointing outside the package is caught here.
    if not candidate.resolve().is_relative_to(root.resolve()):
        raise UnsafePathError(
            f"{where}: {kind} path {relpath!r} leads outside the package folder; refused."
        )
    return candidate


def _read_json(path: Path, what: str) -> Any:
    try:
        if path.exists() and not path.is_file():
            # A FIFO or device would make the read wait forever; a folder cannot be read.
            raise PackageError(f"{path}: expected a regular file ({what}); refused.")
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise PackageError(f"{path}: {what} not found.") from None
    except UnicodeDecodeError as error:
        raise PackageError(f"{path}: {what} is not valid UTF-8 ({error}).") from None
    except OSError as error:
        raise PackageError(f"{path}: {what} cannot be read ({error.strerror}).") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise PackageError(
            f"{path}: {what} is not valid JSON (line {error.lineno}, column {error.colno}: "
            f"{error.msg})."
        ) from None
    except RecursionError:
        raise PackageError(f"{path}: {what} is nested too deeply to be read.") from None


def check_name(name: object, where: str) -> str:
    """``name`` if it is a valid resource name (:data:`NAME_PATTERN`), else refuse it."""
    if not isinstance(name, str) or not NAME_PATTERN.match(name) or len(name) > MAX_NAME_LENGTH:
        raise UnsafePathError(
            f"{where}: resource name {quoted(name)} is not a Data Package name: expected "
            f"lower-case letters, digits, '.', '_' or '-', starting with a letter or digit, "
            f"at most {MAX_NAME_LENGTH} characters; refused."
        )
    return name


def check_fields(schema: Mapping[str, Any], where: str) -> None:
    """Refuse what would crash a reader later: repeated field names, and enum values
    of a string field that repeat or are not strings (they become a Polars Enum)."""
    seen: set[object] = set()
    for raw in schema.get("fields", []):
        if not isinstance(raw, dict) or not isinstance(raw.get("name"), str) or not raw["name"]:
            raise PackageError(f"{where}: every field needs a non-empty 'name' string.")
        name = raw["name"]
        if name in seen:
            raise PackageError(f"{where}: field name {quoted(name)} is repeated.")
        seen.add(name)
        constraints = raw.get("constraints", {})
        enum = constraints.get("enum") if isinstance(constraints, dict) else None
        if not isinstance(enum, list):
            continue
        if raw.get("type", "string") == "string" and not all(isinstance(v, str) for v in enum):
            raise PackageError(
                f"{where}: field {quoted(name)} is a string field but its enum holds values "
                f"that are not strings ({quoted([v for v in enum if not isinstance(v, str)])})."
            )
        repeated = sorted({repr(v) for v in enum if enum.count(v) > 1})
        if repeated:
            raise PackageError(
                f"{where}: the enum of field {quoted(name)} repeats {', '.join(repeated)[:200]}."
            )


def read_descriptor(descriptor_path: Path) -> DataPackage:
    """Open the package described by ``descriptor_path``; check paths, do not read tables."""
    descriptor = _read_json(descriptor_path, "data package descriptor")
    where = str(descriptor_path)
    if not isinstance(descriptor, dict):
        raise PackageError(f"{where}: expected a JSON object, found {type(descriptor).__name__}.")
    raw_resources = descriptor.get("resources")
    if not isinstance(raw_resources, list) or not raw_resources:
        raise PackageError(f"{where}: expected a non-empty 'resources' list.")
    root = descriptor_path.parent
    parsed: list[Resource] = []
    others: list[OtherResource] = []
    for index, raw in enumerate(raw_resources):
        if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
            raise PackageError(f"{where}: resource {index} has no name.")
        name = check_name(raw["name"], where)
        reason = _other_reason(raw)
        if reason is not None:
            others.append(_other(raw, reason, root, where))
            continue
        relpath = raw.get("path")
        if not isinstance(relpath, str):
            raise PackageError(f"{where}: resource {name!r} needs a single 'path' string.")
        path = _inside(root, relpath, where, f"resource {name!r}")
        schema_ref = raw.get("schema")
        schema_relpath: str | None = None
        if isinstance(schema_ref, str):
            schema_relpath = schema_ref
            schema_file = _inside(root, schema_ref, where, f"schema of {name!r}")
            schema_descriptor = _read_json(schema_file, f"Table Schema of {name!r}")
        elif isinstance(schema_ref, dict):
            schema_descriptor = schema_ref
        else:
            raise PackageError(f"{where}: resource {name!r} has no Table Schema.")
        if not isinstance(schema_descriptor, dict) or not isinstance(
            schema_descriptor.get("fields"), list
        ):
            raise PackageError(f"{where}: the Table Schema of {name!r} has no 'fields' list.")
        schema_where = (
            f"{root / schema_relpath}: the Table Schema of {name!r}"
            if schema_relpath is not None
            else f"{where}: the Table Schema of {name!r}"
        )
        check_fields(schema_descriptor, schema_where)
        try:
            schema = TableSchema.from_descriptor(name, schema_descriptor)
        except (KeyError, TypeError, ValueError) as error:
            raise PackageError(
                f"{where}: the Table Schema of {name!r} is malformed ({error!r})."
            ) from None
        parsed.append(
            Resource(
                name=name,
                path=path,
                relpath=relpath,
                schema=schema,
                schema_relpath=schema_relpath,
                title=str(raw.get("title", name)),
                description=str(raw.get("description", "")),
            )
        )
    return DataPackage(
        root=root,
        descriptor_path=descriptor_path,
        descriptor=descriptor,
        resources=tuple(parsed),
        other_resources=tuple(others),
    )


def _other_reason(raw: Mapping[str, Any]) -> str | None:
    """Why a resource is not read as a local CSV table, or ``None`` when it is."""
    if any(map(is_remote, _paths(raw))):
        return "remote file"
    if is_remote(raw.get("schema")):
        return "remote Table Schema"
    path = raw.get("path")
    if "data" in raw and path is None:
        return "inline data"
    if isinstance(path, list):
        return "several files"
    if not isinstance(path, str):
        return None  # no path and no data: refused by the caller
    declared = raw.get("format")
    suffix = path.rsplit(".", 1)[-1].lower() if "." in path.rsplit("/", 1)[-1] else "csv"
    kind = str(declared).lower() if isinstance(declared, str) else suffix
    if kind not in CSV_FORMATS:
        return f"{kind} format"
    if raw.get("schema") is None:
        return "no Table Schema"
    return None


def _other(raw: Mapping[str, Any], reason: str, root: Path, where: str) -> OtherResource:
    """An :class:`OtherResource`, its local paths checked like a table's (an ``http(s)``
    URL is left to frictionless; any other URL is refused)."""
    name = str(raw["name"])
    for relpath in _paths(raw):
        if not isinstance(relpath, str):
            raise PackageError(f"{where}: resource {name!r} has a path that is not text.")
        if is_remote(relpath):
            continue
        local = _inside(root, relpath, where, f"resource {name!r}")
        if local.exists() and not local.is_file():
            # frictionless would wait forever on a FIFO; a missing file is its finding.
            raise PackageError(
                f"{local}: expected a regular file (data of resource {name!r}); refused."
            )
    schema_ref = raw.get("schema")
    schema: Mapping[str, Any] | None = None
    if is_remote(schema_ref):
        return OtherResource(name, reason, raw, None, schema_url=str(schema_ref))
    if isinstance(schema_ref, str):
        schema_file = _inside(root, schema_ref, where, f"schema of {name!r}")
        loaded = _read_json(schema_file, f"Table Schema of {name!r}")
        schema = loaded if isinstance(loaded, dict) else None
    elif isinstance(schema_ref, dict):
        schema = schema_ref
    return OtherResource(name=name, reason=reason, descriptor=raw, schema=schema)


def _cleanup_extracted() -> None:
    for folder in _EXTRACTED:
        remove_tree(folder)


def _descriptor_in(folder: Path, origin: Path) -> Path:
    direct = folder / DESCRIPTOR_NAME
    if direct.is_file():
        return direct
    nested = sorted(folder.glob(f"*/{DESCRIPTOR_NAME}"))
    if len(nested) == 1:
        return nested[0]
    raise PackageError(f"{origin}: expected a {DESCRIPTOR_NAME} but found none.")


def extracted_from(package: DataPackage) -> Path | None:
    """The private folder a zip was extracted into for ``package`` (``None`` when the
    package was not opened from a zip): messages name its files as the zip's entries."""
    for folder in _EXTRACTED:
        if package.root.is_relative_to(folder):
            return folder
    return None


def open_package(source: str | Path | None = None) -> DataPackage:
    """Open a data package.

    ``source`` is ``None`` (the bundled copy), a folder holding ``datapackage.json``, a
    ``datapackage.json`` file, or a release ``.zip`` (extracted safely into a private
    temporary folder that is removed when the process exits).
    """
    if source is None:
        return _bundled()
    path = Path(source)
    if path.is_dir():
        return read_descriptor(_descriptor_in(path, path))
    if path.suffix.lower() == ".zip":
        if not path.is_file():
            raise PackageError(f"{path}: archive not found.")
        # Held for the whole process: its extraction lives until exit, and a folder a
        # killed process left in the system's temporary folder is removed here.
        hold_for_process(Path(tempfile.gettempdir()))
        folder = Path(tempfile.mkdtemp(prefix=f"{TEMP_PREFIX}zip."))
        if not _EXTRACTED:
            atexit.register(_cleanup_extracted)
        _EXTRACTED.append(folder)
        extract_zip(path, folder)
        return read_descriptor(_descriptor_in(folder, path))
    if not path.exists():
        raise PackageError(f"{path}: no such file or folder.")
    return read_descriptor(path)


@cache
def _bundled() -> DataPackage:
    return read_descriptor(bundled_root() / DESCRIPTOR_NAME)
