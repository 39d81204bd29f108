"""Properties of the key shortcuts of the Polars engine, against plain Python."""

from __future__ import annotations

import itertools

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from relations_data.validation.keys import HASH, _adjacent, covers, missing_hashes, sorted_by
from relations_data.validation.reading import aligned

KEYS = st.lists(st.sampled_from(["a", "b", "ab", "b-1", "é", ""]), max_size=8)
CELLS = st.one_of(st.none(), st.sampled_from(["a", "b", "ab", "", "é"]))


@settings(max_examples=200, deadline=None)
@given(values=KEYS, keys=KEYS)
def test_covers_proves_both_inclusions(values: list[str], keys: list[str]) -> None:
    proven = covers(pl.Series(values, dtype=pl.String), pl.Series(keys, dtype=pl.String))
    if proven:
        assert set(values) == set(keys)


@settings(max_examples=100, deadline=None)
@given(keys=st.lists(st.text(max_size=4), unique=True, max_size=8), repeats=st.data())
def test_covers_accepts_every_sorted_use_of_every_key(keys: list[str], repeats) -> None:
    keys = sorted(keys)
    values = [k for k in keys for _ in range(repeats.draw(st.integers(1, 3)))]
    assert covers(pl.Series(values, dtype=pl.String), pl.Series(keys, dtype=pl.String))
    if keys:  # a key nobody uses
        unused = [v for v in values if v != keys[-1]]
        assert not covers(pl.Series(unused, dtype=pl.String), pl.Series(keys, dtype=pl.String))
    stranger = [*values, "not a key"]  # longer than any key
    assert not covers(pl.Series(stranger, dtype=pl.String), pl.Series(keys, dtype=pl.String))


def _python_order(rows: list[tuple[str | None, ...]]) -> tuple[bool, bool]:
    def sortable(row: tuple[str | None, ...]) -> tuple[tuple[int, bytes], ...]:
        return tuple((0, b"") if c is None else (1, c.encode()) for c in row)

    pairs = list(itertools.pairwise(rows))
    ordered = all(sortable(a) <= sortable(b) for a, b in pairs)
    repeated = any(a == b and any(c is not None for c in a) for a, b in pairs)
    return ordered, repeated


@settings(max_examples=200, deadline=None)
@given(rows=st.lists(st.tuples(CELLS, CELLS), max_size=8))
def test_adjacent_comparisons_match_python_tuple_order(
    rows: list[tuple[str | None, str | None]],
) -> None:
    frame = pl.DataFrame(rows, schema={"a": pl.String, "b": pl.String}, orient="row")
    ordered, repeated = _python_order(rows)
    assert _adjacent(frame, ["a", "b"]) == (ordered, repeated)
    if frame.height > 1:
        assert frame.select(sorted_by(frame, ["a", "b"]).all()).item() == ordered
        single = _python_order([(a,) for a, _ in rows])[0]
        assert frame.select(sorted_by(frame, ["a"]).all()).item() == single


@settings(max_examples=150, deadline=None)
@given(
    rows=st.lists(st.integers(0, 30), max_size=6),
    reference=st.lists(st.integers(0, 30), max_size=80),
)
def test_missing_hashes_is_a_set_difference_in_row_order(
    rows: list[int], reference: list[int]
) -> None:
    # Few rows against many keys take the semi-join path; both paths must agree.
    frame = pl.DataFrame(
        {"row": range(len(rows)), HASH: rows}, schema={"row": pl.Int64, HASH: pl.UInt64}
    )
    missing = missing_hashes(frame.lazy(), pl.Series(reference, dtype=pl.UInt64), len(rows))
    expected = [i for i, value in enumerate(rows) if value not in set(reference)]
    assert missing.collect()["row"].to_list() == expected


@settings(max_examples=100, deadline=None)
@given(pieces=st.lists(st.lists(st.integers(0, 9), min_size=1, max_size=5), max_size=6))
def test_aligned_keeps_values_and_takes_the_chunks_of_its_model(pieces: list[list[int]]) -> None:
    like = pl.concat([pl.Series(p) for p in pieces], rechunk=False) if pieces else pl.Series([])
    values = pl.Series(range(like.len()))
    result = aligned(values, like)
    assert result.to_list() == values.to_list()
    if like.n_chunks() > 1:
        assert result.chunk_lengths() == like.chunk_lengths()
