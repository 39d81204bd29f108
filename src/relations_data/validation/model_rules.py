"""The project rules of the 2.0 tables, declared in the Table Schemas like the others
(:mod:`.declared`):

* ``claim-verdict`` on a field (the claims' ``verdict``) states in its ``stances``
  parameter, for each value, the least and most citations of each stance a record may
  have. They are counted in the tables whose ``fact-cited`` declaration names a stance
  field and whose reference can name the record's table; a citation from the record's
  own ``source`` (a foreign key both tables have to the same table) is no evidence for
  or against it and is not counted.
* ``language-tag``: well-formed BCP 47 tags whose subtags are registered (the
  ``langcodes`` library), written in the conventional case with the shortest code.
* ``iso-script``: ISO 15924 codes (pycountry).
* ``currency-unit`` on a currency field: filled exactly when the ``unit`` field holds the
  ``money`` value.
* ``precision-given`` on a date with a precision field of its own (a membership's start
  or end): the date and its ``precision`` are both filled or both empty.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

import polars as pl

from ..schema import TableSchema
from .declared import Declarations, RuleUse, stance_bounds
from .findings import Collector
from .reading import LINE
from .typed import TypedTable, text_name

RULES = {
    "claim-verdict": "a claim's verdict agrees with the stances of its citations by other "
    "sources (supported: some supports, no contradicts; …)",
    "language-tag": "language tags are well-formed BCP 47 with registered subtags, in the "
    "conventional case and shortest language code (langcodes)",
    "iso-script": "script codes exist in ISO 15924",
    "currency-unit": "a currency is given exactly when the unit is currency",
    "precision-given": "a date with a precision of its own has one, and a precision a date",
}


def _own_source(citing: TableSchema, cited: TableSchema, source: str | None) -> str | None:
    """The field of ``citing`` that points where the cited record's ``source`` points."""
    if source is None:
        return None
    target = next(
        (fk for fk in cited.foreign_keys if fk.fields == (source,) and len(fk.fields) == 1), None
    )
    if target is None:
        return None
    return next(
        (
            fk.fields[0]
            for fk in citing.foreign_keys
            if len(fk.fields) == 1 and fk.resource == target.resource
        ),
        None,
    )


def _stance_counts(
    citing: TypedTable, cite: RuleUse, cited: TypedTable, key: str, source: str | None
) -> pl.DataFrame:
    """Citations of each record of ``cited`` per stance, from sources other than its own."""
    table_field, id_field = str(cite.field), str(cite.params["id"])
    by = _own_source(citing.schema, cited.schema, source)
    rows = citing.frame.filter(pl.col(table_field).cast(pl.String) == cited.text.name).select(
        pl.col(id_field).cast(pl.String).alias(key),
        pl.col(str(cite.params["stance"])).cast(pl.String).alias("__stance"),
        *([pl.col(by).cast(pl.String).alias("__by")] if by is not None else []),
    )
    if by is not None and source is not None:
        own = cited.frame.select(
            pl.col(key).cast(pl.String), pl.col(source).cast(pl.String).alias("__own")
        )
        rows = rows.join(own, on=key, how="left").filter(
            pl.col("__own").is_null() | (pl.col("__by") != pl.col("__own"))
        )
    return rows.group_by(key, "__stance").len()


def check_verdicts(
    typed: dict[str, TypedTable], out: Collector, declarations: Declarations
) -> None:
    for use in declarations.of_rule("claim-verdict"):
        cited = typed[use.table]
        key = cited.schema.primary_key
        field = str(use.field)
        bounds = stance_bounds(use)
        sources = [
            cite
            for cite in declarations.of_rule("fact-cited")
            if cite.params.get("stance") is not None
            and use.table in (typed[cite.table].schema.field(str(cite.field)).enum or typed)
        ]
        if len(key) != 1 or not sources:
            continue
        out.ran("claim-verdict", RULES["claim-verdict"], cited.text.name)
        stances = sorted({s for by_stance in bounds.values() for s in by_stance})
        counts = (
            pl.concat(
                [
                    _stance_counts(typed[c.table], c, cited, key[0], use.text("source"))
                    for c in sources
                ]
            )
            .group_by(key[0], "__stance")
            .agg(pl.col("len").sum())
        )
        wide = cited.frame.select(
            LINE,
            pl.col(key[0]).cast(pl.String),
            pl.col(field).cast(pl.String).alias("__value"),
        )
        for stance in stances:
            wide = wide.join(
                counts.filter(pl.col("__stance") == stance).select(
                    key[0], pl.col("len").alias(stance)
                ),
                on=key[0],
                how="left",
            ).with_columns(pl.col(stance).fill_null(0))
        bad = pl.lit(False)
        for value, by_stance in bounds.items():
            for stance, (low, high) in by_stance.items():
                outside = pl.col(stance) < low
                if high is not None:
                    outside = outside | (pl.col(stance) > high)
                bad = bad | ((pl.col("__value") == value) & outside)
        files = ", ".join(typed[c.table].text.resource.relpath for c in sources)
        out.add_rows(
            cited.text,
            wide.filter(bad),
            field,
            "claim-verdict",
            lambda r, f=field, b=bounds, s=stances, where=files: (
                f"expected {f} {r['__value']} to have "
                + ", ".join(
                    _bounds_text(stance, *b[r["__value"]][stance])
                    for stance in s
                    if stance in b[r["__value"]]
                )
                + f" from other sources in {where}, found "
                + ", ".join(f"{r[stance]} {stance}" for stance in s)
            ),
            "__value",
        )


