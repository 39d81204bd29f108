"""Collecting findings and the checks that produced them, shared by both engines."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import polars as pl

from .reading import LINE, TextTable
from .report import CheckResult, Finding, shorten


@dataclass
class Collector:
    """Findings of one engine plus, per rule, the tables it ran on and its finding count."""

    engine: str
    findings: list[Finding] = field(default_factory=list)
    _ran: dict[str, tuple[str, dict[str, None]]] = field(default_factory=dict)

    def ran(self, rule: str, description: str, table: str) -> None:
        """Record that ``rule`` was checked on ``table`` (whether or not it failed)."""
        entry = self._ran.setdefault(rule, (description, {}))
        entry[1][table] = None

    def add(  # noqa: PLR0917 - a finding is these six facts
        self,
        table: TextTable,
        line: int | None,
        column: str | None,
        value: object,
        rule: str,
        message: str,
    ) -> None:
        self.findings.append(
            Finding(
                table=table.name,
                file=table.resource.relpath,
                line=line,
                column=column,
                value=shorten(value),
                rule=rule,
                message=message,
                engine=self.engine,
            )
        )

    def add_rows(  # noqa: PLR0917
        self,
        table: TextTable,
        failing: pl.DataFrame,
        column: str | None,
        rule: str,
        message: str | Callable[..., str],
        value_column: str | None = None,
    ) -> None:
        """One finding per row of ``failing`` (which holds :data:`LINE` and the value).

        ``message`` is fixed text or a function of the row (a dict of ``failing``'s columns).
        """
        value_column = value_column or column
        for row in failing.iter_rows(named=True):
            value = row.get(value_column) if value_column else None
            text = message if isinstance(message, str) else message(row)
            self.add(table, row[LINE], column, value, rule, text)

    def ran_rules(self) -> dict[str, tuple[str, dict[str, None]]]:
        """Each rule recorded by :meth:`ran`: its description and tables, in order."""
        return self._ran

    def checks(self) -> list[CheckResult]:
        counts: dict[str, int] = {}
        for finding in self.findings:
            counts[finding.rule] = counts.get(finding.rule, 0) + 1
        return [
            CheckResult(
                engine=self.engine,
                rule=rule,
                description=description,
                tables=tuple(tables),
                findings=counts.get(rule, 0),
            )
            for rule, (description, tables) in self._ran.items()
        ]


def merge(out: Collector, parts: list[Collector]) -> None:
    """Add ``parts`` to ``out`` in order, as if their checks had run one after another."""
    for part in parts:
        out.findings.extend(part.findings)
        for rule, (description, tables) in part.ran_rules().items():
            for table in tables:
                out.ran(rule, description, table)
