"""Amounts are integers in a currency's smallest unit; this knows how small that unit is."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

import pycountry

# ISO 4217 minor units that are not 2.
_EXPONENTS = {
    **dict.fromkeys(
        [
            "BIF",
            "CLP",
            "DJF",
            "GNF",
            "ISK",
            "JPY",
            "KMF",
            "KRW",
            "PYG",
            "RWF",
            "UGX",
            "UYI",
            "VND",
            "VUV",
            "XAF",
            "XOF",
            "XPF",
        ],
        0,
    ),
    **dict.fromkeys(["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"], 3),
}


# The largest amount a BIGINT column holds: anything above it is not a real payment.
MAX_AMOUNT = 2**63 - 1


def is_currency(code: str) -> bool:
    """An ISO 4217 code, such as USD or INR."""
    return len(code) == 3 and code.isascii() and pycountry.currencies.get(alpha_3=code) is not None


def exponent(currency: str) -> int:
    return _EXPONENTS.get(currency.upper(), 2)


def parse_amount(value: str, currency: str) -> int | None:
    """A decimal string in major units ("49.00") or an integer string in minor units ("4900")."""
    try:
        number = Decimal(value.strip())
    except (InvalidOperation, AttributeError):
        return None
    if not number.is_finite() or abs(number.adjusted()) > 30:  # NaN, Infinity, 1e999
        return None
    if "." in value:
        number = number.scaleb(exponent(currency))
    return int(number.to_integral_value())


def format_amount(amount: int, currency: str) -> str:
    digits = exponent(currency)
    major = Decimal(amount).scaleb(-digits)
    return f"{major:,.{digits}f} {currency.upper()}"
