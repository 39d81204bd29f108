"""Rules over the curated content itself: every fact cited, every record used, dates honest.

Each rule is a function returning a list of problems (empty when the rule holds). One test
runs every rule on the repository's package; another breaks a copy of the package in a way
the rule must catch, so no rule can pass vacuously.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from datetime import date
from pathlib import Path

import polars as pl
import pytest

import relations_data
from relations_data.loader import TableName
from tests.conftest import ROOT

#: The primary article (see ../shared/sources/README.md).
PRIMARY_SOURCE = "neo-bokarev"
#: Paragraphs of the primary article: lines 1-11 of bokarev-neo-russia-cambodia.txt (line 12
#: is a stray word, not a paragraph), so valid locators are ¶1 to ¶11.
PRIMARY_PARAGRAPHS = 11

#: Wikidata IDs the source pack (../shared/sources/corroboration.md, section "Wikidata
#: identifiers") marks as well-known and safe; any other ID is unverified and must stay empty.
SAFE_WIKIDATA = {
    "Q159": "Russia",
    "Q30": "United States",
    "Q148": "People's Republic of China",
    "Q424": "Cambodia",
    "Q15180": "Soviet Union",
    "Q7768": "ASEAN",
    "Q458": "European Union",
    "Q23530": "Dmitry Medvedev",
}

#: Tables whose every row needs a supporting citation (DESIGN.md, "Provenance").
CITED_TABLES: tuple[TableName, ...] = (
    "actors",
    "memberships",
    "events",
    "agreements",
    "vessels",
    "places",
    "observations",
)

#: (table, start column, end column, precision column) of every date interval.
INTERVALS: tuple[tuple[TableName, str, str, str], ...] = (
    ("events", "date_start", "date_end", "date_precision"),
    ("agreements", "date_signed", "date_signed_end", "date_precision"),
    ("sources", "published", "published_end", "published_precision"),
    ("observations", "date_start", "date_end", "date_precision"),
)

Problems = list[str]


def _load(root: Path, table: TableName) -> pl.DataFrame:
    return relations_data.load(table, source=root)


def _ids(root: Path, table: TableName) -> set[str]:
    return set(_load(root, table)["id"].to_list())


def events_have_actors(root: Path) -> Problems:
    with_actor = set(_load(root, "event_actors")["event_id"].to_list())
    return [f"event {e} has no row in event_actors" for e in _ids(root, "events") - with_actor]


def vessels_are_used(root: Path) -> Problems:
    used = set(_load(root, "event_vessels")["vessel_id"].to_list())
    return [f"vessel {v} takes part in no event" for v in _ids(root, "vessels") - used]


def places_are_used(root: Path) -> Problems:
    places = _load(root, "places")
    used = set(_load(root, "event_places")["place_id"].to_list())
    used |= set(places["parent_id"].drop_nulls().to_list())
    return [
        f"place {p} is neither an event's place nor a parent" for p in _ids(root, "places") - used
    ]


def sources_are_used(root: Path) -> Problems:
    used = set(_load(root, "citations")["source_id"].to_list())
    used |= set(_load(root, "aliases")["source_id"].to_list())
    used |= set(_load(root, "claims")["source_id"].to_list())
    return [f"source {s} is cited nowhere" for s in _ids(root, "sources") - used]


def records_are_cited(root: Path) -> Problems:
    citations = _load(root, "citations").filter(
        (pl.col("stance") == "supports") & pl.col("locator").str.strip_chars().str.len_chars().gt(0)
    )
    problems: Problems = []
    for table in CITED_TABLES:
        cited = set(citations.filter(pl.col("record_table") == table)["record_id"].to_list())
        problems += [f"{table} {r} has no supporting citation" for r in _ids(root, table) - cited]
    return problems


def citations_point_to_records(root: Path) -> Problems:
    citations = _load(root, "citations")
    problems: Problems = []
    for table in CITED_TABLES:
        known = _ids(root, table)
        records = citations.filter(pl.col("record_table") == table)["record_id"].to_list()
        problems += [f"citation of missing {table} record {r}" for r in records if r not in known]
    return problems


def primary_locators_are_paragraphs(root: Path) -> Problems:
    locators = _load(root, "citations").filter(pl.col("source_id") == PRIMARY_SOURCE)["locator"]
    problems: Problems = []
    for locator in locators.to_list():
        match = re.fullmatch(r"¶([1-9][0-9]*)", locator)
        if match is None or int(match.group(1)) > PRIMARY_PARAGRAPHS:
            problems.append(f"locator {locator!r} is not a paragraph ¶1..¶{PRIMARY_PARAGRAPHS}")
    return problems


def _blank(column: str) -> pl.Expr:
    return pl.col(column).is_null() | (pl.col(column).str.strip_chars() == "")


def contradictions_have_notes(root: Path) -> Problems:
    """A contradicting citation says what the source claimed: in its own note, or, for a
    claim (whose verdict it is evidence for), in the claim's note."""
    explained = _load(root, "claims").filter(~_blank("note"))["id"]
    bad = _load(root, "citations").filter(
        (pl.col("stance") == "contradicts")
        & _blank("note")
        & ~((pl.col("record_table") == "claims") & pl.col("record_id").is_in(explained.implode()))
    )
    return [
        f"contradicting citation of {r} by {s} has no note"
        for r, s in bad.select("record_id", "source_id").iter_rows()
    ]


