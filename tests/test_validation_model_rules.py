"""The rules of the 2.0 tables hold for all inputs: claim verdicts against citation
stances, end points with their own precision, currencies of units and language tags.

Each property writes a few rows into a copy of the repository's package, validates it
with the Polars engine and compares the findings with an oracle written from SPEC.md, not
from the schemas the engine reads.
"""

from __future__ import annotations

import calendar
import csv
import shutil
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from relations_data.package import open_package
from relations_data.validation import validate
from relations_data.validation.model_rules import language_problem
from tests.conftest import ROOT

SETTINGS = settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
PRIMARY = "neo-bokarev"
OTHER = "ppp-2017-11-09-russia-drills"
PRECISIONS = (None, "day", "month", "year")


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("model-rules") / "package"
    target.mkdir()
    shutil.copy2(ROOT / "datapackage.json", target / "datapackage.json")
    shutil.copytree(ROOT / "schemas", target / "schemas")
    shutil.copytree(ROOT / "data", target / "data")
    return target


def _write(root: Path, table: str, rows: list[dict[str, Any]], keep: bool = False) -> None:
    """Write ``rows`` (plus the repository's rows when ``keep``) under the schema's header."""
    resource = open_package(root).resource(table)
    header = list(resource.schema.field_names)
    original = ROOT / resource.relpath
    with original.open(encoding="utf-8", newline="") as f:
        kept = list(csv.DictReader(f)) if keep else []
    with resource.path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=header, lineterminator="\n")
        writer.writeheader()
        for row in [*kept, *rows]:
            writer.writerow({k: "" if row.get(k) is None else row[k] for k in header})


def _restore(root: Path, *tables: str) -> None:
    for table in tables:
        shutil.copy2(ROOT / "data" / f"{table}.csv", root / "data" / f"{table}.csv")


def _flagged(root: Path, rule: str, table: str) -> list[str]:
    report = validate(root, engines=("polars",))
    return [f.message for f in report.findings if f.rule == rule and f.table == table]


# -- claim-verdict ------------------------------------------------------------------------


def verdict_agrees(verdict: str, supports: int, contradicts: int) -> bool:
    """SPEC.md, claims: the stances a verdict needs among other sources' citations."""
    return {
        "supported": supports >= 1 and contradicts == 0,
        "partly_supported": supports >= 1 and contradicts >= 1,
        "contradicted": contradicts >= 1 and supports == 0,
        "unverified": supports == 0 and contradicts == 0,
        "not_checkable": supports == 0 and contradicts == 0,
    }[verdict]


@SETTINGS
@given(
    verdict=st.sampled_from(
        ["supported", "partly_supported", "contradicted", "unverified", "not_checkable"]
    ),
    stances=st.lists(st.sampled_from(["supports", "contradicts", "context"]), max_size=4),
    own=st.sampled_from([None, "supports", "contradicts"]),
)
def test_claim_verdicts_agree_with_stances_of_other_sources(
    root: Path, verdict: str, stances: list[str], own: str | None
) -> None:
    claim = "neo-bokarev-p8-ships-docked"
    _write(
        root,
        "claims",
        [
            {
                "id": claim,
                "source_id": PRIMARY,
                "locator": "¶8",
                "statement": "Two Pacific Fleet ships docked in Cambodia in November 2017.",
                "claim_kind": "event",
                "verdict": verdict,
            }
        ],
    )
    evidence = [
        {
            "record_table": "claims",
            "record_id": claim,
            "source_id": OTHER,
            "locator": f"para {i + 1}",
            "stance": stance,
        }
        for i, stance in enumerate(stances)
    ]
    if own is not None:
        # The claim's own source is no evidence for or against it: never counted.
        evidence.append(
            {
                "record_table": "claims",
                "record_id": claim,
                "source_id": PRIMARY,
                "locator": "¶8",
                "stance": own,
            }
        )
    _write(root, "citations", evidence, keep=True)
    try:
        found = _flagged(root, "claim-verdict", "claims")
    finally:
        _restore(root, "claims", "citations")
    agrees = verdict_agrees(verdict, stances.count("supports"), stances.count("contradicts"))
    assert bool(found) is not agrees, found
    if found:
        assert f"verdict {verdict}" in found[0]


