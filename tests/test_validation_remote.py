"""Remote resources: an http(s) URL is handed to frictionless, which downloads it.

Nothing here touches the network: files are served by a real HTTP server on 127.0.0.1
(tests/httpserver.py), and an unreachable URL is a local port nothing listens on.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from relations_data.cli import main
from relations_data.errors import ExportError, PackageError, UnknownTableError, UnsafePathError
from relations_data.export import export
from relations_data.loader import load, load_package
from relations_data.validation import Report, validate
from tests.httpserver import FolderServer, http_folder

__all__ = ["http_folder"]  # the fixture, imported for pytest

ENGINE_CHOICES = [("polars", "frictionless"), ("polars",), ("frictionless",)]
IDS = ["both", "polars", "frictionless"]

SCHEMA: dict[str, Any] = {
    "fields": [{"name": "id", "type": "integer"}, {"name": "n", "type": "integer"}],
    "primaryKey": ["id"],
}
#: The local table: its ``ref`` points at the remote resource's ``id``.
LOCAL_SCHEMA: dict[str, Any] = {
    "fields": [{"name": "id", "type": "integer"}, {"name": "ref", "type": "integer"}],
    "primaryKey": ["id"],
    "foreignKeys": [{"fields": ["ref"], "reference": {"resource": "remote", "fields": ["id"]}}],
}


def write_package(root: Path, *resources: dict[str, Any], refs: str = "1\n2\n") -> Path:
    """A package with the local table ``local`` (``ref`` cells from ``refs``) first."""
    root.mkdir(exist_ok=True)
    rows = "".join(f"{i},{ref}\n" for i, ref in enumerate(refs.split(), start=1))
    (root / "local.csv").write_text("id,ref\n" + rows, "utf-8")
    local = {"name": "local", "path": "local.csv", "schema": LOCAL_SCHEMA}
    descriptor = {"name": "remote-test", "resources": [local, *resources]}
    (root / "datapackage.json").write_text(json.dumps(descriptor), "utf-8")
    return root


def remote_csv(url: str, **extra: Any) -> dict[str, Any]:
    return {"name": "remote", "path": url, "schema": SCHEMA, **extra}


@pytest.fixture
def served(http_folder: FolderServer) -> FolderServer:
    """The server, holding ``good.csv``, ``bad.csv`` (a type error on line 3) and
    ``schema.json``."""
    (http_folder.root / "good.csv").write_text("id,n\n1,10\n2,20\n", "utf-8")
    (http_folder.root / "bad.csv").write_text("id,n\n1,10\n2,twenty\n", "utf-8")
    (http_folder.root / "schema.json").write_text(json.dumps(SCHEMA), "utf-8")
    return http_folder


@pytest.fixture
def closed_port(monkeypatch: pytest.MonkeyPatch) -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then released)."""
    # A proxy configured in the environment must not answer for 127.0.0.1.
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def located(report: Report) -> set[tuple[str, int | None, str | None, str, str]]:
    return {(f.table, f.line, f.column, f.rule, f.engine) for f in report.findings}


@pytest.mark.parametrize("engines", ENGINE_CHOICES, ids=IDS)
def test_a_remote_csv_is_validated_by_frictionless_with_a_note(
    tmp_path: Path, served: FolderServer, engines: tuple[str, ...]
) -> None:
    root = write_package(tmp_path / "pkg", remote_csv(f"{served.url}/good.csv"))
    report = validate(root, engines=engines)
    assert report.valid, report.to_text()
    assert "frictionless" in report.engines
    assert "/good.csv" in served.requests
    assert any(
        "'remote' (remote file) was validated by the frictionless engine" in n for n in report.notes
    )


@pytest.mark.parametrize("engines", ENGINE_CHOICES, ids=IDS)
def test_a_type_error_in_a_remote_csv_is_a_finding_on_its_line(
    tmp_path: Path, served: FolderServer, engines: tuple[str, ...]
) -> None:
    url = f"{served.url}/bad.csv"
    root = write_package(tmp_path / "pkg", remote_csv(url))
    report = validate(root, engines=engines)
    assert located(report) == {("remote", 3, "n", "type", "frictionless")}
    assert [f.file for f in report.findings] == [url]
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(tmp_path)  # the package lies below: local files are named relatively
        assert f"file={url.replace(':', '%3A')},line=3," in report.to_github()


