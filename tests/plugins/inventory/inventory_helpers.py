"""Shared set-up of the inventory tests (on the path through pyproject's pythonpath)."""
from __future__ import annotations

from backhaul.sdk import db

ROUTER_FIELDS = [{"label": "Serial", "key": "serial", "type": "serial", "required": True},
                 {"label": "MAC", "key": "mac", "type": "mac", "required": True},
                 {"label": "IMSI", "key": "imsi", "type": "imsi"},
                 {"label": "Colour", "key": "colour", "type": "choice",
                  "choices": ["black", "white"]}]
SIM_FIELDS = [{"label": "ICCID", "key": "iccid", "type": "iccid", "required": True},
              {"label": "IMSI", "key": "imsi", "type": "imsi"}]
def luhn_digit(body: str) -> str:
    """The check digit that makes ``body + digit`` pass Luhn (independent of values.py)."""
    digits = [int(c) for c in body][::-1]
    total = sum(sum(divmod(d * 2, 10)) if i % 2 == 0 else d for i, d in enumerate(digits))
    return str((10 - total % 10) % 10)


ICCID_BODY = "893102600000012345"          # 18 digits + check digit = 19
GOOD_ICCID = ICCID_BODY + luhn_digit(ICCID_BODY)
BAD_ICCID = ICCID_BODY + str((int(luhn_digit(ICCID_BODY)) + 1) % 10)


RADIO_FIELDS = [{"label": "Serial number", "key": "serial", "type": "serial", "required": True}]


def setup_stock():
    """A warehouse > shelf > two bins, a van; a router (serial+MAC+IMSI), a SIM, a radio and
    a cable (bulk, metres) model. Returns a namespace of them."""
    from types import SimpleNamespace

    from backhaul.plugins.inventory import catalogue

    wh = catalogue.create_location("WH1", "Main warehouse", "warehouse")
    shelf = catalogue.create_location("WH1-A", "Shelf A", "shelf", wh.id)
    bin1 = catalogue.create_location("WH1-A-01", "Bin A-01", "bin", shelf.id)
    bin2 = catalogue.create_location("WH1-A-02", "Bin A-02", "bin", shelf.id)
    van = catalogue.create_location("VAN-1", "Van 1", "van")
    maker = catalogue.create_manufacturer("Acme Networks")
    router = catalogue.create_model(maker.id, "LTE Router 5", "router", ROUTER_FIELDS)
    sim = catalogue.create_model(maker.id, "Data SIM", "sim", SIM_FIELDS)
    radio = catalogue.create_model(maker.id, "AirBeam 5", "radio", RADIO_FIELDS)
    cable = catalogue.create_model(maker.id, "Drop cable", "bulk", [], unit="m")
    db.session.commit()
    return SimpleNamespace(wh=wh, shelf=shelf, bin1=bin1, bin2=bin2, van=van, maker=maker,
                           router=router, sim=sim, radio=radio, cable=cable)


def counts() -> dict[str, int]:
    """Rows in every inventory table: "nothing written" is these staying the same."""
    import sqlalchemy as sa

    from backhaul.plugins.inventory.models import Identifier, Item, Movement

    return {m.__tablename__: db.session.scalar(sa.select(sa.func.count()).select_from(m))
            for m in (Item, Identifier, Movement)}
