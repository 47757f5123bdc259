"""Demo data: a usable MDU picture, and running it twice changes nothing."""
import sqlalchemy as sa

from backhaul.core.db import db
from backhaul.sdk.accounts import (
    Account,
    Address,
    AddressOccupancy,
    Building,
    Call,
    Contact,
    Note,
    ScheduledEvent,
    StatusChange,
)

MODELS = (Account, Address, AddressOccupancy, Building, Call, Contact, Note, ScheduledEvent,
          StatusChange)


def counts():
    return {m.__name__: db.session.scalar(sa.select(sa.func.count()).select_from(m))
            for m in MODELS}


def test_demo_is_idempotent(app, cli):
    result = cli("demo", "load")
    assert result.exit_code == 0, result.output
    first = counts()
    assert first["Building"] == 2 and first["Address"] == 24 + 26 + 1
    statuses = set(db.session.scalars(sa.select(Account).join(Account.status)))
    assert {a.status.key for a in statuses} >= {"active", "delinquent", "suspended",
                                                "prospect", "moved_out"}
    assert first["ScheduledEvent"] >= 3 and first["Note"] >= 4
    assert cli("demo", "load").exit_code == 0
    assert counts() == first
    unit = db.session.scalar(sa.select(Address).where(Address.unit == "301"))
    history = db.session.scalars(sa.select(AddressOccupancy).where(
        AddressOccupancy.address_id == unit.id)).all()
    assert len(history) == 2 and sum(o.ended_at is None for o in history) == 1