def contradicted_rows_keep_independent_support(root: Path) -> Problems:
    """A row that a source contradicts states what another source supports."""
    citations = _load(root, "citations")
    # A claim may be contradicted outright: its verdict says so (rule claim-verdict).
    contradicted = citations.filter(
        (pl.col("stance") == "contradicts") & pl.col("record_table").is_in(CITED_TABLES)
    )
    problems: Problems = []
    for table, record, source in contradicted.select(
        "record_table", "record_id", "source_id"
    ).iter_rows():
        backers = citations.filter(
            (pl.col("record_table") == table)
            & (pl.col("record_id") == record)
            & (pl.col("stance") == "supports")
            & (pl.col("source_id") != source)
        )
        if backers.is_empty():
            problems.append(f"{table} {record} is contradicted by {source} and supported by none")
    return problems


def _interval_problem(start: date | None, end: date | None, precision: str | None) -> str | None:
    """What is wrong with one date interval, or None; an open end is allowed."""
    if precision is None:
        return None if start is None and end is None else "dates without a precision"
    if start is None and end is None:
        return f"precision {precision} without any date"
    if start is not None and end is not None and end < start:
        return "end before start"
    if precision == "month" and (
        (start is not None and start.day != 1)
        or (end is not None and end.day != calendar.monthrange(end.year, end.month)[1])
    ):
        return "month precision runs from the first to the last day of months"
    if precision == "year" and (
        (start is not None and (start.month, start.day) != (1, 1))
        or (end is not None and (end.month, end.day) != (12, 31))
    ):
        return "year precision runs from 1 January to 31 December"
    return None


def intervals_match_precision(root: Path) -> Problems:
    problems: Problems = []
    for table, start, end, precision in INTERVALS:
        frame = _load(root, table)
        key = "id"
        for rid, s, e, p in frame.select(key, start, end, precision).iter_rows():
            if (problem := _interval_problem(s, e, p)) is not None:
                problems.append(f"{table} {rid}: {problem} ({s}..{e}, {p})")
    return problems


def wikidata_ids_are_safe(root: Path) -> Problems:
    actors = _load(root, "actors").drop_nulls("wikidata")
    return [
        f"actor {a} has unverified Wikidata ID {q}"
        for a, q in actors.select("id", "wikidata").iter_rows()
        if q not in SAFE_WIKIDATA
    ]


def amounts_have_currencies(root: Path) -> Problems:
    bad = _load(root, "agreements").filter(
        pl.col("amount").is_not_null() & pl.col("currency").is_null()
    )
    return [f"agreement {a} has an amount without a currency" for a in bad["id"].to_list()]


def citation_fields_exist(root: Path) -> Problems:
    """A citation's ``field`` names a column of the table of the record it cites."""
    citations = _load(root, "citations").drop_nulls("field")
    problems: Problems = []
    for table in CITED_TABLES:
        columns = set(_load(root, table).columns)
        cited = citations.filter(pl.col("record_table") == table)
        problems += [
            f"citation of {table} {record} names field {field!r}, not a column of {table}"
            for record, field in cited.select("record_id", "field").iter_rows()
            if field not in columns
        ]
    return problems


def erroneous_aliases_have_notes(root: Path) -> Problems:
    """A wrong name a source uses says, in the note, why it is wrong."""
    bad = _load(root, "aliases").filter((pl.col("name_type") == "erroneous") & _blank("note"))
    return [
        f"erroneous alias {a!r} of {table} {record} has no note"
        for table, record, a in bad.select("record_table", "record_id", "name").iter_rows()
    ]


#: Ship identifiers that must never be guessed: set only with a citation for that field.
SHIP_IDENTIFIERS = ("imo", "mmsi", "pennant_number")


def ship_identifiers_are_cited(root: Path) -> Problems:
    vessels = _load(root, "vessels")
    cited = set(
        _load(root, "citations")
        .filter((pl.col("record_table") == "vessels") & (pl.col("stance") == "supports"))
        .select("record_id", "field")
        .iter_rows()
    )
    return [
        f"vessel {vessel} has {column} {value} without a citation for that field"
        for column in SHIP_IDENTIFIERS
        for vessel, value in vessels.select("id", column).drop_nulls(column).iter_rows()
        if (vessel, column) not in cited
    ]


RULES: dict[str, Callable[[Path], Problems]] = {
    rule.__name__: rule
    for rule in (
        events_have_actors,
        vessels_are_used,
        places_are_used,
        sources_are_used,
        records_are_cited,
        citations_point_to_records,
        primary_locators_are_paragraphs,
        contradictions_have_notes,
        contradicted_rows_keep_independent_support,
        intervals_match_precision,
        wikidata_ids_are_safe,
        amounts_have_currencies,
        citation_fields_exist,
        erroneous_aliases_have_notes,
        ship_identifiers_are_cited,
    )
}