def _bounds_text(stance: str, low: int, high: int | None) -> str:
    if high == low:
        return f"{low} {stance}"
    if high is None:
        return f"at least {low} {stance}"
    return f"{low} to {high} {stance}"


@cache
def language_problem(tag: str) -> str | None:
    """Why ``tag`` is not a valid BCP 47 tag as conventionally written, or ``None``.

    Valid: well-formed, every subtag registered (``langcodes``); written: the case
    conventions of RFC 5646 (``en``, ``zh-Hans``, ``en-US``) and the two-letter code of a
    language that has one (``en``, not ``eng``). Other normalisations ``langcodes``
    would apply (``tl`` → ``fil``) are not required: those tags are valid as they are.

    >>> language_problem("zh-Hans") is None
    True
    >>> language_problem("eng")
    "expected the two-letter code 'en', found 'eng'"
    """
    import langcodes

    if not langcodes.tag_is_valid(tag):
        return f"expected a well-formed BCP 47 tag with registered subtags, found {tag!r}"
    written = langcodes.Language.get(tag, normalize=False).to_tag()
    if written != tag:
        return f"expected {written!r} (the case conventions of BCP 47), found {tag!r}"
    language = tag.split("-", maxsplit=1)[0]
    short = langcodes.standardize_tag(language)
    if len(language) == 3 and len(short) == 2:
        return f"expected the two-letter code {short!r}, found {tag!r}"
    return None


@cache
def _iso_scripts() -> frozenset[str]:
    import pycountry

    return frozenset(s.alpha_4 for s in pycountry.scripts)


def check_language_tags(typed: TypedTable, out: Collector, uses: list[RuleUse]) -> None:
    table = typed.text
    for use in uses:
        if use.rule != "language-tag" or use.field is None:
            continue
        name = use.field
        out.ran("language-tag", RULES["language-tag"], table.name)
        # Few distinct tags in any table: each is looked up once.
        distinct = typed.frame.get_column(name).drop_nulls().unique().to_list()
        problems = {tag: p for tag in distinct if (p := language_problem(str(tag))) is not None}
        if not problems:
            continue
        bad = typed.frame.filter(pl.col(name).is_in(list(problems))).select(
            LINE, pl.col(text_name(name)).alias("value")
        )
        out.add_rows(table, bad, name, "language-tag", lambda r, p=problems: p[r["value"]], "value")


def check_scripts(typed: TypedTable, out: Collector, uses: list[RuleUse]) -> None:
    table = typed.text
    for use in uses:
        if use.rule != "iso-script" or use.field is None:
            continue
        name = use.field
        out.ran("iso-script", RULES["iso-script"], table.name)
        column = pl.col(name)
        bad = typed.frame.filter(column.is_not_null() & ~column.is_in(list(_iso_scripts()))).select(
            LINE, pl.col(text_name(name)).alias("value")
        )
        out.add_rows(
            table,
            bad,
            name,
            "iso-script",
            lambda r: (
                f"expected an ISO 15924 script code such as Latn or Cyrl, found {r['value']!r}"
            ),
            "value",
        )


def check_currency_units(typed: TypedTable, out: Collector, uses: list[RuleUse]) -> None:
    for use in uses:
        if use.rule != "currency-unit" or use.field is None:
            continue
        currency, unit, money = use.field, str(use.params["unit"]), str(use.params["money"])
        _given_exactly_when(
            typed,
            out,
            (use.rule, currency),
            (pl.col(unit).cast(pl.String) == money, unit),
            lambda r, u=unit, m=money: (
                f"expected an ISO 4217 currency code since {u} is {m}, found none"
                if r["value"] is None
                else f"expected no currency since {u} is {r['other']}, found {r['value']!r}"
            ),
        )


def _given_exactly_when(
    typed: TypedTable,
    out: Collector,
    checked: tuple[str, str],
    condition: tuple[pl.Expr, str],
    message: Callable[..., str],
) -> None:
    """Report the rows where the field of ``checked`` (rule, field) has a value without
    ``condition`` (an expression, and the field it looks at) holding, or lacks one while
    it holds. The message gets the row's ``value`` and the ``other`` field's text."""
    rule, field = checked
    when, other = condition
    out.ran(rule, RULES[rule], typed.text.name)
    # A null condition (an empty unit) says nothing, so it reports nothing.
    bad = typed.frame.filter(when != pl.col(text_name(field)).is_not_null()).select(
        LINE,
        pl.col(text_name(other)).alias("other"),
        pl.col(text_name(field)).alias("value"),
    )
    out.add_rows(typed.text, bad, field, rule, message, "value")


def check_precisions_given(typed: TypedTable, out: Collector, uses: list[RuleUse]) -> None:
    for use in uses:
        if use.rule != "precision-given" or use.field is None:
            continue
        date, precision = use.field, str(use.params["precision"])
        _given_exactly_when(
            typed,
            out,
            (use.rule, precision),
            (pl.col(text_name(date)).is_not_null(), date),
            lambda r, d=date, p=precision: (
                f"expected a {p} with {d} {r['other']}, found none"
                if r["value"] is None
                else f"expected no {p} without a {d}, found {r['value']}"
            ),
        )


def table_rules(typed: TypedTable, out: Collector, uses: list[RuleUse]) -> None:
    """The rules of this module that look at one table alone."""
    check_precisions_given(typed, out, uses)
    check_language_tags(typed, out, uses)
    check_scripts(typed, out, uses)
    check_currency_units(typed, out, uses)
