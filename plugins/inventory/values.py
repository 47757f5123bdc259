"""Validate and normalise one field value by its type: the same rules for the intake screen's
instant check, GraphQL, CSV import and the forms. Plain functions, no database.

Each ``normalise_*`` returns the canonical text or raises ``ValueError`` with a message a
person can act on. Canonical forms: MAC ``aa:bb:cc:dd:ee:ff`` (as the network plugin stores
it); IMSI 15 digits; ICCID 19 or 20 digits whose last digit is the Luhn check digit (ITU-T
E.118); serial upper-case without surrounding blanks (scanners add none; people type both
cases); numbers as plain decimals; dates as ISO ``YYYY-MM-DD``.
"""
from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation

_MAC_FORMS = re.compile(
    r"^(?:[0-9a-f]{2}([:-])(?:[0-9a-f]{2}\1){4}[0-9a-f]{2}"  # aa:bb:.. or aa-bb-..
    r"|[0-9a-f]{4}\.[0-9a-f]{4}\.[0-9a-f]{4}"                  # aabb.ccdd.eeff
    r"|[0-9a-f]{12})$")                                       # aabbccddeeff
_SERIAL = re.compile(r"^[A-Z0-9][A-Z0-9._/-]{0,63}$")


def normalise_mac(raw: str) -> str:
    value = raw.strip().lower()
    if not _MAC_FORMS.match(value):
        raise ValueError(f"'{raw.strip()[:40]}' is not a MAC address: 12 hex digits, e.g. "
                         "aa:bb:cc:dd:ee:ff")
    digits = re.sub(r"[^0-9a-f]", "", value)
    return ":".join(digits[i:i + 2] for i in range(0, 12, 2))


def normalise_imsi(raw: str) -> str:
    value = raw.strip()
    if not value.isascii() or not value.isdigit():
        raise ValueError(f"'{value[:40]}' is not an IMSI: digits only")
    if len(value) != 15:
        raise ValueError(f"an IMSI has 15 digits; '{value}' has {len(value)}")
    return value


def luhn_ok(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        d = int(char)
        if position % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def normalise_iccid(raw: str) -> str:
    value = raw.strip().upper().removesuffix("F")  # some SIM readers pad with F
    if not value.isascii() or not value.isdigit():
        raise ValueError(f"'{raw.strip()[:40]}' is not an ICCID: digits only")
    if len(value) not in (19, 20):
        raise ValueError(f"an ICCID has 19 or 20 digits; '{value}' has {len(value)}")
    if not value.startswith("89"):
        raise ValueError(f"an ICCID starts with 89 (telecom); '{value}' does not")
    if not luhn_ok(value):
        raise ValueError(f"'{value}' fails the ICCID check digit: a digit was misread or "
                         "mistyped")
    return value


def normalise_serial(raw: str) -> str:
    value = raw.strip().upper()
    if not _SERIAL.match(value):
        raise ValueError(f"'{raw.strip()[:40]}' is not a serial number: 1-64 letters, digits "
                         "and . _ / - (starting with a letter or digit)")
    return value


def normalise_text(raw: str) -> str:
    value = raw.strip()
    if len(value) > 128 or "\x00" in value:  # the identifier column holds 128
        raise ValueError("at most 128 characters")
    return value


def normalise_number(raw: str) -> str:
    try:
        number = Decimal(str(raw).strip())
    except InvalidOperation:
        raise ValueError(f"'{str(raw)[:40]}' is not a number") from None
    if not number.is_finite() or abs(number) >= Decimal(10) ** 15:
        raise ValueError(f"'{str(raw)[:40]}' is not a number within ±10^15")
    return format(number.normalize(), "f")


def normalise_date(raw: str) -> str:
    try:
        return date.fromisoformat(str(raw).strip()).isoformat()
    except ValueError:
        raise ValueError(f"'{str(raw)[:40]}' is not a date (YYYY-MM-DD)") from None


NORMALISERS = {"mac": normalise_mac, "imsi": normalise_imsi, "iccid": normalise_iccid,
               "serial": normalise_serial, "text": normalise_text, "number": normalise_number,
               "date": normalise_date}


def normalise(field: dict, raw) -> str:
    """The canonical value of ``raw`` for a model field definition (``ValueError`` if bad)."""
    if field["type"] == "choice":
        value = str(raw).strip()
        if value not in field.get("choices", []):
            raise ValueError(f"'{value[:40]}' is not one of {', '.join(field['choices'])}")
        return value
    return NORMALISERS[field["type"]](str(raw))


def guess_kinds(raw: str) -> list[tuple[str, str]]:
    """Every identifier kind ``raw`` could be, normalised: what a scanned value may mean in
    the lookup field (a 15-digit number is an IMSI or a serial)."""
    out = []
    for kind in ("mac", "imsi", "iccid", "serial"):
        try:
            out.append((kind, NORMALISERS[kind](raw)))
        except ValueError:
            pass
    return out