# -- end points with their own precision (memberships) --------------------------------


def _aligned(day: date, precision: str, end: bool) -> bool:
    if precision == "day":
        return True
    if precision == "month":
        return day.day == (calendar.monthrange(day.year, day.month)[1] if end else 1)
    return (day.month, day.day) == ((12, 31) if end else (1, 1))


def membership_problems(
    start: date | None, start_p: str | None, end: date | None, end_p: str | None
) -> set[str]:
    """SPEC.md, memberships: each end point its own precision; start stored as the first
    day of its period, end as the last; start ≤ end."""
    problems = set()
    for day, precision, is_end in ((start, start_p, False), (end, end_p, True)):
        if (day is None) != (precision is None):
            problems.add("precision-given")
        elif day and precision and not _aligned(day, precision, is_end):
            problems.add("date-precision")
    if start is not None and end is not None and end < start:
        problems.add("date-order")
    return problems


DAYS = st.one_of(st.none(), st.dates(date(1950, 1, 1), date(2030, 12, 31)))


@SETTINGS
@given(start=DAYS, start_p=st.sampled_from(PRECISIONS), end=DAYS, end_p=st.sampled_from(PRECISIONS))
def test_membership_end_points_follow_their_own_precision(
    root: Path, start: date | None, start_p: str | None, end: date | None, end_p: str | None
) -> None:
    row = {
        "id": "zz-test-membership",
        "actor_id": "hun-sen",
        "organization_id": "cambodia",
        "role": "prime_minister",
        "start": start.isoformat() if start else None,
        "start_precision": start_p,
        "end": end.isoformat() if end else None,
        "end_precision": end_p,
    }
    _write(root, "memberships", [row])
    try:
        report = validate(root, engines=("polars",))
    finally:
        _restore(root, "memberships")
    found = {
        f.rule
        for f in report.findings
        if f.table == "memberships"
        and f.rule in ("date-order", "date-precision", "precision-given")
    }
    assert found == membership_problems(start, start_p, end, end_p), report.to_text()


# -- currency-unit and the period rules of observations --------------------------------


@SETTINGS
@given(
    unit=st.sampled_from(["currency", "persons", "percent", "count"]),
    currency=st.sampled_from([None, "USD", "RUB"]),
    precision=st.sampled_from(["day", "month", "year"]),
    start=st.dates(date(1980, 1, 1), date(2026, 12, 31)),
)
def test_observations_need_a_currency_exactly_for_money_and_whole_periods(
    root: Path, unit: str, currency: str | None, precision: str, start: date
) -> None:
    if precision == "year":
        end = date(start.year, 12, 31)
    elif precision == "month":
        end = date(start.year, start.month, calendar.monthrange(start.year, start.month)[1])
    else:
        end = start
    _write(
        root,
        "observations",
        [
            {
                "id": "zz-test-observation",
                "indicator": "trade_turnover",
                "subject_id": "cambodia",
                "counterpart_id": "russia",
                "date_start": start.isoformat(),
                "date_end": end.isoformat(),
                "date_precision": precision,
                "value": "1",
                "value_qualifier": "exact",
                "unit": unit,
                "currency": currency,
            }
        ],
    )
    _write(
        root,
        "citations",
        [
            {
                "record_table": "observations",
                "record_id": "zz-test-observation",
                "source_id": OTHER,
                "locator": "body",
                "stance": "supports",
            }
        ],
        keep=True,
    )
    try:
        report = validate(root, engines=("polars",))
    finally:
        _restore(root, "observations", "citations")
    rules = {f.rule for f in report.findings if f.table == "observations"}
    assert ("currency-unit" in rules) is ((unit == "currency") is (currency is None))
    # The start is where the period rules bite: e.g. a month that starts on the 2nd.
    aligned = _aligned(start, precision, end=False)
    assert ("date-precision" in rules) is not aligned, report.to_text()
    assert "fact-cited" not in rules


