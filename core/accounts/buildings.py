"""Generating a building's units from a pattern: "101-124", "101-124, 201-224, PH1-PH2",
"A-D", or floors x units per floor ("1-5" x 8 as "{floor}{unit:02d}" -> 101...508).

Generation is idempotent: units that already exist (by normalised address) are skipped and
reported, never duplicated, so re-running a pattern after adding a floor only adds the floor.
"""
from __future__ import annotations

import re

import sqlalchemy as sa
from marshmallow import ValidationError

from backhaul.core.db import db

from .addresses import address_key
from .models import Address, Building
from .schemas import UnitGenerationSchema

MAX_UNITS = 2000
_RANGE = re.compile(r"^([A-Za-z]*)(\d+)\s*-\s*([A-Za-z]*)(\d+)$")
_LETTERS = re.compile(r"^([A-Za-z])\s*-\s*([A-Za-z])$")


def _numeric_range(match: re.Match, token: str) -> list[str]:
    prefix, start, prefix2, end = match.groups()
    if prefix2 and prefix2.upper() != prefix.upper():
        raise ValueError(f"'{token}': both ends need the same prefix")
    lo, hi = int(start), int(end)
    if lo > hi:
        raise ValueError(f"'{token}' runs backwards: write the lower unit first")
    width = len(start) if start.startswith("0") else 0
    if hi - lo + 1 > MAX_UNITS:
        raise ValueError(f"'{token}' is more than {MAX_UNITS} units")
    return [f"{prefix}{n:0{width}d}" if width else f"{prefix}{n}" for n in range(lo, hi + 1)]


def parse_unit_pattern(pattern: str) -> list[str]:
    """Unit labels for a comma-separated pattern; ``ValueError`` says which token is wrong."""
    labels: list[str] = []
    for token in (t.strip() for t in pattern.split(",")):
        if not token:
            continue
        if match := _RANGE.match(token):
            labels.extend(_numeric_range(match, token))
        elif match := _LETTERS.match(token):
            a, b = match[1].upper(), match[2].upper()
            if a > b:
                raise ValueError(f"'{token}' runs backwards: write the lower letter first")
            labels.extend(chr(c) for c in range(ord(a), ord(b) + 1))
        elif re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9 .\-/]{0,31}", token):
            labels.append(token)
        else:
            raise ValueError(f"'{token}' is not a unit, a range such as 101-124, or A-D")
        if len(labels) > MAX_UNITS:  # checked as it grows: never expand past the limit
            break
    if len(labels) > MAX_UNITS:
        raise ValueError(f"the pattern gives {len(labels)} units; the limit is {MAX_UNITS}")
    return list(dict.fromkeys(labels))


def parse_floors(floors: str) -> list[int]:
    """``"1-5"`` or ``"2,3,5"`` (or a mix) -> floor numbers."""
    out: list[int] = []
    for token in (t.strip() for t in floors.split(",")):
        if not token:
            continue
        if match := re.fullmatch(r"(\d+)\s*-\s*(\d+)", token):
            lo, hi = int(match[1]), int(match[2])
            if lo > hi:
                raise ValueError(f"floors '{token}' run backwards")
            if hi - lo + 1 > MAX_FLOORS or len(out) > MAX_FLOORS:
                raise ValueError(f"more than {MAX_FLOORS} floors")
            out.extend(range(lo, hi + 1))
        elif token.isdigit():
            out.append(int(token))
        else:
            raise ValueError(f"'{token}' is not a floor number or a range such as 1-5")
    return list(dict.fromkeys(out))


MAX_FLOORS = 300
#: ``{floor}`` or ``{unit}``, optionally zero-padded to a small width: ``{unit:02d}``
_PLACEHOLDER = re.compile(r"\{(floor|unit)(?::0([1-6])d)?\}")
_LITERAL = re.compile(r"[A-Za-z0-9 .\-/#]*")


