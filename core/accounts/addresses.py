"""Serviceable addresses (pre-qualification) and buildings: normalisation, duplicates, search.

Two spellings of one place ("12 North Main Street, Apt 4" and "12 N Main St #4") must be
caught as a duplicate, so each address stores a normalised ``key`` (street, unit, city,
region, postal code, country) under a unique constraint. The key is deliberately conservative:
it folds case, punctuation, common abbreviations and unit prefixes, nothing more.
"""
from __future__ import annotations

import re
import unicodedata

import sqlalchemy as sa
from marshmallow import ValidationError

from backhaul.core.db import LIKE_ESCAPE, contains_pattern, db

from .fields import default_country
from .models import Account, Address, AddressOccupancy, Building
from .schemas import AddressSchema, BuildingSchema, ServiceabilitySchema

_ABBREVIATIONS = {
    "street": "st", "str": "st", "avenue": "ave", "av": "ave", "road": "rd", "drive": "dr",
    "boulevard": "blvd", "lane": "ln", "court": "ct", "place": "pl", "terrace": "ter",
    "highway": "hwy", "parkway": "pkwy", "square": "sq", "circle": "cir", "crescent": "cres",
    "north": "n", "south": "s", "east": "e", "west": "w", "northeast": "ne",
    "northwest": "nw", "southeast": "se", "southwest": "sw", "saint": "st", "mount": "mt",
}
_UNIT_PREFIX = re.compile(r"^(?:apartment|apt|unit|suite|ste|flat|no|number|#)\.?\s*#?\s*",
                          re.IGNORECASE)
ADDRESS_FIELDS = ("street", "unit", "city", "region", "postal_code", "country", "latitude",
                  "longitude", "serviceable", "technology", "max_down_mbps", "max_up_mbps",
                  "serviceability_notes", "building_id")


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text or "")
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    return re.sub(r"[^a-z0-9]+", " ", text).strip()


def normalise_street(street: str) -> str:
    return " ".join(_ABBREVIATIONS.get(w, w) for w in _fold(street).split())


def normalise_unit(unit: str) -> str:
    """``"Apt. 4B"``, ``"#4b"``, ``"unit 4-B"`` -> ``"4B"``."""
    text = _UNIT_PREFIX.sub("", (unit or "").strip())
    return re.sub(r"[^A-Za-z0-9]", "", text).upper()


