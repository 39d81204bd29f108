"""The project's rules, which Table Schema cannot express, as Polars expressions.

They run only where a package declares them (:mod:`.declared`): each rule applies to
the fields (or tables) whose Table Schema lists it under ``relations-data:rules``,
with the fields it compares named as parameters. Nothing here is inferred from a
column's name:

* ``date-order`` on an interval's end names its ``start``; ``date-precision`` on a
  date names its ``precision`` field and whether the date is the ``start`` or the
  ``end`` of its period;
* ``citation-target`` and ``fact-cited`` on a polymorphic reference (a field naming a
  table) name the ``id`` field beside it; ``fact-cited`` also the ``stance`` field and
  its ``supports`` value, and the ``tables`` each of whose rows needs such a citation
  (the reference's enum by default);
* ``actor-validity`` on a link table's foreign key names the ``event`` foreign key,
  the ``valid`` from/to fields of the first key's table and the ``during`` start/end
  fields of the event's table;
* ``iso-country``, ``iso-currency`` and ``imo-check-digit`` take no parameters;
* the rules of the 2.0 tables (``claim-verdict``, ``language-tag``, ``iso-script``,
  ``currency-unit``) are in :mod:`.model_rules`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

import polars as pl

from ..errors import PackageError
from ..schema import ForeignKey, TableSchema
from . import model_rules
from .declared import NONE, Declarations, RuleUse
from .findings import Collector, merge
from .keys import HASH, covers, missing_hashes
from .reading import LINE, TextTable
from .text_rules import RULES as TEXT_RULES
from .text_rules import screen_text
from .typed import ENGINE, TypedTable, text_name

RULES = {
    "date-order": "an interval's end is not before its start",
    "date-precision": "intervals match their precision (month: 1st to last day; year: "
    "1 Jan to 31 Dec)",
    "citation-target": "every citation, alias or claim record names an existing row of "
    "the table it names",
    "fact-cited": "every row of a fact table has a supporting citation",
    "actor-validity": "actors take part only in events inside their validity dates",
    "imo-check-digit": "IMO numbers carry a valid check digit",
    "iso-country": "country codes exist in ISO 3166-1 (historic codes included)",
    "iso-currency": "currency codes exist in ISO 4217 (withdrawn codes such as SUR included)",
    **model_rules.RULES,
    **TEXT_RULES,
}

#: Stance a citation needs to count as support when ``fact-cited`` names none.
SUPPORTING_STANCE = "supports"


@dataclass(frozen=True)
class Interval:
    start: str
    end: str


def intervals(uses: list[RuleUse]) -> list[Interval]:
    """The (start, end) pairs that ``date-order`` declarations name."""
    return [Interval(str(u.params["start"]), str(u.field)) for u in uses if u.rule == "date-order"]


@cache
def _iso_countries() -> frozenset[str]:
    import pycountry

    codes = {c.alpha_3 for c in pycountry.countries}
    codes |= {c.alpha_3 for c in pycountry.historic_countries}
    return frozenset(codes)


@cache
def _iso_currencies() -> frozenset[str]:
    # pycountry knows only the current list of ISO 4217; Babel's CLDR data adds the
    # withdrawn codes (List Three), such as SUR for the Soviet rouble that 1980s figures
    # are stated in.
    import pycountry
    from babel.numbers import list_currencies

    return frozenset(c.alpha_3 for c in pycountry.currencies) | frozenset(list_currencies())


def _rows(typed: TypedTable, condition: pl.Expr, *columns: pl.Expr | str) -> pl.DataFrame:
    return typed.frame.filter(condition).select(LINE, *columns)


# -- rules ----------------------------------------------------------------------------


def check_intervals(typed: TypedTable, out: Collector, uses: list[RuleUse]) -> None:
    table = typed.text
    # (condition, column, rule, value columns, message) of every interval check; one pass
    # screens them all, and failing rows are materialised only for conditions that hold.
    checks: list[tuple[pl.Expr, str, str, list[pl.Expr], Any]] = []
    for interval in intervals(uses):
        start, end = pl.col(interval.start), pl.col(interval.end)
        out.ran("date-order", RULES["date-order"], table.name)
        checks.append(
            (
                end < start,
                interval.end,
                "date-order",
                [
                    pl.col(text_name(interval.start)).alias("start"),
                    pl.col(text_name(interval.end)).alias("value"),
                ],
                lambda r, i=interval: (
                    f"expected {i.end} on or after {i.start} ({r['start']}), found {r['value']}"
                ),
            )
        )
    for use in uses:
        if use.rule != "date-precision" or use.field is None:
            continue
        out.ran("date-precision", RULES["date-precision"], table.name)
        column, precision_field = use.field, str(use.params["precision"])
        precision, date = pl.col(precision_field), pl.col(column)
        # The day after an end opens a month (or year) exactly when the end closes one;
        # a day count plus one is far cheaper than ``dt.month_end`` on every row.
        following = (date.to_physical() + 1).cast(pl.Date)
        bounds = (
            (
                ("month", date.dt.day() == 1, "the first day of a month"),
                ("year", date.dt.ordinal_day() == 1, "1 January"),
            )
            if use.params["bound"] == "start"
            else (
                ("month", following.dt.day() == 1, "the last day of a month"),
                ("year", following.dt.ordinal_day() == 1, "31 December"),
            )
        )
        for unit, ok, expected in bounds:
            checks.append(
                (
                    (precision == unit) & ~ok,
                    column,
                    "date-precision",
                    [pl.col(text_name(column)).alias("value")],
                    lambda r, e=expected, u=unit, p=precision_field: (
                        f"expected {e} since {p} is {u}, found {r['value']}"
                    ),
                )
            )
    if not checks:
        return
    flags = typed.frame.select(
        [condition.any().alias(f"__{i}") for i, (condition, *_) in enumerate(checks)]
    ).row(0)
    for flag, (condition, column, rule, values, message) in zip(flags, checks, strict=True):
        if flag:
            out.add_rows(table, _rows(typed, condition, *values), column, rule, message, "value")


def _partitions(frame: pl.DataFrame, column: str) -> dict[tuple[Any, ...], pl.DataFrame]:
    """``frame.partition_by(column, as_dict=True)``, as zero-copy slices when each value
    fills one run of rows (a table sorted by ``column``, as canonical form makes it)."""
    runs = frame.select(pl.col(column).rle()).unnest(column)
    values = runs.get_column("value").to_list()
    if len(set(values)) != len(values):
        return frame.partition_by(column, as_dict=True, include_key=True)
    parts: dict[tuple[Any, ...], pl.DataFrame] = {}
    start = 0
    for length, value in zip(runs.get_column("len").to_list(), values, strict=True):
        parts[(value,)] = frame.slice(start, length)
        start += length
    return parts


def _references(declarations: Declarations) -> dict[tuple[str, str, str], list[RuleUse]]:
    """Citation declarations grouped by (citing table, table field, id field)."""
    groups: dict[tuple[str, str, str], list[RuleUse]] = {}
    for use in declarations.of_rule("citation-target") + declarations.of_rule("fact-cited"):
        groups.setdefault((use.table, str(use.field), str(use.params["id"])), []).append(use)
    return groups


def check_citations(
    typed: dict[str, TypedTable], out: Collector, declarations: Declarations
) -> None:
    for (citing_name, table_field, id_field), uses in _references(declarations).items():
        citing = typed[citing_name]
        known = [str(v) for v in citing.schema.field(table_field).enum or typed]
        targeted = any(u.rule == "citation-target" for u in uses)
        supported = [u for u in uses if u.rule == "fact-cited"]
        stance = next((u.text("stance") for u in supported if u.text("stance")), None)
        supports = next((u.text("supports") for u in supported if u.text("supports")), None)
        supports = supports or SUPPORTING_STANCE
        refs = citing.frame.select(
            LINE,
            pl.col(table_field).cast(pl.String),
            pl.col(id_field).cast(pl.String),
            (pl.col(stance) == supports).alias("__supports")
            if stance is not None
            else pl.lit(True).alias("__supports"),
        )
        # One pass splits the citations by the table they name; each part is then matched
        # against that table's keys only.
        if refs.get_column(id_field).null_count():
            refs = refs.filter(pl.col(id_field).is_not_null())
        parts = _partitions(refs, table_field)
        if targeted:
            out.ran("citation-target", RULES["citation-target"], citing_name)
            _check_targets(typed, out, citing, parts, known, (table_field, id_field))
        for use in supported:
            tables = use.texts("tables") or tuple(known)
            for name in tables:
                if name in typed:
                    stated = f"{stance} {supports}" if stance is not None else "any stance"
                    _check_cited(typed[name], out, citing, parts.get((name,)), id_field, stated)


def _check_targets(  # noqa: PLR0917 - the tables, the citing part and its fields
    typed: dict[str, TypedTable],
    out: Collector,
    citing: TypedTable,
    parts: dict[tuple[Any, ...], pl.DataFrame],
    known: list[str],
    pair: tuple[str, str],
) -> None:
    table_field, id_field = pair
    for (name,), part in parts.items():
        target = typed.get(str(name)) if name in known else None
        key = target.schema.primary_key if target is not None else ()
        if target is None or len(key) != 1:
            if name is not None and name not in known:
                dangling = part  # an unknown table is an enum finding; its ids dangle too
            else:
                continue
        elif covers(part.get_column(id_field), target.frame[key[0]].cast(pl.String)):
            continue  # every cited id exists
        else:
            # Hash membership, as for foreign keys (keys.py): a miss is certain.
            ids = target.frame.select(pl.col(key[0]).cast(pl.String).drop_nulls().hash())
            dangling = missing_hashes(
                part.lazy().with_columns(pl.col(id_field).hash().alias(HASH)),
                ids.to_series(),
                part.height,
            ).collect()
        out.add_rows(
            citing.text,
            dangling.sort(LINE),
            id_field,
            "citation-target",
            lambda r, t=table_field, i=id_field: (
                f"expected an id of table {r[t]}, found {r[i]!r}, which is not there"
            ),
            id_field,
        )


def _check_cited(  # noqa: PLR0917 - the cited table, where citations are, and what counts
    target: TypedTable,
    out: Collector,
    citing: TypedTable,
    named: pl.DataFrame | None,
    id_field: str,
    stated: str,
) -> None:
    key = target.schema.primary_key
    if len(key) != 1:
        return
    name = target.text.name
    out.ran("fact-cited", RULES["fact-cited"], name)
    cited = (
        named.filter(pl.col("__supports")).get_column(id_field)
        if named is not None
        else pl.Series(id_field, [], pl.String)
    )
    if covers(cited, target.frame[key[0]].cast(pl.String)):
        return  # every row has a supporting citation
    rows = target.frame.lazy()
    if target.frame.get_column(key[0]).null_count():
        rows = rows.filter(pl.col(key[0]).is_not_null())
    uncited = missing_hashes(
        rows.select(
            LINE,
            pl.col(key[0]).cast(pl.String),
            pl.col(key[0]).cast(pl.String).hash().alias(HASH),
        ),
        cited.hash(),
        target.frame.height,
    ).collect()
    out.add_rows(
        target.text,
        uncited,
        key[0],
        "fact-cited",
        lambda r, k=key[0], f=citing.text.resource.relpath: (
            f"expected at least one citation of {name} {r[k]!r} with {stated} in {f}, found none"
        ),
    )


def _single_key(schema: TableSchema, field: str, use: RuleUse) -> ForeignKey:
    for fk in schema.foreign_keys:
        if fk.fields == (field,):
            return fk
    raise PackageError(
        f"Table Schema of {use.table!r}: rule {use.rule!r} on {use.field!r} needs a "
        f"single-field foreign key on {field!r}."
    )


def check_validity(
    typed: dict[str, TypedTable], out: Collector, declarations: Declarations
) -> None:
    for use in declarations.of_rule("actor-validity"):
        link = typed[use.table]
        actor_field, event_field = str(use.field), str(use.params["event"])
        actor_fk = _single_key(link.schema, actor_field, use)
        event_fk = _single_key(link.schema, event_field, use)
        valid, during = use.texts("valid"), use.texts("during")
        actor_table, event_table = typed[actor_fk.resource], typed[event_fk.resource]
        for table, names in ((actor_table, valid), (event_table, during)):
            if len(names) != 2 or any(n not in table.schema.field_names for n in names):
                raise PackageError(
                    f"Table Schema of {use.table!r}: rule 'actor-validity' on {actor_field!r} "
                    f"names {list(names)}; expected two date fields of {table.text.name!r}."
                )
        out.ran("actor-validity", RULES["actor-validity"], link.text.name)
        # Only actors with a validity bound can be out of time: usually few of them.
        actors = (
            actor_table.frame.filter(
                pl.col(valid[0]).is_not_null() | pl.col(valid[1]).is_not_null()
            )
            .select(
                pl.col(actor_fk.reference_fields[0]).alias(actor_field),
                pl.col(valid[0]).alias("__from"),
                pl.col(valid[1]).alias("__to"),
            )
            .unique(subset=actor_field, keep="first")
        )
        if actors.is_empty():
            continue
        involved = link.frame.select(LINE, actor_field, event_field).join(
            actors, on=actor_field, how="inner"
        )
        events = (
            event_table.frame.filter(
                pl.col(event_fk.reference_fields[0]).is_in(involved[event_field].implode())
            )
            .select(
                pl.col(event_fk.reference_fields[0]).alias(event_field),
                pl.coalesce(during[0], during[1]).alias("__start"),
                pl.coalesce(during[1], during[0]).alias("__end"),
            )
            .unique(subset=event_field, keep="first")
        )
        joined = involved.join(events, on=event_field, how="inner").filter(
            (pl.col("__end") < pl.col("__from")) | (pl.col("__start") > pl.col("__to"))
        )
        out.add_rows(
            link.text,
            joined,
            actor_field,
            "actor-validity",
            lambda r, a=actor_field, e=event_field, t=event_fk.resource: (
                f"expected {a} {r[a]!r} to exist during {t} {r[e]!r} "
                f"({r['__start']}..{r['__end']}), found it valid "
                f"{r['__from'] or 'open'}..{r['__to'] or 'open'}"
            ),
        )


def _check_imo(typed: TypedTable, out: Collector, name: str) -> None:
    table = typed.text
    column = pl.col(text_name(name))
    out.ran("imo-check-digit", RULES["imo-check-digit"], table.name)
    digits = [column.str.slice(i, 1).cast(pl.Int64, strict=False) for i in range(7)]
    weighted = pl.sum_horizontal([d * (7 - i) for i, d in enumerate(digits[:6])])
    bad = _rows(
        typed,
        column.str.contains(r"^[0-9]{7}$") & ((weighted % 10) != digits[6]),
        column.alias("value"),
        (weighted % 10).alias("digit"),
    )
    out.add_rows(
        table,
        bad,
        name,
        "imo-check-digit",
        lambda r: (
            f"expected an IMO number whose last digit is its check digit "
            f"{r['digit']}, found {r['value']}"
        ),
        "value",
    )


_CODES = {
    "iso-country": (_iso_countries, "ISO 3166-1 alpha-3 country"),
    "iso-currency": (_iso_currencies, "ISO 4217 currency"),
}


def check_codes(typed: TypedTable, out: Collector, uses: list[RuleUse]) -> None:
    table = typed.text
    for use in uses:
        name = str(use.field)
        if use.rule == "imo-check-digit":
            _check_imo(typed, out, name)
        if use.rule not in _CODES:
            continue
        codes, standard = _CODES[use.rule]
        out.ran(use.rule, RULES[use.rule], table.name)
        column = pl.col(text_name(name))
        pattern = typed.schema.field(name).constraints.get("pattern")
        # A cell that breaks the field's pattern is reported by that rule alone.
        shaped = column.str.contains(f"^(?:{pattern})$") if isinstance(pattern, str) else True
        bad = _rows(
            typed,
            column.is_not_null() & shaped & ~column.is_in(list(codes())),
            column.alias("value"),
        )
        out.add_rows(
            table,
            bad,
            name,
            use.rule,
            lambda r, s=standard: f"expected an {s} code, found {r['value']!r}",
            "value",
        )


def table_rules(text: TextTable, typed: TypedTable, declarations: Declarations = NONE) -> Collector:
    """The declared rules that look at one table alone (intervals, codes, formula
    triggers, canonical form), in a collector of their own."""
    out = Collector(ENGINE)
    uses = declarations.of_table(text.name)
    if not uses or text.unread:  # fields without a label are not read (see run)
        return out
    check_intervals(typed, out, uses)
    check_codes(typed, out, uses)
    model_rules.table_rules(typed, out, uses)
    screen_text(
        text,
        typed,
        out,
        formula=declarations.table_rule(text.name, "formula-trigger"),
        canonical=declarations.table_rule(text.name, "canonical-form"),
    )
    return out


def run(
    tables: dict[str, TextTable],
    typed: dict[str, TypedTable],
    out: Collector,
    single: list[Collector] | None = None,
    declarations: Declarations | None = None,
) -> None:
    """Run every declared project rule, adding findings to ``out``.

    ``single`` holds, in table order, the findings of :func:`table_rules` when they have
    already run (alongside the structural checks); otherwise they run here.
    """
    declarations = declarations or NONE
    if single is None:
        single = [table_rules(tables[name], table, declarations) for name, table in typed.items()]
    merge(out, single)
    if any(table.unread for table in tables.values()):
        # The rules across tables could name a field a header has no label for, which
        # is not read: they do not run (the report says so, see unread_note).
        return
    check_citations(typed, out, declarations)
    model_rules.check_verdicts(typed, out, declarations)
    check_validity(typed, out, declarations)


def unread_note(tables: dict[str, TextTable], declarations: Declarations) -> list[str]:
    """What the report says when project rules were skipped because a header has no
    label for some fields (nothing when none was)."""
    unread = [f"{name} ({', '.join(t.unread)})" for name, t in tables.items() if t.unread]
    if not declarations.uses or not unread:
        return []
    return [
        "Project rules did not run on tables whose header has no label for some fields, "
        f"nor across tables: {'; '.join(unread)}."
    ]
