"""Demo data for ``backhaul demo load``: a warehouse with a shelf and two bins, a van, three
models (a router by serial and MAC, a SIM by IMSI and ICCID, drop cable by the metre), a few
DEMO items in stock, and the first demo tenant's router installed on its account. Idempotent:
everything is looked up by its code or identifier before it is made."""
from __future__ import annotations

import sqlalchemy as sa

from backhaul.sdk import db
from backhaul.sdk.accounts import Account

from . import catalogue, stock
from .models import Item, ItemModel, Location, Manufacturer

LOCATIONS = (("DEMO-WH1", "Main warehouse", "warehouse", None),
             ("DEMO-WH1-A", "Shelf A", "shelf", "DEMO-WH1"),
             ("DEMO-WH1-A-01", "Bin A-01", "bin", "DEMO-WH1-A"),
             ("DEMO-WH1-A-02", "Bin A-02", "bin", "DEMO-WH1-A"),
             ("DEMO-VAN1", "Van 1", "van", None))
ROUTER_FIELDS = [{"label": "Serial", "key": "serial", "type": "serial", "required": True},
                 {"label": "MAC", "key": "mac", "type": "mac", "required": True}]
SIM_FIELDS = [{"label": "IMSI", "key": "imsi", "type": "imsi", "required": True},
              {"label": "ICCID", "key": "iccid", "type": "iccid", "required": True},
              {"label": "Plan", "key": "plan", "type": "choice", "choices": ["data", "iot"]}]
ROUTERS = [{"serial": f"DEMO-RB{n:04d}", "mac": f"64:d1:54:00:00:{n:02x}"} for n in range(1, 6)]
# ICCIDs with a correct Luhn check digit
SIMS = [{"imsi": f"31026000000000{n}", "iccid": iccid, "plan": "data"}
        for n, iccid in ((1, "8901260000000000014"), (2, "8901260000000000022"))]


def _model(maker: Manufacturer, name, category, fields, unit="") -> ItemModel:
    return db.session.scalar(sa.select(ItemModel).where(
        ItemModel.manufacturer_id == maker.id, ItemModel.name == name)) or \
        catalogue.create_model(maker.id, name, category, fields, unit=unit)


def load_demo() -> None:
    by_code = {loc.code: loc for loc in db.session.scalars(sa.select(Location))}
    for code, name, kind, parent in LOCATIONS:
        if code not in by_code:
            by_code[code] = catalogue.create_location(
                code, name, kind, by_code[parent].id if parent else None)
    makers = {}
    for name in ("MikroTik", "Demo Mobile", "Generic"):
        makers[name] = db.session.scalar(sa.select(Manufacturer).where(
            Manufacturer.name == name)) or catalogue.create_manufacturer(name)
    router = _model(makers["MikroTik"], "hAP ax2", "router", ROUTER_FIELDS)
    sim = _model(makers["Demo Mobile"], "Data SIM", "sim", SIM_FIELDS)
    cable = _model(makers["Generic"], "Drop cable", "bulk", [], unit="m")
    new = [r for r in ROUTERS if stock.find("serial", r["serial"]) is None]
    if new:
        stock.receive(router.id, by_code["DEMO-WH1-A-01"].id, new, reference="demo")
    new = [s for s in SIMS if stock.find("imsi", s["imsi"]) is None]
    if new:
        stock.receive(sim.id, by_code["DEMO-WH1-A-02"].id, new, reference="demo")
    if db.session.scalar(sa.select(Item.id).where(Item.model_id == cable.id)) is None:
        stock.receive(cable.id, by_code["DEMO-VAN1"].id, quantity="305", reference="demo")
    account = db.session.scalar(sa.select(Account).where(Account.number.like("DEMO-%"))
                                .order_by(Account.id).limit(1))
    first = stock.find("serial", ROUTERS[0]["serial"])
    if account is not None and first is not None and first.status == "in_stock":
        stock.assign(first, "account", account.id, install=True, reference="demo")
    db.session.commit()
