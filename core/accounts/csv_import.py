"""Bulk pre-qualification: import addresses from CSV, all or nothing.

Every row is validated before anything is written — the same schema as the address form, plus
duplicates against the database and within the file — and *every* bad row is reported with
its line number, column and reason. Only a file without a single bad row is written, in the
caller's one transaction. A file that is not CSV, not UTF-8 or lacks the required columns is
refused with one clear error saying how to fix it.

Columns (header names are case-insensitive; aliases in brackets): street, unit, city,
region [state, province], postal_code [zip, postcode], country, latitude [lat],
longitude [lon, lng], building, serviceable, technology, max_down_mbps [down_mbps],
max_up_mbps [up_mbps], serviceability_notes [notes]. ``building`` groups the row's address
under that building (created from the row's street address when it does not exist yet).
"""
from __future__ import annotations

import csv
import io
import unicodedata
from dataclasses import dataclass, field

import sqlalchemy as sa
from marshmallow import ValidationError

from backhaul.core.db import db

from .addresses import address_key, building_key
from .fields import default_country
from .models import Address, Building
from .schemas import AddressSchema

MAX_ROWS = 50_000
COLUMNS = ("street", "unit", "city", "region", "postal_code", "country", "latitude",
           "longitude", "building", "serviceable", "technology", "max_down_mbps",
           "max_up_mbps", "serviceability_notes")
ALIASES = {"state": "region", "province": "region", "zip": "postal_code",
           "zip_code": "postal_code", "postcode": "postal_code", "postal": "postal_code",
           "lat": "latitude", "lon": "longitude", "lng": "longitude",
           "down_mbps": "max_down_mbps", "up_mbps": "max_up_mbps",
           "notes": "serviceability_notes", "apt": "unit", "apartment": "unit"}
REQUIRED = ("street", "city")


@dataclass(frozen=True)
class RowError:
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}" if self.line else "file"
        return f"{where}, {self.field}: {self.message}"


class CsvImportError(Exception):
    """The file was refused; ``errors`` lists every problem. Nothing was written."""

    def __init__(self, errors: list[RowError]):
        self.errors = errors
        lines = {e.line for e in errors if e.line}
        summary = (f"{len(lines)} bad row(s); nothing was imported" if lines
                   else errors[0].message)
        super().__init__(summary)


@dataclass
class ImportResult:
    created: list[Address] = field(default_factory=list)
    buildings_created: list[Building] = field(default_factory=list)


def _decode(data: bytes | str) -> str:
    if isinstance(data, str):
        return data
    if b"\x00" in data[:4096]:
        raise CsvImportError([RowError(None, "file", "This looks like a binary file (an Excel "
                                       "workbook?). Export it as CSV (UTF-8) and upload that.")])
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise CsvImportError([RowError(line, "file", (
            f"The file is not UTF-8 encoded (byte 0x{data[exc.start]:02x} on line {line}). "
            "Save it as 'CSV UTF-8' and upload it again."))]) from None


def _header(raw: list[str]) -> list[str]:
    names = []
    for cell in raw:
        name = cell.strip().lower().replace(" ", "_").replace("-", "_")
        names.append(ALIASES.get(name, name))
    unknown = [raw[i] for i, n in enumerate(names) if n not in COLUMNS]
    problems = []
    if unknown:
        problems.append(f"Unknown column(s) {', '.join(repr(u) for u in unknown)}")
    missing = [c for c in REQUIRED if c not in names]
    if missing:
        problems.append(f"Missing required column(s) {', '.join(missing)}")
    doubled = sorted({n for n in names if names.count(n) > 1 and n in COLUMNS})
    if doubled:
        problems.append(f"Column(s) given twice: {', '.join(doubled)}")
    if problems:
        raise CsvImportError([RowError(1, "header", ". ".join(problems) + ". "
                                       f"Columns are: {', '.join(COLUMNS)}.")])
    return names


def read_rows(text: str) -> list[tuple[int, dict]]:
    """``[(line, {column: value})]``; a malformed file raises :class:`CsvImportError`."""
    if not text.strip():
        raise CsvImportError([RowError(None, "file", "The file is empty: it needs a header "
                                       "row (street,unit,city,...) and one row per address.")])
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    rows, errors = [], []
    try:
        header = _header(next(reader))
        line = reader.line_num + 1
        for cells in reader:
            start, line = line, reader.line_num + 1
            if not cells or all(not c.strip() for c in cells):
                continue
            if len(cells) != len(header):
                errors.append(RowError(start, "row", f"{len(cells)} fields, expected "
                                       f"{len(header)} (check for a stray comma or quote)."))
                continue
            rows.append((start, dict(zip(header, cells, strict=True))))
            if len(rows) > MAX_ROWS:
                raise CsvImportError([RowError(None, "file", f"More than {MAX_ROWS} rows: "
                                               "split the file and import the parts.")])
    except csv.Error as exc:
        raise CsvImportError([RowError(reader.line_num, "file", f"Malformed CSV: {exc}. Check "
                                       "the quotes on this line.")]) from None
    if errors:
        raise CsvImportError(errors)
    return rows


