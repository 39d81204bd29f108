"""Where the project rules apply: declared by the package, never inferred from names.

The semantic rules of the Polars engine (intervals, ISO codes, citations, actor
validity, canonical form, formula triggers) are this project's conventions, not Table
Schema's. They run only for a package whose descriptor carries
``"relations-data:profile": 1`` (or when the caller asks for them), and each applies
only where a Table Schema declares it with the custom property
``"relations-data:rules"``:

* on a field: a list of rule names, or objects ``{"rule": name, ...parameters}``, e.g.
  ``["iso-country"]`` or ``[{"rule": "date-order", "start": "date_start"}]``;
* on the schema: the rules that look at the whole table (``canonical-form``,
  ``formula-trigger``).

:data:`FIELD_RULES` states the parameters of each rule; a declaration naming an unknown
rule, leaving out a parameter or naming a field the table does not have makes the
schema unusable (:class:`~relations_data.errors.PackageError`), as any schema error.
A new rule is one entry here plus its check.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import PackageError
from ..package import DataPackage, Resource
from ..schema import RULES_PROPERTY

#: Descriptor property by which a package declares itself a relations-data package.
PROFILE_PROPERTY = "relations-data:profile"
#: The version of the rule profile this code implements.
PROFILE_VERSION = 1

#: Kinds of parameter: a field of the same table, a list of fields of the table a
#: foreign key of the same table points at (named by another parameter), text, a list
#: of texts, and stance bounds: ``{value: {stance: [least, most or null]}}``.
FIELD, TEXT, TEXTS, BOUNDS = "field", "text", "texts", "bounds"

#: Rule -> {parameter: (kind, required)} for rules declared on a field.
FIELD_RULES: dict[str, dict[str, tuple[str, bool]]] = {
    "date-order": {"start": (FIELD, True)},
    "date-precision": {"precision": (FIELD, True), "bound": (TEXT, True)},
    "iso-country": {},
    "iso-currency": {},
    "imo-check-digit": {},
    "citation-target": {"id": (FIELD, True)},
    "fact-cited": {
        "id": (FIELD, True),
        "stance": (FIELD, False),
        "supports": (TEXT, False),
        "tables": (TEXTS, False),
    },
    "actor-validity": {"event": (FIELD, True), "valid": (TEXTS, True), "during": (TEXTS, True)},
    "claim-verdict": {"source": (FIELD, False), "stances": (BOUNDS, True)},
    "language-tag": {},
    "iso-script": {},
    "currency-unit": {"unit": (FIELD, True), "money": (TEXT, True)},
    "precision-given": {"precision": (FIELD, True)},
}
#: Rules declared on the schema: they look at the whole table.
TABLE_RULES = frozenset({"canonical-form", "formula-trigger"})
_BOUNDS = ("start", "end")


@dataclass(frozen=True)
class RuleUse:
    """One declaration: ``rule`` applies to ``field`` of ``table`` (``None``: the whole
    table), with its ``params``."""

    rule: str
    table: str
    field: str | None
    params: Mapping[str, Any]

    def text(self, name: str, default: str | None = None) -> str | None:
        value = self.params.get(name, default)
        return None if value is None else str(value)

    def texts(self, name: str) -> tuple[str, ...]:
        return tuple(str(v) for v in self.params.get(name, ()))


def declares_profile(package: DataPackage) -> bool:
    """Whether the descriptor declares the package a relations-data package."""
    value = package.descriptor.get(PROFILE_PROPERTY)
    if value is None:
        return False
    if value != PROFILE_VERSION or isinstance(value, bool):
        raise PackageError(
            f"{package.descriptor_path}: {PROFILE_PROPERTY} is {value!r}; expected "
            f"{PROFILE_VERSION} (the rule profile this version of relations-data implements)."
        )
    return True


def _entries(raw: tuple[Any, ...], where: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
    for entry in raw:
        if isinstance(entry, str):
            yield entry, {}
        elif isinstance(entry, Mapping) and isinstance(entry.get("rule"), str):
            yield entry["rule"], {k: v for k, v in entry.items() if k != "rule"}
        else:
            raise PackageError(
                f"{where}: {RULES_PROPERTY} lists {entry!r}; expected a rule name or an "
                'object {"rule": name, ...}.'
            )


def _checked(use: RuleUse, names: tuple[str, ...], where: str) -> RuleUse:
    spec = FIELD_RULES[use.rule]
    unknown = sorted(set(use.params) - set(spec))
    if unknown:
        raise PackageError(f"{where}: rule {use.rule!r} takes no parameter {unknown[0]!r}.")
    for name, (kind, required) in spec.items():
        value = use.params.get(name)
        if value is None:
            if required:
                raise PackageError(f"{where}: rule {use.rule!r} needs the parameter {name!r}.")
            continue
        good = (
            (kind == FIELD and value in names)
            or (kind == TEXT and isinstance(value, str))
            or (
                kind == TEXTS and isinstance(value, list) and all(isinstance(v, str) for v in value)
            )
            or (kind == BOUNDS and _bounds(value))
        )
        if not good:
            expected = {
                FIELD: "a field of the table",
                TEXT: "text",
                TEXTS: "a list of texts",
                BOUNDS: "an object {value: {stance: [least, most or null]}}",
            }
            raise PackageError(
                f"{where}: parameter {name!r} of rule {use.rule!r} is {value!r}; expected "
                f"{expected[kind]}."
            )
    if use.rule == "date-precision" and use.params["bound"] not in _BOUNDS:
        raise PackageError(f"{where}: bound of rule 'date-precision' must be start or end.")
    return use


def _bounds(value: Any) -> bool:
    """Whether ``value`` maps values to stances to ``[least, most]`` (most may be null)."""

    def pair(bounds: Any) -> bool:
        return (
            isinstance(bounds, list)
            and len(bounds) == 2
            and isinstance(bounds[0], int)
            and (bounds[1] is None or (isinstance(bounds[1], int) and bounds[1] >= bounds[0]))
        )

    return isinstance(value, Mapping) and all(
        isinstance(stances, Mapping) and all(pair(b) for b in stances.values())
        for stances in value.values()
    )


def stance_bounds(use: RuleUse) -> dict[str, dict[str, tuple[int, int | None]]]:
    """The ``stances`` parameter of a ``claim-verdict`` declaration, as tuples."""
    return {
        str(value): {str(stance): (int(b[0]), b[1]) for stance, b in stances.items()}
        for value, stances in use.params["stances"].items()
    }


def declared(resource: Resource) -> list[RuleUse]:
    """Every rule the Table Schema of ``resource`` declares, checked (raises
    :class:`PackageError` for a declaration that cannot be applied)."""
    schema = resource.schema
    where = f"Table Schema of {resource.name!r} ({resource.schema_relpath or 'inline'})"
    uses: list[RuleUse] = []
    for rule, params in _entries(schema.rules, where):
        if rule not in TABLE_RULES or params:
            raise PackageError(
                f"{where}: {RULES_PROPERTY} of the schema lists {rule!r}; expected among "
                f"{', '.join(sorted(TABLE_RULES))} (without parameters)."
            )
        uses.append(RuleUse(rule, resource.name, None, params))
    for field in schema.fields:
        place = f"{where}, field {field.name!r}"
        for rule, params in _entries(field.rules, place):
            if rule not in FIELD_RULES:
                raise PackageError(
                    f"{place}: unknown rule {rule!r}; expected among "
                    f"{', '.join(sorted(FIELD_RULES))}."
                )
            use = RuleUse(rule, resource.name, field.name, params)
            uses.append(_checked(use, schema.field_names, place))
    return uses


class Declarations:
    """The rules declared across a package (empty when the project rules are off)."""

    def __init__(self, uses: list[RuleUse]) -> None:
        self.uses = uses

    @classmethod
    def of(cls, package: DataPackage, enabled: bool | None) -> Declarations:
        """The package's declarations when the project rules run: ``enabled`` ``None``
        follows the descriptor's :data:`PROFILE_PROPERTY`; ``True``/``False`` force."""
        run = declares_profile(package) if enabled is None else enabled
        if not run:
            return cls([])
        return cls([use for resource in package.resources for use in declared(resource)])

    def of_table(self, table: str, rule: str | None = None) -> list[RuleUse]:
        return [u for u in self.uses if u.table == table and rule in (None, u.rule)]

    def of_rule(self, rule: str) -> list[RuleUse]:
        return [u for u in self.uses if u.rule == rule]

    def table_rule(self, table: str, rule: str) -> bool:
        return any(u.field is None for u in self.of_table(table, rule))


NONE = Declarations([])
