"""Validating the data package with two engines that share one report.

>>> from relations_data.validation import validate
>>> report = validate(engines=("polars",))
>>> report.valid in (True, False)
True

``validate`` returns a :class:`Report` for data it could read (valid or not) and raises
:class:`~relations_data.errors.PackageError` for input no validator can use (an
unreadable descriptor, a missing or empty CSV, bytes not valid in its encoding, an
unsafe path).
"""

from __future__ import annotations

import gc
import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import PackageError
from ..package import DataPackage, extracted_from, open_package
from .declared import PROFILE_PROPERTY, Declarations
from .reading import TextTable, foreign_keys_elsewhere, read_package
from .report import REPORT_VERSION, CheckResult, Finding, Report, TableSummary
from .standards import check_version_gates

if TYPE_CHECKING:
    from .polars_engine import TableChecks

__all__ = [
    "ENGINES",
    "REPORT_VERSION",
    "CheckResult",
    "Finding",
    "Report",
    "TableSummary",
    "validate",
]

#: The engines :func:`validate` knows, in the order they run.
ENGINES = ("polars", "frictionless")


def validate(
    source: str | Path | DataPackage | None = None,
    *,
    engines: Iterable[str] = ENGINES,
    rules: bool | None = None,
) -> Report:
    """Validate a data package and report every finding of every engine.

    Parameters
    ----------
    source
        ``None`` for the bundled package, a folder holding ``datapackage.json``, a
        ``datapackage.json`` file, a release ``.zip``, or an opened package.
    engines
        Which engines to run: ``"polars"`` (Pandera schemas built from the Table
        Schemas plus the project rules) and/or ``"frictionless"``.
    rules
        Whether the Polars engine also runs the project rules the Table Schemas declare
        (``relations-data:rules``): ``None`` (default) when the descriptor declares the
        package a relations-data package (``relations-data:profile``), ``True`` or
        ``False`` to opt in or out. Otherwise only Table Schema rules run, and the report
        says so.

    Returns
    -------
    Report
        ``report.valid`` is ``True`` when no engine found anything.

    Raises
    ------
    PackageError
        The input cannot be validated at all: a missing or invalid descriptor, an unsafe
        path, a missing or empty CSV, bytes not valid in its encoding, a NUL byte or a
        cell over the size limit. The message names the file (and line).
    """
    chosen = tuple(dict.fromkeys(engines))
    unknown = [e for e in chosen if e not in ENGINES]
    if unknown or not chosen:
        raise PackageError(
            f"expected engines among {', '.join(ENGINES)}, found {', '.join(unknown) or 'none'}."
        )
    package = source if isinstance(source, DataPackage) else open_package(source)
    # The data lives in Polars (Rust) and the findings hold no reference cycles, so the
    # cycle collector has nothing to free here; yet the objects that importing Pandera
    # and its dependencies creates trigger collections that scan the whole heap again
    # and again (measured: 0.15-0.2 s of a 3 s run at 1M events). It is turned back on,
    # if it was on, when validation ends.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _run(package, source, chosen, rules)
    except PackageError as error:
        folder = extracted_from(package)
        if folder is None or isinstance(source, DataPackage):
            raise
        # Name files as the user knows them: the zip's entries, not a temporary folder.
        message = str(error).replace(f"{folder}{os.sep}", f"{source}:")
        raise PackageError(message.replace(str(folder), str(source))) from None
    finally:
        if collecting:
            gc.enable()


def _run(
    package: DataPackage,
    source: str | Path | DataPackage | None,
    chosen: tuple[str, ...],
    rules: bool | None,
) -> Report:
    """Read every table, then run the ``chosen`` engines on them."""
    check_version_gates(package)
    checks = None
    declarations = Declarations.of(package, rules) if "polars" in chosen else None
    if declarations is not None:
        from .polars_engine import TableChecks

        checks = TableChecks(package.resources, declarations)
    try:
        tables = read_package(package, checks.submit if checks is not None else None)
        report = _report(package, source, chosen, tables, checks)
        report.notes.extend(_rule_notes(package, rules, declarations))
        if declarations is not None:
            from .semantic import unread_note

            report.notes.extend(unread_note(tables, declarations))
        return report
    finally:
        if checks is not None:
            checks.close()


