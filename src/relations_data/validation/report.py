"""The one report both engines fill: findings, tables, checks, and three renderings.

A :class:`Finding` says where (table, file, CSV line, column), what (value, rule) and why
(a message with what was expected and what was found). :class:`Report` renders them as
text for people, JSON for programs (see ``docs/validation.md``) and GitHub Actions
annotations so a pull request shows each error on the CSV line that causes it.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

#: Version of the JSON structure written by :meth:`Report.to_json`; bumped on any
#: incompatible change (removed or renamed keys, changed meaning).
REPORT_VERSION = 1
#: Longest offending value kept in a finding; longer values are shortened with "…".
MAX_VALUE_CHARS = 60
#: Longest message of a finding: messages quote cells, and a 1 MiB cell must not make
#: a 1 MiB report line.
MAX_MESSAGE_CHARS = 400
#: Longest column of a finding: a header label is a column, and may be as long as a cell.
MAX_COLUMN_CHARS = 200


def shorten(value: object, limit: int = MAX_VALUE_CHARS) -> str | None:
    """The value as text, cut to ``limit`` characters; ``None`` stays ``None``."""
    if value is None:
        return None
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True, order=True)
class Finding:
    """One problem in the data, located to the line and column of a CSV file.

    ``line`` is the physical line of the CSV where the record starts (the header is
    line 1); ``None`` when the finding concerns a whole table. ``column`` is a field
    name, several comma-separated names for a key, a header label as written (label
    findings), ``""`` for a cell beyond the labels (``extra-cell``, which frictionless
    ties to no field), or ``None``.
    """

    table: str
    file: str
    line: int | None
    column: str | None
    value: str | None
    rule: str
    message: str
    engine: str

    def __post_init__(self) -> None:
        if len(self.message) > MAX_MESSAGE_CHARS:
            object.__setattr__(self, "message", shorten(self.message, MAX_MESSAGE_CHARS))
        if self.column is not None and len(self.column) > MAX_COLUMN_CHARS:
            object.__setattr__(self, "column", shorten(self.column, MAX_COLUMN_CHARS))

    @property
    def location(self) -> tuple[str, int | None, str | None]:
        """``(table, line, column)``: where the finding points, whatever its engine."""
        return (self.table, self.line, self.column)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class TableSummary:
    """A table that was validated: its name, file, schema columns and data row count."""

    name: str
    file: str
    rows: int
    columns: tuple[str, ...]


@dataclass(frozen=True)
class CheckResult:
    """One check an engine ran, over which tables, and how many findings it produced."""

    engine: str
    rule: str
    description: str
    tables: tuple[str, ...]
    findings: int

    @property
    def passed(self) -> bool:
        return self.findings == 0


@dataclass
class Report:
    """Every finding of one validation run, the tables seen and the checks that ran."""

    source: str
    engines: tuple[str, ...]
    tables: list[TableSummary] = field(default_factory=list)
    checks: list[CheckResult] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    root: Path | None = None
    #: What ran beyond the findings: whether the project rules ran, resources handed to
    #: another engine, and why.
    notes: list[str] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        """``True`` when no engine found anything."""
        return not self.findings

    def sorted_findings(self) -> list[Finding]:
        order = {table.name: index for index, table in enumerate(self.tables)}
        return sorted(
            self.findings,
            key=lambda f: (
                order.get(f.table, len(order)),
                f.line if f.line is not None else -1,
                f.column or "",
                f.rule,
                f.engine,
            ),
        )

    # -- renderers ----------------------------------------------------------------

    def to_text(self) -> str:
        """Findings grouped by table, then tables, checks and a summary line."""
        lines: list[str] = [f"Validated {self.source} with {' and '.join(self.engines)}."]
        lines.extend(f"Note: {note}" for note in self.notes)
        findings = self.sorted_findings()
        by_table: dict[str, list[Finding]] = {}
        for finding in findings:
            by_table.setdefault(finding.table, []).append(finding)
        width = max((len(t.name) for t in self.tables), default=5)
        lines.append("")
        lines.append("Tables:")
        for table in self.tables:
            count = len(by_table.get(table.name, []))
            state = "ok" if not count else f"{count} finding{'s' if count != 1 else ''}"
            lines.append(f"  {table.name:<{width}}  {table.rows:>9} rows  {table.file}  {state}")
        for table_name, group in by_table.items():
            lines.append("")
            lines.append(f"{table_name} ({group[0].file}): {len(group)} finding(s)")
            for finding in group:
                where = f"line {finding.line}" if finding.line is not None else "table"
                column = f", column {finding.column}" if finding.column else ""
                value = "" if _mentions(finding) else f" [value {finding.value!r}]"
                lines.append(
                    f"  {where}{column}: {finding.rule}: {finding.message}{value} "
                    f"({finding.engine})"
                )
        passed = [c for c in self.checks if c.passed]
        failed = [c for c in self.checks if not c.passed]
        lines.append("")
        lines.append(f"Checks passed ({len(passed)}):")
        for engine in self.engines:
            rules = [c.rule for c in passed if c.engine == engine]
            if rules:
                lines.append(f"  {engine}: {', '.join(rules)}")
        if failed:
            lines.append(f"Checks failed ({len(failed)}):")
            for check in failed:
                lines.append(f"  {check.engine}: {check.rule} ({check.findings} finding(s))")
        rows = sum(t.rows for t in self.tables)
        lines.append("")
        if self.valid:
            lines.append(
                f"Valid: {len(self.tables)} tables, {rows} rows, {len(passed)} checks passed."
            )
        else:
            per_rule = Counter(f.rule for f in findings)
            detail = ", ".join(f"{rule} {count}" for rule, count in sorted(per_rule.items()))
            lines.append(
                f"Invalid: {len(findings)} finding(s) in {len(by_table)} table(s) "
                f"({detail}); {len(self.tables)} tables, {rows} rows checked."
            )
        return "\n".join(lines) + "\n"

    def to_dict(self) -> dict[str, Any]:
        """The JSON structure documented in ``docs/validation.md`` (``report_version`` 1)."""
        findings = self.sorted_findings()
        return {
            "report_version": REPORT_VERSION,
            "valid": self.valid,
            "source": self.source,
            "engines": list(self.engines),
            "notes": list(self.notes),
            "tables": [
                {"name": t.name, "file": t.file, "rows": t.rows, "columns": list(t.columns)}
                for t in self.tables
            ],
            "checks": [
                {
                    "engine": c.engine,
                    "rule": c.rule,
                    "description": c.description,
                    "tables": list(c.tables),
                    "findings": c.findings,
                    "passed": c.passed,
                }
                for c in self.checks
            ],
            "summary": {
                "findings": len(findings),
                "by_rule": dict(sorted(Counter(f.rule for f in findings).items())),
                "by_table": dict(sorted(Counter(f.table for f in findings).items())),
            },
            "findings": [f.to_dict() for f in findings],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2) + "\n"

    def to_github(self) -> str:
        """One ``::error`` workflow command per finding, pointing at file, line and column."""
        columns = {t.name: t.columns for t in self.tables}
        out: list[str] = []
        for finding in self.sorted_findings():
            properties = [f"file={_escape_property(self._github_path(finding.file))}"]
            if finding.line is not None:
                properties.append(f"line={finding.line}")
                col = _column_index(columns.get(finding.table, ()), finding.column)
                if col is not None:
                    properties.append(f"col={col}")
            properties.append(f"title={_escape_property(f'{finding.rule} ({finding.engine})')}")
            where = f"{finding.table}.{finding.column}" if finding.column else finding.table
            value = "" if _mentions(finding) else f" (value {finding.value!r})"
            message = f"{where}: {finding.message}{value}"
            out.append(f"::error {','.join(properties)}::{_escape_data(message)}")
        if not out:
            rows = sum(t.rows for t in self.tables)
            out.append(
                f"::notice::{_escape_data(f'Valid: {len(self.tables)} tables, {rows} rows.')}"
            )
        return "\n".join(out) + "\n"

    def _github_path(self, file: str) -> str:
        """The file relative to the working directory when the package lies below it
        (a remote resource's URL as it is)."""
        if self.root is None or "://" in file:
            return file
        try:
            relative = (self.root / file).resolve().relative_to(Path.cwd().resolve())
        except ValueError:
            return file
        return relative.as_posix() if os.sep == "/" else str(relative).replace(os.sep, "/")


def _mentions(finding: Finding) -> bool:
    """Whether the message already shows the value (or there is none to show)."""
    return finding.value is None or finding.value in finding.message


def _column_index(columns: tuple[str, ...], column: str | None) -> int | None:
    if not column:
        return None
    first = column.split(",")[0]
    return columns.index(first) + 1 if first in columns else None


def _escape_data(text: str) -> str:
    # GitHub's workflow-command escaping (actions/toolkit, command.ts: escapeData).
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    # escapeProperty additionally escapes the separators of the property list.
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")
