"""Which text fields the formula-trigger and canonical-form screens look at: a field
whose pattern excludes what they look for is left to its ``pattern`` rule."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from relations_data.schema import Field

#: Patterns of the kind Table Schemas use, with what their matches can start with.
PATTERN_STARTS = [
    "^[a-z0-9]+(-[a-z0-9]+)*$",
    "^-?[0-9]+$",
    "^(a|-b)$",
    "[a-z]*x",
    "^(?:[A-Z]{3})$",
    "^x?-$",
    "^Q[1-9][0-9]*$",
    "^[a-z]+(_[a-z]+)*:[0-9]+$",
    "^( ?[a-z])+$",
]


@pytest.mark.parametrize("pattern", PATTERN_STARTS)
@settings(max_examples=50, deadline=None)
@given(data=st.data())
def test_a_match_starts_with_a_character_the_pattern_allows_first(
    pattern: str, data: st.DataObject
) -> None:
    from relations_data.validation.text_rules import _pattern_start

    start = _pattern_start(pattern)
    assert start is not None
    text = data.draw(st.from_regex(f"^(?:{pattern})$", fullmatch=True).filter(bool))
    assert text[0] in start


@pytest.mark.parametrize(
    ("pattern", "screened"),
    [
        ("^[a-z0-9]+(-[a-z0-9]+)*$", False),  # an id: '-' never first, no whitespace
        ("^-?[0-9]+$", True),  # may start with '-'
        ("^( ?[a-z])+$", True),  # may hold a space
        ("^[A-Z]{3}$", False),
        ("^\\d+$", True),  # a category: not analysed, so screened
    ],
)
def test_text_screens_skip_fields_whose_pattern_excludes_what_they_look_for(
    pattern: str, screened: bool
) -> None:
    from relations_data.validation.text_rules import free_text

    assert free_text(Field(name="x", constraints={"pattern": pattern})) is screened