def compile_unit_format(unit_format: str):
    """A unit-label function from a format such as ``{floor}{unit:02d}``.

    Not Python's ``str.format``: that would let staff read attributes
    (``{floor.__class__.__mro__}``) and pad to a million characters (``{unit:>1000000}``).
    Only ``{floor}`` and ``{unit}`` with an optional zero-padded width up to 6, and plain
    letters, digits, spaces and ``.-/#`` between them.
    """
    parts, pos = [], 0
    for match in _PLACEHOLDER.finditer(unit_format):
        literal = unit_format[pos:match.start()]
        if not _LITERAL.fullmatch(literal):
            break
        parts += [literal, (match[1], int(match[2] or 0))]
        pos = match.end()
    tail = unit_format[pos:]
    if not _LITERAL.fullmatch(tail) or "{" in tail or "}" in tail or len(unit_format) > 40 \
            or not any(isinstance(p, tuple) and p[0] == "unit" for p in parts):
        raise ValueError(f"unit format '{unit_format[:40]}' is invalid; use {{floor}} and "
                         "{unit} (optionally zero-padded, e.g. {unit:02d}), such as "
                         "{floor}{unit:02d}")
    parts.append(tail)

    def label(floor: int, unit: int) -> str:
        values = {"floor": floor, "unit": unit}
        return "".join(p if isinstance(p, str) else f"{values[p[0]]:0{p[1]}d}" for p in parts)

    return label


def floor_units(floors: str, per_floor: int, unit_format: str = "{floor}{unit:02d}") -> list[str]:
    label = compile_unit_format(unit_format)
    floor_numbers = parse_floors(floors)
    if len(floor_numbers) * per_floor > MAX_UNITS:  # before generating any of them
        raise ValueError(f"that gives {len(floor_numbers) * per_floor} units; the limit is "
                         f"{MAX_UNITS}")
    labels = [label(floor, unit) for floor in floor_numbers for unit in range(1, per_floor + 1)]
    if len(labels) > MAX_UNITS:
        raise ValueError(f"that gives {len(labels)} units; the limit is {MAX_UNITS}")
    return list(dict.fromkeys(labels))


def unit_labels(loaded: dict) -> list[str]:
    """Labels from a loaded :class:`UnitGenerationSchema`; errors keyed by the field."""
    labels: list[str] = []
    try:
        if loaded["pattern"]:
            labels += parse_unit_pattern(loaded["pattern"])
    except ValueError as exc:
        raise ValidationError({"pattern": [f"{exc}."]}) from None
    if loaded["floors"] and loaded["units_per_floor"]:
        try:
            labels += floor_units(loaded["floors"], loaded["units_per_floor"],
                                  loaded["unit_format"])
        except ValueError as exc:
            raise ValidationError({"floors": [f"{exc}."]}) from None
    if not labels:
        raise ValidationError({"pattern": ["The pattern gives no units."]})
    return list(dict.fromkeys(labels))


def generate_units(building: Building, data: dict) -> tuple[list[Address], list[str]]:
    """Create the building's units; returns ``(created, skipped labels that existed)``."""
    loaded = UnitGenerationSchema().load(data)
    labels = unit_labels(loaded)
    keys = {label: address_key(building.street, label, building.city, building.region,
                               building.postal_code, building.country) for label in labels}
    existing = set(db.session.scalars(sa.select(Address.key)
                                      .where(Address.key.in_(list(keys.values())))))
    created, skipped = [], []
    for label in labels:
        if keys[label] in existing:
            skipped.append(label)
            continue
        existing.add(keys[label])
        created.append(Address(
            building=building, street=building.street, unit=label, city=building.city,
            region=building.region, postal_code=building.postal_code,
            country=building.country, latitude=building.latitude,
            longitude=building.longitude, key=keys[label],
            serviceable=loaded["serviceable"], technology=loaded["technology"],
            max_down_mbps=loaded["max_down_mbps"], max_up_mbps=loaded["max_up_mbps"],
            serviceability_notes=loaded["serviceability_notes"]))
    db.session.add_all(created)
    db.session.flush()
    return created, skipped
