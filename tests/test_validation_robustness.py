"""Random byte-level damage never makes validate() raise anything but PackageError."""

from __future__ import annotations

import itertools
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from relations_data.errors import PackageError
from relations_data.validation import Report, validate
from tests.conftest import TABLES
from tests.test_validation_support import template

_counter = itertools.count()
TARGETS = ["datapackage.json", *[f"data/{t}.csv" for t in TABLES]]


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return template(tmp_path_factory.mktemp("robust"), 6)


mutation = st.tuples(
    st.sampled_from(["flip", "insert", "delete"]),
    st.floats(min_value=0, max_value=1, exclude_max=True),
    st.binary(min_size=1, max_size=4)
    | st.sampled_from([b",", b'"', b"\n", b"\r", b"\xff", b"\xef\xbb\xbf", b"{", b"\\"]),
)


def _mutate(data: bytes, mutations: list[tuple[str, float, bytes]]) -> bytes:
    buffer = bytearray(data)
    for kind, where, chunk in mutations:
        at = int(where * max(len(buffer), 1))
        if kind == "flip" and buffer:
            buffer[at % len(buffer)] ^= chunk[0] or 1
        elif kind == "insert":
            buffer[at:at] = chunk
        elif buffer:
            del buffer[at : at + len(chunk)]
    return bytes(buffer)


@pytest.mark.slow
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    target=st.sampled_from(TARGETS),
    mutations=st.lists(mutation, min_size=1, max_size=4),
    engines=st.sampled_from([("polars",), ("polars", "frictionless")]),
)
def test_mutated_files_give_a_report_or_a_package_error(
    base: Path,
    tmp_path_factory: pytest.TempPathFactory,
    target: str,
    mutations: list[tuple[str, float, bytes]],
    engines: tuple[str, ...],
) -> None:
    root = tmp_path_factory.getbasetemp() / f"mutant-{next(_counter)}"
    shutil.copytree(base, root)
    path = root / target
    path.write_bytes(_mutate(path.read_bytes(), mutations))
    try:
        report = validate(root, engines=engines)
    except PackageError as error:
        assert str(error)  # a message, naming what was wrong
    else:
        assert isinstance(report, Report)
        for finding in report.findings:
            assert finding.table == "" or finding.line is None or finding.line >= 1
    finally:
        shutil.rmtree(root, ignore_errors=True)
