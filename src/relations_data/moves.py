"""Where the values of a removed table or column went: the moves of a model change.

A diff sees a removed table, a removed column and rows added elsewhere; a reader wants
to know that ``actor_aliases`` became ``aliases`` or that ``events.place_id`` is now a
row of ``event_places``. The moves are found from the values themselves, for any pair of
versions, without a list of tables:

* a **removed table** moved to an added table when each of its key columns has its
  values in one column of the added table (most of them: a column may be renamed, its
  values not); the rows whose key is found there are counted;
* a **removed column** moved within its table when an added column holds the same value
  for the same row (``sources.stance`` → ``sources.source_kind``), and to another table
  when a table with a foreign key onto this one holds the pair (key, value) in one of
  its columns (``events.place_id`` → ``event_places.place_id`` by ``event_id``).

Values are compared as the text stored in the CSVs.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from .canonical import read_text_table
from .package import DataPackage

#: Share of a column's distinct values that must reappear in a column of another table
#: for the two to be taken as the same column under another name.
SAME_COLUMN = 0.8


@dataclass(frozen=True)
class Move:
    """Values of ``source`` (a table or ``table.column``) found in ``target``."""

    source: str
    target: str
    found: int
    total: int
    #: Old column → new column, for a moved table; the joining column for a moved column.
    columns: tuple[tuple[str, str], ...] = ()

    def __str__(self) -> str:
        what = "rows" if "." not in self.source else "values"
        text = f"{self.source} → {self.target}: {self.found} of {self.total} {what}"
        if self.columns:
            text += " (" + ", ".join(f"{a} → {b}" for a, b in self.columns) + ")"
        return text


def _values(frame: pl.DataFrame, column: str) -> set[str]:
    return set(frame.get_column(column).drop_nulls().unique().to_list())


def _column_map(old: pl.DataFrame, new: pl.DataFrame) -> dict[str, str]:
    """Each old column → the new column holding most of its distinct values, greedily
    by overlap, one new column per old one."""
    scores = []
    for a in old.columns:
        values = _values(old, a)
        if not values:
            continue
        for b in new.columns:
            share = len(values & _values(new, b)) / len(values)
            if share >= SAME_COLUMN:
                scores.append((share, a == b, a, b))
    mapping: dict[str, str] = {}
    for _share, _same, a, b in sorted(scores, reverse=True):
        if a not in mapping and b not in mapping.values():
            mapping[a] = b
    return mapping


def _moved_table(old: DataPackage, new: DataPackage, table: str) -> Move | None:
    before = read_text_table(old.resource(table))
    key = old.resource(table).schema.primary_key or tuple(before.columns)
    best: Move | None = None
    for name in new.table_names:
        if name in old.table_names:
            continue
        after = read_text_table(new.resource(name))
        mapping = _column_map(before, after)
        if not all(k in mapping for k in key):
            continue
        # Rows are found by their key; other columns may have changed values in the move.
        on = [mapping[k] for k in key]
        renamed = before.select(list(key)).rename({k: mapping[k] for k in key})
        found = renamed.join(after.select(on), on=on, how="semi").height
        if best is None or found > best.found:
            pairs = tuple((a, mapping[a]) for a in before.columns if a in mapping)
            best = Move(table, name, found, before.height, pairs)
    return best if best is not None and best.found else None


def _moved_column(old: DataPackage, new: DataPackage, table: str, column: str) -> list[Move]:
    schema = old.resource(table).schema
    if len(schema.primary_key) != 1:
        return []
    key = schema.primary_key[0]
    before = read_text_table(old.resource(table)).select(key, column).drop_nulls(column)
    if before.is_empty():
        return []
    moves: list[Move] = []
    if table in new.table_names:
        after = read_text_table(new.resource(table))
        for added in after.columns:
            if added in schema.field_names or key not in after.columns:
                continue
            found = before.join(
                after.select(key, pl.col(added).alias(column)), on=[key, column], how="semi"
            ).height
            if found:
                moves.append(Move(f"{table}.{column}", f"{table}.{added}", found, before.height))
    for name in new.table_names:
        link = new.resource(name).schema
        for fk in link.foreign_keys:
            if fk.resource != table or fk.reference_fields != (key,) or len(fk.fields) != 1:
                continue
            rows = read_text_table(new.resource(name))
            for other in link.field_names:
                if other == fk.fields[0]:
                    continue
                pairs = rows.select(pl.col(fk.fields[0]).alias(key), pl.col(other).alias(column))
                found = before.join(pairs, on=[key, column], how="semi").height
                if found:
                    moves.append(
                        Move(
                            f"{table}.{column}",
                            f"{name}.{other}",
                            found,
                            before.height,
                            ((key, fk.fields[0]),),
                        )
                    )
    return moves


def find_moves(old: DataPackage, new: DataPackage) -> tuple[Move, ...]:
    """The moves of every table and column of ``old`` that ``new`` no longer has."""
    moves: list[Move] = []
    for resource in old.resources:
        if resource.name not in new.table_names:
            move = _moved_table(old, new, resource.name)
            if move is not None:
                moves.append(move)
            continue
        kept = new.resource(resource.name).schema.field_names
        for column in resource.schema.field_names:
            if column not in kept:
                moves += _moved_column(old, new, resource.name, column)
    return tuple(moves)
