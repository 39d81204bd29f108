"""Every page of the site: which template, with what context, at which path."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping
from typing import Any

from ..records import EVIDENCE_TABLE, RecordGraph
from ..registry import read_registry
from ..semver import version_key
from .pages import (
    Cell,
    Renderer,
    Section,
    actor_links,
    class_column,
    record_path,
    timeline_marks,
    timeline_table,
    years_of,
)

#: Headers of an evidence table; the cells come from :meth:`Renderer.evidence_rows`.
EVIDENCE_HEADERS = ("Source", "Published", "Source kind", "Locator", "Stance", "Field", "Note", "")
#: Width of the timeline's drawing in SVG user units (it scales to the screen).
TIMELINE_WIDTH = 1000.0
TIMELINE_LANE = 22.0


def render_pages(
    graph: RecordGraph, environment: Any, *, base_url: str | None = None
) -> Iterator[tuple[str, str]]:
    """(path from the site root, HTML) of every page, in a fixed order."""
    renderer = Renderer(graph)
    site = _site_context(graph, base_url)

    def page(path: str, template: str, title: str, **context: Any) -> tuple[str, str]:
        root = "../" * path.count("/")
        html = environment.get_template(template).render(
            site=site, root=root, path=path, page_title=title, **context
        )
        return path, html

    timeline = timeline_table(graph)
    yield page("index.html", "index.html", site["title"], tables=_table_counts(graph))
    if timeline is not None:
        yield page(
            "chronology.html",
            "chronology.html",
            "Chronology",
            years=_chronology(graph, renderer, timeline),
        )
        yield page(
            "timeline.html", "timeline.html", "Timeline", **_timeline(graph, renderer, timeline)
        )
    for table in graph.record_tables:
        title = graph.package.resource(table).title
        yield page(f"{table}/index.html", "table.html", title, **_table(graph, renderer, table))
        for record_id in sorted(graph.rows[table]):
            context = _record(graph, renderer, table, record_id)
            yield page(record_path(table, record_id), "record.html", context["label"], **context)
    yield page(
        "contradictions.html",
        "contradictions.html",
        "Contradictions",
        **_contradictions(graph, renderer),
    )
    yield page("codebook.html", "codebook.html", "Codebook", resources=_codebook(graph))
    yield page(
        "downloads.html", "downloads.html", "Downloads and how to cite", releases=_releases()
    )
    yield page("search.html", "search.html", "Search")


def _site_context(graph: RecordGraph, base_url: str | None) -> dict[str, Any]:
    descriptor = graph.package.descriptor
    licences = descriptor.get("licenses") or [{}]
    contributors = descriptor.get("contributors") or [{}]
    nav = [("index.html", "Home")]
    if timeline_table(graph) is not None:
        nav += [("chronology.html", "Chronology"), ("timeline.html", "Timeline")]
    nav += [(f"{t}/index.html", graph.package.resource(t).title) for t in graph.record_tables]
    nav += [
        ("contradictions.html", "Contradictions"),
        ("codebook.html", "Codebook"),
        ("downloads.html", "Downloads & citing"),
        ("search.html", "Search"),
    ]
    return {
        "name": str(descriptor.get("name", "")),
        "title": str(descriptor.get("title", descriptor.get("name", ""))),
        "description": str(descriptor.get("description", "")),
        "version": graph.package.version,
        "year": str(descriptor.get("created", ""))[:4],
        "homepage": str(descriptor.get("homepage", "")),
        "licence": str(licences[0].get("title") or licences[0].get("name", "")),
        "licence_url": str(licences[0].get("path", "")),
        "author": str(contributors[0].get("title", "")),
        "base_url": (base_url.rstrip("/") + "/") if base_url else None,
        "nav": nav,
    }


def _table_counts(graph: RecordGraph) -> list[dict[str, Any]]:
    return [
        {
            "name": r.name,
            "title": r.title,
            "description": r.description,
            "rows": graph.frames[r.name].height,
            "href": f"{r.name}/index.html" if r.name in graph.rows else None,
        }
        for r in graph.package.resources
    ]


def _chronology(graph: RecordGraph, renderer: Renderer, table: str) -> list[dict[str, Any]]:
    klass = class_column(graph.schemas[table])
    return [
        {
            "year": year,
            "items": [
                {
                    "link": renderer.link(table, row["id"], ""),
                    "when": renderer.when(table, row),
                    "class": str(row.get(klass) or ""),
                }
                for row in rows
            ],
        }
        for year, rows in years_of(graph, table)
    ]


def _timeline(graph: RecordGraph, renderer: Renderer, table: str) -> dict[str, Any]:
    marks, classes, first, last = timeline_marks(graph, renderer, table, TIMELINE_WIDTH)
    actor_table, _ = actor_links(graph, table)
    actors = sorted(
        {a for m in marks for a in m.actors}, key=lambda a: graph.label(actor_table, a).lower()
    )
    span = max(last - first + 1, 1)
    ticks = [
        {"year": y, "x": round((y - first) / span * TIMELINE_WIDTH, 1)}
        for y in range(first, last + 1)
        if (y - first) % 5 == 0 or y == last
    ]
    class_field = graph.schemas[table].field(class_column(graph.schemas[table]))
    return {
        "marks": marks,
        "classes": [(c, class_field.enum_descriptions.get(c, "")) for c in classes],
        "class_title": class_field.title or class_field.name,
        "actors": [(a, graph.label(actor_table, a)) for a in actors],
        "first": first,
        "last": last,
        "ticks": ticks,
        "width": TIMELINE_WIDTH,
        "lane": TIMELINE_LANE,
        "height": TIMELINE_LANE * max(len(classes), 1) + 30,
        # Room on the left for the longest lane name (about 7 units a character at 12px).
        "label_room": 10 + 7 * max((len(c) for c in classes), default=0),
    }


def _table(graph: RecordGraph, renderer: Renderer, table: str) -> dict[str, Any]:
    schema = graph.schemas[table]
    enums = [
        f for f in schema.fields if f.enum is not None and f.name not in _details(renderer, table)
    ]
    rows = []
    for record_id in sorted(graph.rows[table]):
        row = graph.rows[table][record_id]
        rows.append(
            {
                "link": renderer.link(table, record_id, "../"),
                "when": renderer.when(table, row),
                "values": [str(row.get(f.name) or "") for f in enums],
            }
        )
    resource = graph.package.resource(table)
    return {
        "table": table,
        "description": resource.description,
        "headers": [f.title or f.name for f in enums],
        "dated": bool(renderer.groups[table]),
        "rows": rows,
    }


def _details(renderer: Renderer, table: str) -> set[str]:
    groups = renderer.groups[table]
    return {g.precision for g in groups if g.precision} | {g.end for g in groups if g.end}


def _record(graph: RecordGraph, renderer: Renderer, table: str, record_id: str) -> dict[str, Any]:
    row = graph.rows[table][record_id]
    root = "../"
    supporting, against = renderer.split_evidence(table, record_id)
    relations = graph.relations(table, record_id)
    # Records that point here (a source's claims, an actor's memberships) come first.
    records = [renderer.relation_section(r, root) for r in relations if r.table in graph.rows]
    links = [renderer.relation_section(r, root) for r in relations if r.table not in graph.rows]
    cited = graph.cited_by(record_id) if table == graph.source_table else []
    return {
        "table": table,
        "table_title": graph.package.resource(table).title,
        "record_id": record_id,
        "label": graph.label(table, record_id),
        "fields": renderer.fields(table, row, root),
        "evidence_headers": EVIDENCE_HEADERS,
        "supporting": renderer.evidence_rows(supporting, root),
        "against": renderer.evidence_rows(against, root),
        "cited": bool(graph.evidence_reference and table in graph.evidence_reference.tables),
        "record_sections": records,
        "sections": links,
        "cites": _cites(graph, renderer, cited, root),
    }


def _cites(
    graph: RecordGraph, renderer: Renderer, citations: list[dict[str, Any]], root: str
) -> list[Section]:
    """What a source is evidence for, one section per stance."""
    reference = graph.evidence_reference
    if reference is None:
        return []
    by_stance: dict[str, Section] = {}
    for citation in citations:
        stance = str(citation.get(renderer.stance or "") or "")
        section = by_stance.setdefault(
            stance,
            Section(
                f"Records this source {stance_verb(stance)}", ("Record", "Table", "Locator", "Note")
            ),
        )
        table = str(citation[reference.table_field])
        section.rows.append(
            (
                renderer.link(table, citation[reference.id_field], root),
                Cell(graph.package.resource(table).title),
                Cell(str(citation.get("locator") or "")),
                Cell(str(citation.get("note") or "")),
            )
        )
    order = list(graph.schemas[EVIDENCE_TABLE].field(renderer.stance or "").enum or ())
    return [
        by_stance[s] for s in sorted(by_stance, key=lambda s: order.index(s) if s in order else 99)
    ]


def stance_verb(stance: str) -> str:
    """'supports' -> 'supports'; 'context' -> 'gives context for'."""
    return stance if stance.endswith("s") else f"gives {stance} for"


def _contradictions(graph: RecordGraph, renderer: Renderer) -> dict[str, Any]:
    reference = graph.evidence_reference
    records: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    if reference is not None:
        for citation in graph.frames[EVIDENCE_TABLE].to_dicts():
            if citation.get(renderer.stance or "") == renderer.contradicts:
                key = (str(citation[reference.table_field]), citation[reference.id_field])
                records[key].append(citation)
    contested = []
    for table, record_id in sorted(records, key=lambda k: (list(graph.schemas).index(k[0]), k[1])):
        supporting, against = renderer.split_evidence(table, record_id)
        contested.append(
            {
                "link": renderer.link(table, record_id, ""),
                "table": graph.package.resource(table).title,
                "supporting": renderer.evidence_rows(supporting, ""),
                "against": renderer.evidence_rows(against, ""),
            }
        )
    return {
        "contested": contested,
        "evidence_headers": EVIDENCE_HEADERS,
        "verdicts": _verdicts(graph, renderer),
    }


def _verdicts(graph: RecordGraph, renderer: Renderer) -> list[dict[str, Any]]:
    """Records whose own vocabulary marks them contradicted (claims' verdicts)."""
    found = []
    for table in graph.record_tables:
        for column in graph.schemas[table].fields:
            values = [v for v in column.enum or () if "contradict" in str(v) or "partly" in str(v)]
            for value in values:
                rows = [r for r in graph.rows[table].values() if r.get(column.name) == value]
                found.append(
                    {
                        "title": f"{graph.package.resource(table).title}: "
                        f"{column.title or column.name} “{value}”",
                        "hint": column.enum_descriptions.get(str(value), ""),
                        "links": [
                            renderer.link(table, r["id"], "")
                            for r in sorted(rows, key=lambda r: r["id"])
                        ],
                    }
                )
    return found


def _codebook(graph: RecordGraph) -> list[dict[str, Any]]:
    out = []
    for resource in graph.package.resources:
        schema = resource.schema
        keys: Mapping[str, str] = {
            fk.fields[0]: fk.resource for fk in schema.foreign_keys if len(fk.fields) == 1
        }
        fields = []
        for column in schema.fields:
            constraints = [
                f"{k} {v}" for k, v in sorted(column.constraints.items()) if k not in ("enum",)
            ]
            if column.name in keys:
                constraints.append(f"references {keys[column.name]}")
            fields.append(
                {
                    "name": column.name,
                    "title": column.title,
                    "type": column.type,
                    "description": column.description,
                    "constraints": "; ".join(constraints),
                    "enum": [
                        (str(v), column.enum_descriptions.get(str(v), ""))
                        for v in column.enum or ()
                    ],
                }
            )
        out.append(
            {
                "name": resource.name,
                "title": resource.title,
                "description": resource.description,
                "primary_key": ", ".join(schema.primary_key),
                "rows": graph.frames[resource.name].height,
                "fields": fields,
            }
        )
    return out


def _releases() -> list[dict[str, str]]:
    from ..remote import ARCHIVE_NAME, RELEASE_URL

    registry = read_registry()
    return [
        {
            "version": version,
            "archive": ARCHIVE_NAME.format(version=version),
            "url": RELEASE_URL.format(version=version),
            "sha256": registry[version],
        }
        for version in sorted(registry, key=version_key, reverse=True)
    ]