def normalise_postal(postal_code: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", "", postal_code or "").upper()


def address_key(street: str, unit: str, city: str, region: str, postal_code: str,
                country: str) -> str:
    """The duplicate detector: equal keys mean the same dwelling."""
    return "|".join([normalise_street(street), normalise_unit(unit), _fold(city),
                     _fold(region), normalise_postal(postal_code), (country or "").upper()])


def building_key(street: str, city: str, region: str, postal_code: str, country: str) -> str:
    return address_key(street, "", city, region, postal_code, country)


def _with_country(loaded: dict) -> dict:
    loaded["country"] = loaded.get("country") or default_country()
    return loaded


# ------------------------------------------------------------------------------ buildings
def create_building(data: dict) -> Building:
    loaded = _with_country(BuildingSchema().load(data))
    key = building_key(loaded["street"], loaded["city"], loaded["region"],
                       loaded["postal_code"], loaded["country"])
    existing = db.session.scalar(sa.select(Building).where(Building.key == key))
    if existing is not None:
        raise ValidationError({"street": [f"Building '{existing.name}' is already at this "
                                          "address."]})
    building = Building(key=key, **loaded)
    db.session.add(building)
    db.session.flush()
    return building


def update_building(building: Building, data: dict) -> Building:
    current = {f: getattr(building, f) for f in BuildingSchema().fields}
    loaded = _with_country(BuildingSchema().load({**_plain(current), **data}))
    key = building_key(loaded["street"], loaded["city"], loaded["region"],
                       loaded["postal_code"], loaded["country"])
    clash = db.session.scalar(sa.select(Building).where(Building.key == key,
                                                        Building.id != building.id))
    if clash is not None:
        raise ValidationError({"street": [f"Building '{clash.name}' is already at this "
                                          "address."]})
    for name, value in loaded.items():
        setattr(building, name, value)
    building.key = key
    db.session.flush()
    return building


def _plain(values: dict) -> dict:
    """Model values in the shape a schema loads (numbers as strings are fine)."""
    return {k: (str(v) if v is not None and k in ("latitude", "longitude") else v)
            for k, v in values.items() if v is not None}


# ------------------------------------------------------------------------------ addresses
def find_duplicate(data: dict, exclude_id: int | None = None) -> Address | None:
    key = address_key(data["street"], data.get("unit", ""), data["city"],
                      data.get("region", ""), data.get("postal_code", ""), data["country"])
    stmt = sa.select(Address).where(Address.key == key)
    if exclude_id is not None:
        stmt = stmt.where(Address.id != exclude_id)
    return db.session.scalar(stmt)


def _duplicate_error(existing: Address) -> ValidationError:
    return ValidationError({"street": [f"This address already exists: {existing.one_line} "
                                       f"(address {existing.id})."]})


def create_address(data: dict) -> Address:
    """Validate and create one address; a duplicate is a field-level error on ``street``."""
    loaded = _with_country(AddressSchema().load(data))
    _check_building(loaded.get("building_id"))
    existing = find_duplicate(loaded)
    if existing is not None:
        raise _duplicate_error(existing)
    address = Address(key=address_key(loaded["street"], loaded["unit"], loaded["city"],
                                       loaded["region"], loaded["postal_code"],
                                       loaded["country"]), **loaded)
    db.session.add(address)
    db.session.flush()
    return address


def update_address(address: Address, data: dict) -> Address:
    current = {f: getattr(address, f) for f in ADDRESS_FIELDS}
    loaded = _with_country(AddressSchema().load({**_plain(current), **data}))
    _check_building(loaded.get("building_id"))
    existing = find_duplicate(loaded, exclude_id=address.id)
    if existing is not None:
        raise _duplicate_error(existing)
    for name, value in loaded.items():
        setattr(address, name, value)
    address.key = address_key(address.street, address.unit, address.city, address.region,
                              address.postal_code, address.country)
    db.session.flush()
    return address


def set_serviceability(address: Address, data: dict) -> Address:
    loaded = ServiceabilitySchema().load(data)
    for name, value in loaded.items():
        setattr(address, name, value)
    db.session.flush()
    return address


def _check_building(building_id: int | None) -> None:
    if building_id is not None and db.session.get(Building, building_id) is None:
        raise ValidationError({"building_id": [f"There is no building {building_id}."]})


# ------------------------------------------------------------------------------ occupancy
def current_occupancy(address: Address) -> AddressOccupancy | None:
    return db.session.scalar(sa.select(AddressOccupancy).where(
        AddressOccupancy.address_id == address.id, AddressOccupancy.ended_at.is_(None)))


def current_tenant(address: Address) -> Account | None:
    occupancy = current_occupancy(address)
    return occupancy.account if occupancy else None


def occupancy_history(address: Address) -> list[AddressOccupancy]:
    return list(db.session.scalars(sa.select(AddressOccupancy)
                                   .where(AddressOccupancy.address_id == address.id)
                                   .order_by(AddressOccupancy.started_at.desc(),
                                             AddressOccupancy.id.desc())))


# ------------------------------------------------------------------------------ search
def search_addresses(text: str = "", *, building_id: int | None = None,
                     serviceable: bool | None = None, occupied: bool | None = None,
                     technology: str | None = None):
    """A select of addresses matching the filters (the caller pages through it)."""
    stmt = sa.select(Address)
    if text:
        for word in _fold(text).split():
            like = contains_pattern(word)
            stmt = stmt.where(sa.or_(Address.key.ilike(like, escape=LIKE_ESCAPE), Address.street.ilike(like, escape=LIKE_ESCAPE),
                                     Address.unit.ilike(like, escape=LIKE_ESCAPE), Address.city.ilike(like, escape=LIKE_ESCAPE)))
    if building_id is not None:
        stmt = stmt.where(Address.building_id == building_id)
    if serviceable is not None:
        stmt = stmt.where(Address.serviceable.is_(serviceable))
    if technology:
        stmt = stmt.where(Address.technology == technology)
    if occupied is not None:
        open_rows = sa.select(AddressOccupancy.id).where(
            AddressOccupancy.address_id == Address.id, AddressOccupancy.ended_at.is_(None))
        stmt = stmt.where(open_rows.exists() if occupied else ~open_rows.exists())
    return stmt.order_by(Address.street, Address.city, Address.unit, Address.id)


def search_buildings(text: str = ""):
    stmt = sa.select(Building)
    if text:
        for word in _fold(text).split():
            like = contains_pattern(word)
            stmt = stmt.where(sa.or_(Building.name.ilike(like, escape=LIKE_ESCAPE), Building.key.ilike(like, escape=LIKE_ESCAPE)))
    return stmt.order_by(Building.name, Building.id)