@pytest.mark.parametrize("rule", RULES)
def test_content_rule_holds(rule: str) -> None:
    assert RULES[rule](ROOT) == []


# --- Breaking a copy: each rule must report the damage done to it. ---------------------


def _edit(root: Path, table: str, change: Callable[[pl.DataFrame], pl.DataFrame]) -> None:
    path = root / "data" / f"{table}.csv"
    frame = pl.read_csv(path, infer_schema=False)
    change(frame).write_csv(path, line_terminator="\n", quote_style="necessary", null_value="")


def _first_row_with(frame: pl.DataFrame, **values: str) -> pl.DataFrame:
    return pl.concat(
        [frame, frame.head(1).with_columns(**{k: pl.lit(v) for k, v in values.items()})]
    )


def _set(frame: pl.DataFrame, where: pl.Expr, **values: str | None) -> pl.DataFrame:
    return frame.with_columns(
        **{
            k: pl.when(where).then(pl.lit(v, dtype=pl.String)).otherwise(pl.col(k))
            for k, v in values.items()
        }
    )


NEO_CITATION = pl.col("source_id") == PRIMARY_SOURCE
DAMAGE: dict[str, tuple[str, Callable[[pl.DataFrame], pl.DataFrame]]] = {
    "events_have_actors": ("events", lambda f: _first_row_with(f, id="lonely-event")),
    "vessels_are_used": (
        "event_vessels",
        lambda f: f.filter(pl.col("vessel_id") != "boris-butoma"),
    ),
    "places_are_used": ("places", lambda f: _first_row_with(f, id="nowhere", parent_id="")),
    "sources_are_used": ("sources", lambda f: _first_row_with(f, id="unread-source")),
    "records_are_cited": (
        "citations",
        lambda f: f.filter(pl.col("record_id") != "admiral-panteleev"),
    ),
    "citations_point_to_records": (
        "citations",
        lambda f: _first_row_with(f, record_table="events", record_id="no-such-event"),
    ),
    "primary_locators_are_paragraphs": (
        "citations",
        lambda f: _set(f, NEO_CITATION, locator="¶12"),
    ),
    "contradictions_have_notes": (
        "citations",
        lambda f: _set(f, pl.col("stance") == "contradicts", note=None),
    ),
    "contradicted_rows_keep_independent_support": (
        "citations",
        lambda f: _set(
            f,
            (pl.col("record_id") == "2017-11-16-supreme-court-dissolves-cnrp") & ~NEO_CITATION,
            stance="context",
        ),
    ),
    "intervals_match_precision": (
        "events",
        lambda f: _set(f, pl.col("date_precision") == "month", date_end="2017-11-15"),
    ),
    "wikidata_ids_are_safe": (
        "actors",
        lambda f: _set(f, pl.col("id") == "cpp", wikidata="Q769308"),
    ),
    "amounts_have_currencies": (
        "agreements",
        lambda f: _set(f, pl.col("id") == "soviet-era-debt", currency=None),
    ),
    "citation_fields_exist": (
        "citations",
        lambda f: _set(f, pl.col("field") == "date_start", field="date_begin"),
    ),
    "erroneous_aliases_have_notes": (
        "aliases",
        lambda f: _set(f, pl.col("name_type") == "erroneous", note=None),
    ),
    "ship_identifiers_are_cited": (
        "vessels",
        lambda f: _set(f, pl.col("id") == "boris-butoma", imo="9074729"),
    ),
}


def test_every_rule_has_a_damage_case() -> None:
    assert set(DAMAGE) == set(RULES)


@pytest.mark.parametrize("rule", RULES)
def test_content_rule_catches_damage(rule: str, package_copy: Path) -> None:
    table, change = DAMAGE[rule]
    assert RULES[rule](package_copy) == [], "the copy should start out clean"
    _edit(package_copy, table, change)
    assert RULES[rule](package_copy), f"{rule} did not notice a broken {table} table"


@pytest.mark.parametrize(
    ("start", "end", "precision", "ok"),
    [
        (date(2017, 11, 1), date(2017, 11, 30), "month", True),
        (date(2017, 11, 1), date(2018, 7, 31), "month", True),
        (date(2017, 11, 2), date(2017, 11, 30), "month", False),
        (date(2016, 2, 1), date(2016, 2, 28), "month", False),
        (date(2014, 1, 1), date(2016, 12, 31), "year", True),
        (date(2014, 1, 1), date(2016, 12, 30), "year", False),
        (date(2017, 11, 11), date(2017, 11, 12), "day", True),
        (date(2017, 11, 12), date(2017, 11, 11), "day", False),
        (None, None, None, True),
        (None, None, "day", False),
        (date(2017, 11, 12), None, "day", True),
        (date(2017, 11, 2), None, "month", False),
        (date(2017, 11, 12), date(2017, 11, 12), None, False),
    ],
)
def test_interval_rule(
    start: date | None, end: date | None, precision: str | None, ok: bool
) -> None:
    assert (_interval_problem(start, end, precision) is None) is ok