@pytest.mark.parametrize("engines", ENGINE_CHOICES, ids=IDS)
def test_a_remote_table_schema_hands_the_local_csv_to_frictionless(
    tmp_path: Path, served: FolderServer, engines: tuple[str, ...]
) -> None:
    root = write_package(tmp_path / "pkg")
    (root / "numbers.csv").write_text("id,n\n1,10\n2,x\n", "utf-8")
    descriptor = json.loads((root / "datapackage.json").read_text("utf-8"))
    descriptor["resources"].append(
        {"name": "remote", "path": "numbers.csv", "schema": f"{served.url}/schema.json"}
    )
    (root / "datapackage.json").write_text(json.dumps(descriptor), "utf-8")
    report = validate(root, engines=engines)
    assert located(report) == {("remote", 3, "n", "type", "frictionless")}
    assert any("'remote' (remote Table Schema)" in note for note in report.notes)
    assert "/schema.json" in served.requests


def test_a_foreign_key_to_a_remote_resource_is_checked_by_frictionless(
    tmp_path: Path, served: FolderServer
) -> None:
    root = write_package(tmp_path / "pkg", remote_csv(f"{served.url}/good.csv"), refs="1 7")
    report = validate(root)
    assert located(report) == {("local", 3, "ref", "foreign-key", "frictionless")}
    assert any("local.ref -> remote" in note for note in report.notes)
    # Under --engine polars frictionless reads the remote resource alone: the note says
    # that the key went unchecked.
    polars = validate(root, engines=("polars",))
    assert polars.valid
    [note] = [n for n in polars.notes if "local.ref -> remote" in n]
    assert "it was not checked" in note


def test_an_unreachable_url_is_a_scheme_error_naming_resource_and_url(
    tmp_path: Path, closed_port: int
) -> None:
    url = f"http://127.0.0.1:{closed_port}/gone.csv"
    root = write_package(tmp_path / "pkg", remote_csv(url))
    report = validate(root, engines=("polars",))
    [finding] = report.findings
    assert (finding.table, finding.file, finding.rule) == ("remote", url, "scheme-error")
    assert "refused" in finding.message.lower()


def test_a_missing_remote_file_is_a_scheme_error(tmp_path: Path, served: FolderServer) -> None:
    url = f"{served.url}/missing.csv"
    root = write_package(tmp_path / "pkg", remote_csv(url))
    report = validate(root, engines=("frictionless",))
    remote = [f for f in report.findings if f.table == "remote"]
    assert [(f.file, f.rule) for f in remote] == [(url, "scheme-error")]
    assert "404" in remote[0].message


@pytest.mark.parametrize("engines", [("polars",), ("polars", "frictionless")], ids=IDS[:2])
def test_a_download_that_breaks_off_is_unusable_input_naming_resource_and_url(
    tmp_path: Path, served: FolderServer, engines: tuple[str, ...]
) -> None:
    """frictionless raises (rather than reports) a body cut short: one clear error."""
    rows = "".join(f"{i},{i}\n" for i in range(5000))
    (served.root / "long.csv").write_text("id,n\n" + rows, "utf-8")
    served.cut_after = 2000  # the full length is announced, 2,000 bytes are sent
    url = f"{served.url}/long.csv"
    root = write_package(tmp_path / "pkg", remote_csv(url))
    with pytest.raises(PackageError, match="broke off") as raised:
        validate(root, engines=engines)
    assert f"'remote' ({url})" in str(raised.value)
    result = CliRunner().invoke(main, ["validate", str(root), "--engine", engines[-1]])
    assert result.exit_code == 2, result.output
    assert result.output.startswith("Error: ") and "Traceback" not in result.output


