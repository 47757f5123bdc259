"""Accounts: create (numbered, with a status, at an address), update, groups, occupancy, search.

``create_account`` emits ``account_created`` and ``account_status_changed`` (old status
``None``) after commit. Placing an account at an address opens an occupancy row; a second
current tenant at one address is refused with a field error (and, under a race, by the partial
unique index, whose violation is turned into the same error).
"""
from __future__ import annotations

import sqlalchemy as sa
from marshmallow import ValidationError

from backhaul.core.db import LIKE_ESCAPE, contains_pattern, db, utcnow
from backhaul.core.events import emit

from .addresses import current_occupancy
from .models import Account, AccountGroup, AccountStatus, Address, AddressOccupancy, Contact
from .numbers import next_account_number
from .schemas import AccountSchema, AccountUpdateSchema
from .statuses import default_status, get_status, record_status, set_status


def get_account(account_id: int) -> Account | None:
    return db.session.get(Account, account_id)


def get_account_by_number(number: str) -> Account | None:
    return db.session.scalar(sa.select(Account).where(Account.number == number))


def _parent(parent_id: int | None, account: Account | None = None) -> Account | None:
    if parent_id is None:
        return None
    parent = db.session.get(Account, parent_id)
    if parent is None:
        raise ValidationError({"parent_id": [f"There is no account {parent_id}."]})
    node = parent
    while node is not None:
        if account is not None and node.id == account.id:
            raise ValidationError({"parent_id": ["An account cannot be its own ancestor."]})
        node = node.parent
    return parent


def _groups(names: list[str]) -> list[AccountGroup]:
    """Groups by name, created on first use (they behave like tags)."""
    out = []
    for name in dict.fromkeys(n.strip() for n in names if n and n.strip()):
        group = db.session.scalar(sa.select(AccountGroup).where(AccountGroup.name == name))
        if group is None:
            group = AccountGroup(name=name)
            db.session.add(group)
        out.append(group)
    return out


def create_account(data: dict | None = None, **fields) -> Account:
    """Validate and create an account (``create_account(name="Jane", address_id=3)``)."""
    loaded = AccountSchema().load({**(data or {}), **fields})
    status = get_status(loaded["status"]) if loaded["status"] else default_status()
    parent = _parent(loaded["parent_id"])
    address = _address(loaded["address_id"])
    if address is not None:
        ensure_vacant(address)
    if loaded["number"] and db.session.scalar(
            sa.select(Account.id).where(Account.number == loaded["number"])):
        raise ValidationError({"number": [f"Account number {loaded['number']} is taken."]})
    account = Account(number=loaded["number"] or next_account_number(), name=loaded["name"],
                      account_type=loaded["account_type"], status=status, parent=parent,
                      groups=_groups(loaded["groups"]))
    db.session.add(account)
    db.session.flush()
    if address is not None:
        move_in(account, address)
    emit("account_created", account_id=account.id)
    record_status(account, None, status.key, "created")
    return account


def update_account(account: Account, data: dict) -> Account:
    """Change name, type, parent, groups, status (``reason="manual"``). Not the address:
    moving is :func:`move_in` / the move-out flow, so the occupancy history stays right."""
    loaded = AccountUpdateSchema(partial=True).load(data)
    if "name" in loaded:
        account.name = loaded["name"]
    if "account_type" in loaded:
        account.account_type = loaded["account_type"]
    if "parent_id" in loaded:
        account.parent = _parent(loaded["parent_id"], account)
    if "groups" in loaded:
        account.groups = _groups(loaded["groups"])
    if loaded.get("number") and loaded["number"] != account.number:
        raise ValidationError({"number": ["An account number never changes."]})
    if loaded.get("status"):
        set_status(account, loaded["status"], reason="manual")
    db.session.flush()
    return account


def _address(address_id: int | None) -> Address | None:
    if address_id is None:
        return None
    address = db.session.get(Address, address_id)
    if address is None:
        raise ValidationError({"address_id": [f"There is no address {address_id}."]})
    return address


def ensure_vacant(address: Address, field: str = "address_id") -> None:
    occupancy = current_occupancy(address)
    if occupancy is not None:
        tenant = occupancy.account
        raise ValidationError({field: [
            f"{address.one_line} is occupied by account {tenant.number} ({tenant.name}). "
            "Complete that tenant's move-out first."]})


def move_in(account: Account, address: Address) -> AddressOccupancy:
    """Open an occupancy: ``account`` now lives at ``address`` (which must be vacant)."""
    ensure_vacant(address)
    if db.session.scalar(sa.select(AddressOccupancy.id).where(
            AddressOccupancy.account_id == account.id, AddressOccupancy.ended_at.is_(None))):
        raise ValidationError({"address_id": [f"Account {account.number} already lives at "
                                              "another address: move it out first."]})
    account.address = address
    db.session.flush()
    occupancy = AddressOccupancy(address_id=address.id, account_id=account.id,
                                 started_at=utcnow())
    try:
        with db.session.begin_nested():
            db.session.add(occupancy)
            db.session.flush()
    except sa.exc.IntegrityError:
        raise ValidationError({"address_id": [f"{address.one_line} was just taken by another "
                                              "account. Reload and try again."]}) from None
    return occupancy


def move_out_now(account: Account, reason: str = "move_out") -> AddressOccupancy | None:
    """Close the account's open occupancy (the address becomes vacant). Idempotent."""
    occupancy = db.session.scalar(sa.select(AddressOccupancy).where(
        AddressOccupancy.account_id == account.id, AddressOccupancy.ended_at.is_(None)))
    if occupancy is not None:
        occupancy.ended_at = utcnow()
        occupancy.ended_reason = reason
        db.session.flush()
    return occupancy


def search_accounts(text: str = "", *, status: str | None = None, account_type: str | None = None,
                    group: str | None = None, building_id: int | None = None,
                    meaning: str | None = None):
    """A select of accounts for lists and the GraphQL connection."""
    stmt = sa.select(Account)
    if text:
        like = contains_pattern(text.strip())
        contact_match = sa.select(Contact.id).where(
            Contact.account_id == Account.id,
            sa.or_(Contact.name.ilike(like, escape=LIKE_ESCAPE), Contact.email.ilike(like, escape=LIKE_ESCAPE), Contact.phone.ilike(like, escape=LIKE_ESCAPE)))
        stmt = stmt.where(sa.or_(Account.name.ilike(like, escape=LIKE_ESCAPE), Account.number.ilike(like, escape=LIKE_ESCAPE),
                                 contact_match.exists()))
    if status or meaning:
        stmt = stmt.join(AccountStatus, Account.status_id == AccountStatus.id)
        if status:
            stmt = stmt.where(AccountStatus.key == status)
        if meaning:
            stmt = stmt.where(AccountStatus.meaning == meaning)
    if account_type:
        stmt = stmt.where(Account.account_type == account_type)
    if group:
        stmt = stmt.where(Account.groups.any(AccountGroup.name == group))
    if building_id is not None:
        stmt = stmt.where(Account.address.has(Address.building_id == building_id))
    return stmt.order_by(Account.number)
