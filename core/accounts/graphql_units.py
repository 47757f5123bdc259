"""GraphQL behind the building/unit pages (``schema_units.graphql``): the same domain steps
(``units.py``) behind the same permissions as ``views_units.py``."""
from __future__ import annotations

from pathlib import Path

from backhaul.sdk.graphql import ObjectType

from . import units
from .graphql_mutations import _get, _input, action
from .models import Address, Building

SDL = (Path(__file__).parent / "schema_units.graphql").read_text()

address = ObjectType("Address")
address.set_field("accessNotes", lambda row, _info: units.access_notes(row))


@action("setUnitsServiceability")
def set_units_serviceability(_obj, _info, buildingId, addressIds, input):  # noqa: A002, N803
    from .graphql import int_id

    building = _get(Building, buildingId, "buildingId")
    ids = [int_id(v, "addressIds") for v in addressIds]
    return {"units": units.set_serviceability_many(building, ids, _input(input))}


@action("setUnitAccessNotes")
def set_unit_access_notes(_obj, _info, addressId, notes):  # noqa: N803
    unit = _get(Address, addressId, "addressId")
    units.set_access_notes(unit, notes)
    return {"address": unit}


@action("bookNextTenant")
def book_next_tenant(_obj, _info, input):  # noqa: A002
    data = _input(input)
    data["address_id"] = _get(Address, data["address_id"], "addressId").id
    account, event = units.book_next_tenant(data)
    return {"account": account, "event": event}


BINDABLES = (address,)

__all__ = ["BINDABLES", "SDL"]