def test_a_remote_schema_that_cannot_be_fetched_is_a_schema_error(
    tmp_path: Path, served: FolderServer
) -> None:
    root = write_package(tmp_path / "pkg")
    (root / "numbers.csv").write_text("id,n\n1,10\n", "utf-8")
    descriptor = json.loads((root / "datapackage.json").read_text("utf-8"))
    url = f"{served.url}/missing.schema.json"
    descriptor["resources"].append({"name": "remote", "path": "numbers.csv", "schema": url})
    (root / "datapackage.json").write_text(json.dumps(descriptor), "utf-8")
    report = validate(root, engines=("polars",))
    assert [(f.table, f.file, f.rule) for f in report.findings] == [("remote", url, "schema-error")]
    assert url in report.findings[0].message and "404" in report.findings[0].message


def test_credentials_in_a_remote_url_stay_out_of_the_report(
    tmp_path: Path, served: FolderServer
) -> None:
    url = served.url.replace("http://", "http://reader:s3cret@") + "/bad.csv"
    root = write_package(tmp_path / "pkg", remote_csv(url))
    report = validate(root)
    assert "s3cret" not in report.to_json() + report.to_text()
    assert [f.rule for f in report.findings] == ["type"]


@pytest.mark.parametrize(
    "path",
    [
        "file:///etc/passwd",
        "file:data.csv",
        "ftp://127.0.0.1/x.csv",
        "data:text/csv,id%0A1",
        " http://127.0.0.1/x.csv",
        "ht\ttp://127.0.0.1/x.csv",
    ],
    ids=["file-absolute", "file-relative", "ftp", "data", "leading-blank", "tab"],
)
@pytest.mark.parametrize("where", ["path", "schema", "one of paths"])
def test_other_urls_stay_refused_before_anything_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, path: str, where: str
) -> None:
    import frictionless

    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("frictionless was called")

    monkeypatch.setattr(frictionless, "Package", forbidden)
    if where == "path":
        resource = remote_csv(path)
    elif where == "schema":
        resource = {"name": "remote", "path": "local.csv", "schema": path}
    else:
        resource = remote_csv(["http://127.0.0.1:1/a.csv", path])  # type: ignore[arg-type]
    root = write_package(tmp_path / "pkg", resource)
    with pytest.raises(UnsafePathError, match="is a URL"):
        validate(root)


def test_a_local_path_beside_a_url_is_still_checked(tmp_path: Path) -> None:
    paths = ["http://127.0.0.1:1/a.csv", "../outside.csv"]
    root = write_package(tmp_path / "pkg", remote_csv(paths))  # type: ignore[arg-type]
    with pytest.raises(UnsafePathError, match=r"'\.\.'"):
        validate(root)


@pytest.mark.parametrize(
    ("remote", "code", "said"),
    [
        ("good.csv", 0, "Valid:"),
        ("bad.csv", 1, "line 3, column n: type"),
        ("unreachable", 1, "scheme-error"),
        ("file", 2, "Error: "),
    ],
)
def test_cli_exit_codes(
    tmp_path: Path, served: FolderServer, closed_port: int, *, remote: str, code: int, said: str
) -> None:
    url = {
        "unreachable": f"http://127.0.0.1:{closed_port}/x.csv",
        "file": f"file://{tmp_path}/x.csv",
    }.get(remote, f"{served.url}/{remote}")
    root = write_package(tmp_path / "pkg", remote_csv(url))
    result = CliRunner().invoke(main, ["validate", str(root), "--engine", "polars"])
    assert result.exit_code == code, result.output
    assert said in result.output
    assert "Traceback" not in result.output
    if code == 1:
        assert f"remote ({url})" in result.output  # the resource and its URL
    if code != 2:
        assert "with polars and frictionless" in result.output


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[object]]:
    """Record (and refuse) every name lookup and connection attempt."""
    attempts: list[object] = []

    def refuse(*args: object, **kwargs: object) -> None:
        attempts.append(args)
        raise OSError("network access in a test that must not make any")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    yield attempts


