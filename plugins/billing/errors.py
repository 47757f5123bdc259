"""Bad input and forbidden transitions raise ``marshmallow.ValidationError``.

``messages`` maps a field name (or ``"_schema"`` for the whole request) to a list of
messages that say what to do next; views show them next to the field, GraphQL returns them
as ``FieldError`` payloads. Every check runs *before* the first write, so a refused request
leaves nothing behind (and callers roll back on any error anyway).
"""
from __future__ import annotations

from marshmallow import ValidationError


def invalid(field: str, message: str) -> ValidationError:
    """A ValidationError for one field (``raise invalid("quantity", "...")``)."""
    return ValidationError({field: [message]})


__all__ = ["ValidationError", "invalid"]


# ---------------------------------------------------------------------------- edge checks
# Each runs before the database: a value a column cannot hold, or that makes no sense for
# money, is a field error — never an INTERNAL_ERROR, never a row that prints blank.
from datetime import date, timedelta  # noqa: E402
from decimal import Decimal, InvalidOperation  # noqa: E402

#: how far back (two years: late corrections) and ahead (a year) a dated money entry may be;
#: a typo like 2001 or 2030 is refused
PAST_DAYS, FUTURE_DAYS = 2 * 366, 366
#: the largest quantity of a line (a 1e30 quantity once broke the preview for everyone)
MAX_QUANTITY = Decimal(1_000_000)


def clean_text(field: str, value, *, max_length: int, required: bool = True) -> str:
    """Stripped text that fits its column: no NUL, not blank when required."""
    text = "" if value is None else str(value)
    if "\x00" in text:
        raise invalid(field, "must not contain NUL characters")
    text = text.strip()
    if required and not text:
        raise invalid(field, "is required")
    if len(text) > max_length:
        raise invalid(field, f"is too long: at most {max_length} characters")
    return text


def bounded_date(field: str, value, *, past_days: int = PAST_DAYS,
                 future_days: int = FUTURE_DAYS, today: date | None = None) -> date:
    """A date within ``past_days`` before and ``future_days`` after today."""
    if not isinstance(value, date):
        raise invalid(field, "is required (YYYY-MM-DD)")
    today = today or date.today()
    if value < today - timedelta(days=past_days):
        raise invalid(field, f"is too far in the past (earliest "
                             f"{(today - timedelta(days=past_days)).isoformat()})")
    if value > today + timedelta(days=future_days):
        raise invalid(field, f"is too far in the future (latest "
                             f"{(today + timedelta(days=future_days)).isoformat()})")
    return value


def bounded_quantity(field: str, value, maximum: Decimal = MAX_QUANTITY) -> Decimal:
    """A finite number greater than zero and at most ``maximum``."""
    if isinstance(value, bool):
        raise invalid(field, "must be a number")
    try:
        qty = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise invalid(field, "must be a number") from None
    if not qty.is_finite() or qty <= 0:
        raise invalid(field, "must be greater than zero")
    if qty > maximum:
        raise invalid(field, f"must be at most {maximum:,}")
    if qty.normalize().as_tuple().exponent < -4:
        raise invalid(field, "has more than 4 decimal places")
    return qty


__all__ += ["bounded_date", "bounded_quantity", "clean_text"]