def _report(
    package: DataPackage,
    source: str | Path | DataPackage | None,
    chosen: tuple[str, ...],
    tables: dict[str, TextTable],
    checks: TableChecks | None,
) -> Report:
    """Run the ``chosen`` engines on the tables read (``checks`` already started)."""
    report = Report(
        source=str(source) if source is not None else f"bundled package {package.version}",
        engines=chosen,
        tables=[
            TableSummary(
                name=name,
                file=table.resource.relpath,
                rows=table.rows,
                columns=table.resource.schema.field_names,
            )
            for name, table in tables.items()
        ],
        root=package.root,
    )
    if "polars" in chosen:
        import polars as pl

        from . import polars_engine, semantic

        try:
            collector, typed, single = polars_engine.run(tables, checks)
            semantic.run(tables, typed, collector, single, checks.declarations if checks else None)
        except pl.exceptions.PolarsError as error:
            # Schemas are checked up front; this is the net for combinations they miss.
            raise PackageError(
                f"{package.descriptor_path}: the Table Schemas cannot be applied to the data "
                f"({str(error).splitlines()[0]})."
            ) from None
        report.findings.extend(_deduplicated(collector.findings))
        report.checks.extend(collector.checks())
    if "frictionless" in chosen or package.other_resources:
        from . import frictionless_engine

        only_others = "frictionless" not in chosen
        collector = frictionless_engine.run(package, tables, only_others=only_others)
        report.findings.extend(collector.findings)
        report.checks.extend(collector.checks())
        if only_others:
            report.engines = (*report.engines, "frictionless")
    report.notes.extend(_other_notes(package, "frictionless" in chosen))
    return report


def _other_notes(package: DataPackage, frictionless_chosen: bool) -> list[str]:
    notes = [
        f"Resource {other.name!r} ({other.reason}) was validated by the frictionless engine "
        "only: the polars engine reads local CSV files with a Table Schema."
        for other in package.other_resources
    ]
    # Without the frictionless engine, frictionless validates only those resources, not
    # the tables whose keys point at them: say that no engine checked such a key.
    checked = (
        "the polars engine does not check it."
        if frictionless_chosen
        else "it was not checked (the polars engine does not check it; frictionless does "
        "when its engine runs: --engine frictionless)."
    )
    notes += [
        f"Foreign key {key} points at a resource only frictionless reads; {checked}"
        for key in foreign_keys_elsewhere(package)
    ]
    return notes


def _rule_notes(
    package: DataPackage, rules: bool | None, declarations: Declarations | None
) -> list[str]:
    """What the report says about the project rules: which ran, and why."""
    if declarations is None:
        return ["Only Table Schema rules ran (the project rules belong to the polars engine)."]
    if declarations.uses:
        why = "as asked (--rules)" if rules else f"the package declares {PROFILE_PROPERTY}"
        return [f"Project rules ran where the Table Schemas declare them ({why})."]
    if rules is False:
        return ["Only Table Schema rules ran (project rules turned off, --no-rules)."]
    if rules:
        return ["Only Table Schema rules ran: no Table Schema declares a project rule."]
    return [
        f"Only Table Schema rules ran: the package does not declare {PROFILE_PROPERTY} "
        "(use --rules to run the project rules its Table Schemas declare)."
    ]


def _deduplicated(findings: list[Finding]) -> list[Finding]:
    """Drop exact repeats (the same rule on the same cell), keeping the first. Extra
    cells are all kept: they share the column (none), as in frictionless' report."""
    seen: set[tuple[object, ...]] = set()
    unique: list[Finding] = []
    for finding in findings:
        key = (finding.table, finding.line, finding.column, finding.rule)
        if finding.rule == "extra-cell" or key not in seen:
            seen.add(key)
            unique.append(finding)
    return unique