def test_an_uncited_observation_is_reported(root: Path) -> None:
    _write(
        root,
        "observations",
        [
            {
                "id": "zz-uncited",
                "indicator": "tourist_arrivals",
                "subject_id": "cambodia",
                "counterpart_id": "russia",
                "date_start": "2017-01-01",
                "date_end": "2017-12-31",
                "date_precision": "year",
                "value": "100000",
                "value_qualifier": "more_than",
                "unit": "persons",
            }
        ],
    )
    try:
        found = _flagged(root, "fact-cited", "observations")
    finally:
        _restore(root, "observations")
    assert found and "zz-uncited" in found[0]


@pytest.mark.parametrize(
    ("table", "row"),
    [
        (
            "aliases",
            {
                "record_table": "places",
                "record_id": "kampongaon",
                "name": "Kampongaon",
                "language": "en",
                "script": "Latn",
                "name_type": "erroneous",
                "source_id": PRIMARY,
            },
        ),
        ("claim_records", {"claim_id": "zz-claim", "record_table": "events", "record_id": "x"}),
    ],
)
def test_aliases_and_claim_records_point_at_existing_records(
    root: Path, table: str, row: dict[str, str]
) -> None:
    if table == "claim_records":
        _write(
            root,
            "claims",
            [
                {
                    "id": "zz-claim",
                    "source_id": PRIMARY,
                    "locator": "¶1",
                    "statement": "A statement of the article, for the test.",
                    "claim_kind": "opinion",
                    "verdict": "not_checkable",
                }
            ],
        )
    _write(root, table, [row], keep=True)
    try:
        found = _flagged(root, "citation-target", table)
    finally:
        _restore(root, table, "claims")
    assert len(found) == 1 and row["record_id"] in found[0]


# -- language tags ---------------------------------------------------------------------


def _registered_languages() -> list[str]:
    import pycountry

    return sorted(lang.alpha_2 for lang in pycountry.languages if hasattr(lang, "alpha_2"))


#: Scripts the sources of a Russia–Cambodia chronicle use, and a few more.
SCRIPTS = ["Latn", "Cyrl", "Khmr", "Hans", "Hant", "Jpan", "Kore", "Thai", "Laoo", "Arab"]


@settings(max_examples=200, deadline=None)
@given(
    language=st.sampled_from(_registered_languages()),
    script=st.one_of(st.none(), st.sampled_from(SCRIPTS)),
    region=st.one_of(st.none(), st.sampled_from(["US", "GB", "RU", "KH", "CN", "FR", "VN"])),
)
def test_every_canonical_tag_of_registered_subtags_is_accepted(
    language: str, script: str | None, region: str | None
) -> None:
    import langcodes

    tag = langcodes.standardize_tag("-".join(p for p in (language, script, region) if p))
    assert language_problem(tag) is None


@settings(max_examples=100, deadline=None)
@given(language=st.sampled_from(_registered_languages()))
def test_a_tag_not_in_canonical_case_is_rejected(language: str) -> None:
    assert language_problem(language.upper()) is not None


@pytest.mark.parametrize(("tag", "valid"), [("tl", True), ("eng", False), ("ZH-hans", False)])
def test_valid_tags_need_only_conventional_writing(tag: str, valid: bool) -> None:
    assert (language_problem(tag) is None) is valid


@pytest.mark.parametrize("tag", ["xx", "en-", "english", "ru-Qqqq-ZZZ", "zz-Latn"])
def test_malformed_or_unregistered_tags_are_rejected(tag: str) -> None:
    problem = language_problem(tag)
    assert problem is not None and "well-formed" in problem
