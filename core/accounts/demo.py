"""Demo data for ``backhaul demo load``: two MDU buildings with units, a building owner,
tenants in various statuses (one unit with a moved-out tenant and a new one), notes, calls and
scheduled events.

Idempotent: buildings and units are found by their normalised address, accounts by their
fixed demo numbers (``DEMO-0001``...); anything that exists is left alone, so a second run
changes nothing and a demo record an operator deleted is not re-created piecemeal.
"""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from backhaul.core.db import db, utcnow

from .accounts import create_account, get_account_by_number
from .addresses import building_key, create_address, create_building, find_duplicate
from .buildings import generate_units
from .calls import log_call
from .contacts import add_contact
from .models import Address, Building
from .moves import execute_move_out
from .notes import add_note
from .scheduling import schedule_event
from .statuses import ensure_default_statuses, set_status

BUILDINGS = [
    ({"name": "Maple Court", "street": "12 Maple Street", "city": "Springfield", "region": "IL",
      "postal_code": "62701", "country": "US", "latitude": "39.781700",
      "longitude": "-89.650100", "notes": "Fiber to every unit; MDF in the basement."},
     {"floors": "1-3", "units_per_floor": 8, "serviceable": True, "technology": "fiber",
      "max_down_mbps": 1000, "max_up_mbps": 1000}),
    ({"name": "Harbour View Apartments", "street": "400 Harbour Blvd", "city": "Portland",
      "region": "OR", "postal_code": "97201", "country": "US"},
     {"pattern": "101-112, 201-212, PH1-PH2", "serviceable": True,
      "technology": "fixed_wireless", "max_down_mbps": 300, "max_up_mbps": 50}),
]

#: number, building, unit, name, email, phone, status
TENANTS = [
    ("DEMO-0001", "Maple Court", "101", "Jane Doe", "jane.doe@example.com", "+14155552671",
     "active"),
    ("DEMO-0002", "Maple Court", "102", "Carlos Rivera", "carlos@example.com", "+14155550102",
     "active"),
    ("DEMO-0003", "Maple Court", "103", "Priya Shah", "priya@example.com", None, "delinquent"),
    ("DEMO-0004", "Maple Court", "201", "Tom Becker", None, "+14155550201", "suspended"),
    ("DEMO-0005", "Maple Court", "202", "Mei Lin", "mei.lin@example.com", "+14155550202",
     "prospect"),
    ("DEMO-0006", "Harbour View Apartments", "101", "Sam Okafor", "sam@example.com",
     "+15035550101", "active"),
    ("DEMO-0007", "Harbour View Apartments", "PH1", "Avery Quinn", "avery@example.com",
     "+15035550199", "active"),
]
OWNER = "DEMO-0100"
MOVED_OUT, NEXT_TENANT = "DEMO-0010", "DEMO-0011"


def _building(data: dict, units: dict) -> Building:
    key = building_key(data["street"], data["city"], data["region"], data["postal_code"],
                       data["country"])
    building = db.session.scalar(sa.select(Building).where(Building.key == key))
    if building is None:
        building = create_building(data)
    generate_units(building, units)  # skips units that exist
    return building


def _unit(building: Building, label: str) -> Address:
    return db.session.scalar(sa.select(Address).where(Address.building_id == building.id,
                                                      Address.unit == label))


def _tenant(number: str, address: Address, name: str, email: str | None, phone: str | None,
            status: str, parent=None):
    if get_account_by_number(number) is not None:
        return None
    groups = [address.building.name] if address.building else []
    account = create_account(number=number, name=name, address_id=address.id,
                             status=status if status == "prospect" else None,
                             parent_id=parent.id if parent else None, groups=groups)
    add_contact(account, {"name": name, "email": email, "phone": phone, "is_primary": True,
                          "is_financial": True})
    if status not in ("prospect", "active"):
        set_status(account, status, reason="demo")
    return account


def load(app) -> None:
    ensure_default_statuses()
    buildings = {data["name"]: _building(data, units) for data, units in BUILDINGS}
    if find_duplicate({"street": "9 Elm Street", "unit": "", "city": "Springfield",
                       "region": "IL", "postal_code": "62702", "country": "US"}) is None:
        create_address({"street": "9 Elm Street", "city": "Springfield", "region": "IL",
                        "postal_code": "62702", "country": "US", "serviceable": False,
                        "serviceability_notes": "No line of sight; fiber planned for 2027."})
    maple = buildings["Maple Court"]
    db.session.flush()
    if get_account_by_number(OWNER) is None:
        owner = create_account(number=OWNER, name="Maple Court Holdings LLC",
                               account_type="building_owner", groups=["Building owners"])
        add_contact(owner, {"name": "Dana Holt", "email": "billing@mapleholdings.example",
                            "is_primary": True, "is_financial": True})
    owner = get_account_by_number(OWNER)

    for number, building, unit, name, email, phone, status in TENANTS:
        parent = owner if building == "Maple Court" else None
        account = _tenant(number, _unit(buildings[building], unit), name, email, phone, status,
                          parent)
        if account is not None:
            _extras(account, number)
    _move_history(maple)
    db.session.flush()


def _extras(account, number: str) -> None:
    now = utcnow()
    if number == "DEMO-0001":
        add_note(account, {"body": "Gate code **4321#**. Buzz twice.", "category": "access",
                           "pinned": True})
        add_note(account, {"body": "Friendly dog (Rex) in the unit.", "category": "pets"})
        add_contact(account, {"name": "John Doe", "email": "john.doe@example.com"})
        log_call(account, {"direction": "inbound", "summary": "Wi-Fi drops in the evening; "
                           "moved the router off the floor.", "duration_seconds": 420,
                           "at": (now - timedelta(days=3)).isoformat()})
    elif number == "DEMO-0002":
        add_note(account, {"body": "ONT is in the hallway closet, key with the super.",
                           "category": "cpe_access", "pinned": True})
        schedule_event(account, "move_out", now + timedelta(days=14),
                       {"note": "Lease ends; forwarding address on file."})
    elif number == "DEMO-0003":
        log_call(account, {"direction": "outbound", "summary": "Payment reminder; promised "
                           "to pay Friday.", "duration_seconds": 180})
        schedule_event(account, "change_status", now + timedelta(days=7),
                       {"status": "suspended", "reason": "delinquency"})
    elif number == "DEMO-0005":
        schedule_event(account, "change_status", now + timedelta(days=2),
                       {"status": "active", "reason": "install"})


def _move_history(maple: Building) -> None:
    """Unit 301: a tenant who moved out, and the next tenant living there now."""
    if get_account_by_number(MOVED_OUT) is not None:
        return
    unit = _unit(maple, "301")
    old = _tenant(MOVED_OUT, unit, "Robin Park", "robin@example.com", None, "active")
    add_note(old, {"body": "Forwarding address: 88 Birch Lane, Springfield.",
                   "category": "general"})
    execute_move_out(old)
    _tenant(NEXT_TENANT, unit, "Alex Morgan", "alex@example.com", "+14155550301", "active")
