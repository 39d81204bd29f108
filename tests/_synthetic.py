"""A small, valid, synthetic content for a copy of the data package (exports tests).

Only the columns a row needs are given; every other column of the Table Schema is left
empty, so the rows keep fitting when optional columns are added. The CSVs are written in
canonical form; there, self-referencing rows come child before parent on purpose (DuckDB
checks keys per insert).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import polars as pl

from relations_data.canonical import format_package

ROWS: dict[str, list[dict[str, Any]]] = {
    "sources": [
        {
            "id": "src-article",
            "title": "An opinion article",
            "publisher": "An outlet",
            "published": "2018-01-15",
            "published_precision": "day",
            "source_type": "opinion",
            "source_kind": "opinion",
            "editorial_line": "pro_kremlin",
            "language": "en",
        },
        {
            "id": "src-news",
            "title": "A news report",
            "publisher": "A newspaper",
            "source_type": "news",
            "source_kind": "independent_media",
            "language": "km",
        },
    ],
    "actors": [
        {"id": "cambodia", "name": "Cambodia", "actor_type": "state", "country": "KHM"},
        {"id": "hun-sen", "name": "Hun Sen", "actor_type": "person", "country": "KHM"},
        {
            "id": "pacific-fleet",
            "name": "Pacific Fleet",
            "actor_type": "military_unit",
            "country": "RUS",
            "parent_id": "russian-navy",
        },
        {"id": "russia", "name": "Russia", "actor_type": "state", "country": "RUS"},
        {
            "id": "russian-navy",
            "name": "Russian Navy",
            "actor_type": "armed_service",
            "country": "RUS",
            "parent_id": "russia",
            "valid_from": "1992-01-01",
        },
    ],
    "memberships": [
        {
            "id": "hun-sen-pm",
            "actor_id": "hun-sen",
            "organization_id": "cambodia",
            "role": "prime_minister",
            "start": "1985-01-14",
            "start_precision": "day",
        }
    ],
    "aliases": [
        {
            "record_table": "actors",
            "record_id": "cambodia",
            "name": "Kampuchea",
            "language": "en",
            "script": "Latn",
            "name_type": "former",
            "source_id": "src-news",
        },
        {
            "record_table": "places",
            "record_id": "phnom-penh",
            "name": "ភ្នំពេញ",
            "language": "km",
            "script": "Khmr",
            "name_type": "native",
            "source_id": "src-news",
        },
    ],
    "places": [
        {"id": "phnom-penh", "name": "Phnom Penh", "place_type": "capital", "country": "KHM"},
        {
            "id": "a-port",
            "name": "A port",
            "place_type": "port",
            "country": "KHM",
            "parent_id": "b-province",
            "latitude": "10.6",
            "longitude": "103.5",
        },
        {"id": "b-province", "name": "B province", "place_type": "province", "country": "KHM"},
    ],
    "events": [
        {
            "id": "relations-1956",
            "date_start": "1956-05-13",
            "date_end": "1956-05-13",
            "date_precision": "day",
            "event_type": "diplomatic_relations",
            "scope_class": "diplomatic",
            "plover_event": "SUPPORT",
            "summary": "Diplomatic relations are established.",
            "status": "occurred",
        },
        {
            "id": "port-call-2017",
            "date_start": "2017-09-01",
            "date_end": "2017-09-30",
            "date_precision": "month",
            "event_type": "naval_visit",
            "scope_class": "military",
            "summary": "Warships call at a port, says the article.",
            "status": "claimed",
        },
        {
            "id": "pledge-2015",
            "date_start": "2015-01-01",
            "date_end": "2015-12-31",
            "date_precision": "year",
            "event_type": "pledge",
            "scope_class": "aid",
            "summary": "A promise of support is made.",
            "status": "occurred",
        },
        {
            "id": "meeting-2016",
            "date_start": "2016-05-19",
            "date_end": "2016-05-20",
            "date_precision": "day",
            "event_type": "bilateral_meeting",
            "scope_class": "visits",
            "summary": "Two leaders meet on the sidelines.",
            "status": "occurred",
            "note": 'A note with "quotes", a comma and ünïcode.',
        },
    ],
    "event_actors": [
        {"event_id": "relations-1956", "actor_id": "russia", "role": "actor"},
        {"event_id": "relations-1956", "actor_id": "cambodia", "role": "recipient"},
    ],
    "event_places": [
        {"event_id": "port-call-2017", "place_id": "a-port", "role": "port"},
        {"event_id": "pledge-2015", "place_id": "phnom-penh", "role": "venue"},
    ],
    "agreements": [
        {
            "id": "debt-memorandum",
            "title": "Memorandum on debt",
            "agreement_type": "memorandum_of_understanding",
            "subject": "debt",
            "status": "signed",
            "date_signed": "2016-05-19",
            "date_precision": "day",
            "amount": "1500000000.5",
            "currency": "USD",
            "event_id": "meeting-2016",
            "summary": "A memorandum about an old debt.",
        }
    ],
    "agreement_parties": [
        {"agreement_id": "debt-memorandum", "actor_id": "russia", "role": "party"},
        {"agreement_id": "debt-memorandum", "actor_id": "cambodia", "role": "party"},
    ],
    "vessels": [
        {
            "id": "a-destroyer",
            "name": "A destroyer",
            "vessel_type": "destroyer",
            "operator_id": "pacific-fleet",
            "flag": "RUS",
            "pennant_number": "572",
        }
    ],
    "event_vessels": [
        {"event_id": "port-call-2017", "vessel_id": "a-destroyer", "role": "visitor"}
    ],
    "observations": [
        {
            "id": "trade-2016",
            "indicator": "trade_turnover",
            "subject_id": "cambodia",
            "counterpart_id": "russia",
            "date_start": "2016-01-01",
            "date_end": "2016-12-31",
            "date_precision": "year",
            "value": "54000000",
            "value_qualifier": "approximately",
            "unit": "currency",
            "currency": "USD",
        }
    ],
    "claims": [
        {
            "id": "src-article-p1-relations",
            "source_id": "src-article",
            "locator": "¶1",
            "statement": "Relations were established in 1956.",
            "claim_kind": "event",
            "verdict": "supported",
        }
    ],
    "claim_records": [
        {
            "claim_id": "src-article-p1-relations",
            "record_table": "events",
            "record_id": "relations-1956",
        }
    ],
    "citations": [
        {
            "record_table": "events",
            "record_id": "relations-1956",
            "source_id": "src-news",
            "locator": "¶1",
            "stance": "supports",
        },
        {
            "record_table": "claims",
            "record_id": "src-article-p1-relations",
            "source_id": "src-news",
            "locator": "¶1",
            "stance": "supports",
        },
        {
            "record_table": "observations",
            "record_id": "trade-2016",
            "source_id": "src-news",
            "locator": "table 2",
            "stance": "supports",
        },
    ],
}


def synthetic_package(target: Path) -> Path:
    """Copy the repository's package into ``target`` and fill it with :data:`ROWS`."""
    root = Path(__file__).resolve().parents[1]
    shutil.copy2(root / "datapackage.json", target / "datapackage.json")
    shutil.copytree(root / "data", target / "data")
    shutil.copytree(root / "schemas", target / "schemas")
    write_synthetic_rows(target)
    return target


def write_synthetic_rows(root: Path, rows: dict[str, list[dict[str, Any]]] = ROWS) -> None:
    """Replace the CSVs of the package in ``root`` by ``rows`` (header from each schema)."""
    descriptor = json.loads((root / "datapackage.json").read_text(encoding="utf-8"))
    for resource in descriptor["resources"]:
        schema = json.loads((root / resource["schema"]).read_text(encoding="utf-8"))
        names = [f["name"] for f in schema["fields"]]
        table_rows = rows.get(resource["name"], [])
        for row in table_rows:
            unknown = set(row) - set(names)
            assert not unknown, f"{resource['name']}: no such columns {unknown}"
        frame = pl.DataFrame(
            {name: [row.get(name) for row in table_rows] for name in names},
            schema=dict.fromkeys(names, pl.String),
        )
        text = frame.write_csv(line_terminator="\n", null_value="")
        (root / resource["path"]).write_text(text, encoding="utf-8")
    format_package(root)
