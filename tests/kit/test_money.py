"""Amounts in a currency's smallest unit: how small that unit is, parsing and formatting."""

from __future__ import annotations

import pytest

from bantico.kit.money import MAX_AMOUNT, exponent, format_amount, is_currency, parse_amount


@pytest.mark.parametrize(
    ("currency", "digits"), [("USD", 2), ("inr", 2), ("JPY", 0), ("KRW", 0), ("KWD", 3)]
)
def test_the_minor_unit_follows_iso_4217(currency: str, digits: int) -> None:
    assert exponent(currency) == digits


def test_only_iso_4217_codes_are_currencies() -> None:
    assert is_currency("USD") and is_currency("EUR") and is_currency("JPY")
    assert is_currency("usd")  # either case; callers store it upper-cased
    for code in ("US", "USDD", "XYZ", "ÜSD", ""):
        assert not is_currency(code), code


@pytest.mark.parametrize(
    ("text", "currency", "amount"),
    [
        ("49.00", "USD", 4900),
        ("4900", "USD", 4900),  # no point: already in minor units
        ("0.5", "USD", 50),
        ("1000", "JPY", 1000),
        ("1000.0", "JPY", 1000),
        ("1.234", "KWD", 1234),
        (" 12.30 ", "EUR", 1230),
    ],
)
def test_amounts_parse_to_minor_units(text: str, currency: str, amount: int) -> None:
    assert parse_amount(text, currency) == amount


@pytest.mark.parametrize("text", ["", "abc", "NaN", "Infinity", "-inf", "1e999", "1e-40"])
def test_what_is_not_an_amount_is_none(text: str) -> None:
    assert parse_amount(text, "USD") is None


def test_formatting_shows_the_major_unit_with_the_currency() -> None:
    assert format_amount(4900, "usd") == "49.00 USD"
    assert format_amount(123456789, "USD") == "1,234,567.89 USD"
    assert format_amount(1000, "JPY") == "1,000 JPY"
    assert format_amount(1234, "KWD") == "1.234 KWD"
    assert format_amount(-250, "EUR") == "-2.50 EUR"
    assert MAX_AMOUNT == 2**63 - 1  # a BIGINT column's largest value