def validate_rows(rows: list[tuple[int, dict]]) -> tuple[list[tuple[int, dict]], list[RowError]]:
    schema = AddressSchema()
    valid, errors, seen = [], [], {}
    for line, row in rows:
        building = row.pop("building", "").strip()
        try:
            loaded = schema.load(row)
        except ValidationError as exc:
            for name, messages in sorted(exc.normalized_messages().items()):
                for message in messages if isinstance(messages, list) else [messages]:
                    errors.append(RowError(line, name, str(message)))
            continue
        loaded["country"] = loaded["country"] or default_country()
        loaded["building"] = building
        loaded["key"] = address_key(loaded["street"], loaded["unit"], loaded["city"],
                                    loaded["region"], loaded["postal_code"], loaded["country"])
        if loaded["key"] in seen:
            errors.append(RowError(line, "street", f"Same address as line {seen[loaded['key']]}."))
            continue
        seen[loaded["key"]] = line
        valid.append((line, loaded))
    existing = _existing_keys([loaded["key"] for _, loaded in valid])
    for line, loaded in valid:
        if loaded["key"] in existing:
            errors.append(RowError(line, "street", "This address already exists "
                                   f"(address {existing[loaded['key']]})."))
    errors.sort(key=lambda e: (e.line or 0, e.field))
    return valid, errors


def _existing_keys(keys: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for i in range(0, len(keys), 500):
        chunk = keys[i:i + 500]
        found.update({key: id_ for key, id_ in db.session.execute(
            sa.select(Address.key, Address.id).where(Address.key.in_(chunk)))})
    return found


def name_key(name: str) -> str:
    """How building names compare: Unicode-aware case folding, the same on every database
    (SQLite's ``lower()`` folds ASCII only: "Résidence Les Érables" never matched)."""
    return " ".join(unicodedata.normalize("NFKC", name).casefold().split())


def _known_buildings(keys: set[str]) -> dict[str, Building]:
    """Existing buildings whose name folds to one of ``keys`` (compared in Python)."""
    ids = [id_ for id_, name in db.session.execute(sa.select(Building.id, Building.name))
           if name_key(name) in keys]
    if not ids:
        return {}
    return {name_key(b.name): b for b in db.session.scalars(
        sa.select(Building).where(Building.id.in_(ids)))}


def _buildings(valid: list[tuple[int, dict]]) -> tuple[dict[str, Building], list[RowError]]:
    """Existing buildings by name, new ones from their first row; conflicts are row errors."""
    wanted = {}
    for line, loaded in valid:
        if loaded["building"]:
            wanted.setdefault(name_key(loaded["building"]), (line, loaded))
    known = _known_buildings(set(wanted)) if wanted else {}
    out, errors = {}, []
    for name, (line, loaded) in wanted.items():
        if name in known:
            out[name] = known[name]
            continue
        key = building_key(loaded["street"], loaded["city"], loaded["region"],
                           loaded["postal_code"], loaded["country"])
        clash = db.session.scalar(sa.select(Building).where(Building.key == key))
        if clash is not None:
            errors.append(RowError(line, "building", f"Building '{clash.name}' is already at "
                                   "this street address: use that name."))
            continue
        out[name] = Building(name=loaded["building"], street=loaded["street"],
                             city=loaded["city"], region=loaded["region"],
                             postal_code=loaded["postal_code"], country=loaded["country"],
                             latitude=loaded["latitude"], longitude=loaded["longitude"],
                             key=key)
    return out, errors


def import_addresses(data: bytes | str) -> ImportResult:
    """Validate the whole file, then create every address (in the caller's transaction).

    Raises :class:`CsvImportError` listing every problem when anything is wrong; in that case
    nothing has been added to the session.
    """
    rows = read_rows(_decode(data))
    if not rows:
        raise CsvImportError([RowError(None, "file", "The file has a header but no rows.")])
    valid, errors = validate_rows(rows)
    buildings, building_errors = _buildings(valid)
    errors = sorted(errors + building_errors, key=lambda e: (e.line or 0, e.field))
    if errors:
        raise CsvImportError(errors)
    result = ImportResult()
    for building in buildings.values():
        if building.id is None:
            db.session.add(building)
            result.buildings_created.append(building)
    for _, loaded in valid:
        name = loaded.pop("building")
        loaded.pop("building_id", None)
        result.created.append(Address(building=buildings.get(name_key(name)) if name else None,
                                      **loaded))
    db.session.add_all(result.created)
    db.session.flush()
    return result