def test_a_package_without_urls_makes_no_network_access(
    tmp_path: Path, no_network: list[object]
) -> None:
    """Profiles and ``$schema`` URLs name documents frictionless would fetch: none of
    them reaches it."""
    inline = {
        "name": "inline",
        "data": [["id", "n"], [1, 2]],
        "profile": "https://example.org/resource-profile.json",
        "schema": {"$schema": "https://example.org/table-schema.json", **SCHEMA},
    }
    root = write_package(tmp_path / "pkg", inline)
    descriptor = json.loads((root / "datapackage.json").read_text("utf-8"))
    descriptor["$schema"] = "https://example.org/data-package.json"
    descriptor["profile"] = "https://example.org/package-profile.json"
    descriptor["resources"][0]["foreignKeys"] = []
    descriptor["resources"][0]["schema"] = {
        "$schema": "https://example.org/table-schema.json",
        **{k: v for k, v in LOCAL_SCHEMA.items() if k != "foreignKeys"},
    }
    (root / "datapackage.json").write_text(json.dumps(descriptor), "utf-8")
    report = validate(root)
    assert report.valid, report.to_text()
    assert no_network == []


def test_frictionless_is_never_told_to_trust_the_descriptor(
    tmp_path: Path, served: FolderServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    import frictionless

    seen: list[bool] = []
    original = frictionless.Package.validate

    def recording(self: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(frictionless.system.trusted)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(frictionless.Package, "validate", recording)
    root = write_package(tmp_path / "pkg", remote_csv(f"{served.url}/good.csv"))
    assert validate(root).valid
    assert seen == [False]


def test_the_loader_refuses_a_remote_table_and_downloads_nothing(
    tmp_path: Path, served: FolderServer
) -> None:
    root = write_package(tmp_path / "pkg", remote_csv(f"{served.url}/good.csv"))
    with pytest.raises(PackageError, match=r"'remote' is read from an http\(s\) URL"):
        load("remote", source=root)  # type: ignore[arg-type]
    assert list(load_package(source=root)) == ["local"]
    assert served.requests == []


def test_the_loader_refuses_a_table_with_a_remote_schema(
    tmp_path: Path, served: FolderServer
) -> None:
    url = f"{served.url}/schema.json"
    root = write_package(tmp_path / "pkg", {"name": "remote", "path": "local.csv", "schema": url})
    with pytest.raises(PackageError, match=r"remote Table Schema"):
        load("remote", source=root)  # type: ignore[arg-type]
    assert served.requests == []


def test_the_loader_still_calls_an_inline_resource_unknown(tmp_path: Path) -> None:
    inline = {"name": "inline", "data": [["id", "n"], [1, 2]], "schema": SCHEMA}
    root = write_package(tmp_path / "pkg", inline)
    with pytest.raises(UnknownTableError):
        load("inline", source=root)  # type: ignore[arg-type]


@pytest.mark.parametrize("fmt", ["sqlite", "duckdb"])
def test_a_database_export_refuses_a_key_to_a_remote_table_and_downloads_nothing(
    tmp_path: Path, served: FolderServer, fmt: str
) -> None:
    root = write_package(tmp_path / "pkg", remote_csv(f"{served.url}/good.csv"))
    out = tmp_path / f"out.{fmt}"
    with pytest.raises(ExportError, match=r"local\.ref -> remote .*\(remote file"):
        export(fmt, out, source=root)  # type: ignore[arg-type]
    assert not out.exists()
    assert served.requests == []
    export("parquet", tmp_path / "parquet", source=root)  # no key in Parquet: local only
    assert [p.name for p in (tmp_path / "parquet").iterdir()] == ["local.parquet"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_a_fifo_handed_to_frictionless_is_refused_not_waited_on(
    tmp_path: Path, served: FolderServer
) -> None:
    """A local CSV with a remote Table Schema is read by frictionless alone: the
    package's regular-file guard still applies to it."""
    root = write_package(tmp_path / "pkg")
    os.mkfifo(root / "numbers.csv")
    descriptor = json.loads((root / "datapackage.json").read_text("utf-8"))
    url = f"{served.url}/schema.json"
    descriptor["resources"].append({"name": "remote", "path": "numbers.csv", "schema": url})
    (root / "datapackage.json").write_text(json.dumps(descriptor), "utf-8")
    # The timeout only guards the test run against the hang being tested for.
    done = subprocess.run(
        [sys.executable, "-m", "relations_data", "validate", str(root)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert "numbers.csv" in done.stderr and "regular file" in done.stderr
