"""Money: integer minor units and an ISO 4217 currency. Never a float.

Rounding happens only where a method says so, always with an explicit mode
(``ROUND_HALF_EVEN`` by default, "banker's rounding", the same everywhere).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

# Minor-unit exponents that differ from 2 (ISO 4217).
_EXPONENTS = {"JPY": 0, "KRW": 0, "VND": 0, "CLP": 0, "ISK": 0, "UGX": 0, "XAF": 0, "XOF": 0,
              "BHD": 3, "KWD": 3, "OMR": 3, "JOD": 3, "TND": 3, "IQD": 3, "LYD": 3}


class CurrencyMismatch(ValueError):
    """Two amounts in different currencies were combined."""


def exponent(currency: str) -> int:
    return _EXPONENTS.get(currency, 2)


def _check_currency(currency: str) -> str:
    if not (isinstance(currency, str) and len(currency) == 3 and currency.isalpha()
            and currency.isupper()):
        raise ValueError(f"currency must be a 3-letter ISO 4217 code such as 'USD', got {currency!r}")
    return currency


#: the largest amount accepted as input, in minor units (10 trillion in a two-decimal
#: currency): far below the 64-bit columns, so sums of many never overflow
MAX_INPUT_MINOR = 10 ** 15


def iso_currency(code: str) -> str:
    """``code`` if it is an ISO 4217 currency in use (``pycountry``'s table), else
    ``ValueError``. For input at the edge; amounts read back from the database are trusted."""
    import pycountry

    _check_currency(code)
    if pycountry.currencies.get(alpha_3=code) is None:
        raise ValueError(f"'{code}' is not an ISO 4217 currency code (such as USD, EUR)")
    return code


_GROUPED = re.compile(r"[+-]?\d{1,3}(,\d{3})+(\.\d+)?")


def _plain(text: str, currency: str) -> str:
    """``"1,234.56 USD"`` -> ``"1234.56"``; anything else is returned stripped, as it was."""
    text = text.strip()
    if text.endswith(f" {currency}"):
        text = text[:-4].rstrip()
    elif re.fullmatch(r".*\s[A-Z]{3}", text):
        raise CurrencyMismatch(f"{text!r} is not in {currency}")
    if "_" in text:
        raise ValueError(f"not an amount: {text!r}")
    if "," in text:
        if not _GROUPED.fullmatch(text):
            raise ValueError(f"not an amount: {text!r} (use '.' for decimals; ',' only "
                             "between groups of three digits)")
        text = text.replace(",", "")
    return text


@dataclass(frozen=True, order=False)
class Money:
    amount: int  # minor units (cents)
    currency: str

    def __post_init__(self):
        if isinstance(self.amount, bool) or not isinstance(self.amount, int):
            raise TypeError(f"Money.amount must be an int of minor units, got {type(self.amount).__name__}")
        _check_currency(self.currency)

    # -- construction ---------------------------------------------------------------------
    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    @classmethod
    def parse(cls, value: str | int | Decimal, currency: str) -> Money:
        """Parse a major-unit amount: ``"12.34"``, ``"-5"``, ``Decimal("1.5")``, or what
        :meth:`format` prints (``"1,234.56 USD"``: thousands grouped by commas, the currency
        code last, which must match ``currency``).

        More decimals than the currency has is an error, never a silent rounding; so is a
        float (``0.1`` is not exactly a tenth) and a comma that is not a thousands separator
        (``"1,50"`` is ambiguous).
        """
        if isinstance(value, float | bool):
            raise TypeError(f"refusing a {type(value).__name__} amount: pass a string, int "
                            "or Decimal")
        exp = exponent(iso_currency(currency))
        text = value if isinstance(value, Decimal) else _plain(str(value), currency)
        try:
            dec = Decimal(text)
        except InvalidOperation:
            raise ValueError(f"not an amount: {value!r}") from None
        if not dec.is_finite():
            raise ValueError(f"not an amount: {value!r}")
        minor = dec.scaleb(exp)
        if minor != minor.to_integral_value():
            raise ValueError(f"{value!r} has more than {exp} decimal places for {currency}")
        if abs(minor) > MAX_INPUT_MINOR:
            raise ValueError(f"{value!r} is too large: at most "
                             f"{Decimal(MAX_INPUT_MINOR).scaleb(-exp):,f} {currency}")
        return cls(int(minor), currency)

    # -- arithmetic -----------------------------------------------------------------------
    def _same(self, other: Money) -> None:
        if not isinstance(other, Money):
            raise TypeError(f"cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise CurrencyMismatch(f"{self.currency} and {other.currency} cannot be combined")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.amount <= other.amount

    def __gt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount > other.amount

    def __ge__(self, other: Money) -> bool:
        self._same(other)
        return self.amount >= other.amount

    def __bool__(self) -> bool:
        return self.amount != 0

    def multiply(self, factor: int | Decimal | str, rounding=ROUND_HALF_EVEN) -> Money:
        """Multiply by a quantity or rate, rounding the result to minor units explicitly."""
        if isinstance(factor, float | bool):
            raise TypeError("refusing a float factor: pass an int, str or Decimal")
        result = (Decimal(self.amount) * Decimal(str(factor))).quantize(Decimal(1), rounding=rounding)
        return Money(int(result), self.currency)

    def allocate(self, ratios: list[int]) -> list[Money]:
        """Split into parts proportional to ``ratios`` that sum exactly to this amount.

        Largest-remainder method: each part is its exact share rounded down (toward zero),
        and the minor units left over go one each to the parts that lost the most (the
        earlier part on a tie). So no cent is created or lost, every part is within one minor
        unit of its exact share, and a negative amount splits as the mirror of a positive one.
        """
        if not ratios or any(isinstance(r, bool) or not isinstance(r, int) for r in ratios):
            raise TypeError("ratios must be a non-empty list of ints")
        if any(r < 0 for r in ratios) or sum(ratios) == 0:
            raise ValueError("ratios must be non-negative and not all zero")
        total, sign, whole = sum(ratios), (-1 if self.amount < 0 else 1), abs(self.amount)
        parts = [whole * r // total for r in ratios]
        losses = [whole * r % total for r in ratios]
        for i in sorted(range(len(ratios)), key=lambda i: -losses[i])[:whole - sum(parts)]:
            parts[i] += 1
        return [Money(sign * p, self.currency) for p in parts]

    # -- presentation ---------------------------------------------------------------------
    def to_decimal(self) -> Decimal:
        return Decimal(self.amount).scaleb(-exponent(self.currency))

    def format(self) -> str:
        """``"1,234.56 USD"``; :meth:`parse` reads it back."""
        exp = exponent(self.currency)
        return f"{self.to_decimal():,.{exp}f} {self.currency}"

    def __str__(self) -> str:
        return self.format()
