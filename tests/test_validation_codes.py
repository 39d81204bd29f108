"""Code lists behind the iso-* rules: maintained libraries, withdrawn codes included."""

from __future__ import annotations

import pytest

from relations_data.validation.semantic import _iso_countries, _iso_currencies


@pytest.mark.parametrize("code", ["RUB", "USD", "KHR", "EUR", "SUR", "RUR"])
def test_current_and_withdrawn_currencies_are_known(code: str) -> None:
    # SUR (Soviet rouble) and RUR (the 1992-1997 Russian rouble) are withdrawn ISO 4217
    # codes that figures of the 1980s and 1990s are stated in.
    assert code in _iso_currencies()


@pytest.mark.parametrize("code", ["ABC", "RUS", "usd", "SU", ""])
def test_unknown_currency_codes_are_refused(code: str) -> None:
    assert code not in _iso_currencies()


@pytest.mark.parametrize("code", ["KHM", "RUS", "SUN"])
def test_current_and_historic_countries_are_known(code: str) -> None:
    assert code in _iso_countries()
