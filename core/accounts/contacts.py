"""Contacts: several per account, exactly one primary, any number financial, preferences per
notification category, and :func:`contacts_for` — who gets a notice of a given category.

Routing rule for ``billing``: the financial contacts get invoices and billing notices; when an
account has none, its primary contact does (the tenant pays). Other categories go to every
contact that opted in. A contact only receives a category on a channel its preferences enable.
"""
from __future__ import annotations

import sqlalchemy as sa
from marshmallow import ValidationError

from backhaul.core.db import db

from .models import PREFERENCE_CATEGORIES, PREFERENCE_CHANNELS, Account, Contact
from .schemas import ContactSchema


def default_preferences() -> dict:
    """A new contact hears about everything by e-mail and nothing by SMS."""
    return {category: {"email": True, "sms": False} for category in PREFERENCE_CATEGORIES}


def merged_preferences(current: dict | None, changes: dict | None) -> dict:
    out = default_preferences()
    for source in (current or {}, changes or {}):
        for category, channels in source.items():
            if category in out:
                out[category].update({c: bool(v) for c, v in channels.items()
                                      if c in PREFERENCE_CHANNELS})
    return out


def _check_duplicate_email(account: Account, email: str | None, exclude: int | None) -> None:
    if not email:
        return
    for other in account.contacts:
        if other.id != exclude and other.email == email:
            raise ValidationError({"email": [f"{other.name} on this account already uses "
                                             f"{email}."]})


def _clear_primary(account: Account, keep: Contact | None = None) -> None:
    for other in account.contacts:
        if other is not keep and other.is_primary:
            other.is_primary = False
    db.session.flush()  # the partial unique index allows one primary at any moment


def add_contact(account: Account, data: dict) -> Contact:
    """Validate and add a contact. The first contact of an account becomes primary."""
    loaded = ContactSchema().load(data)
    _check_duplicate_email(account, loaded["email"], None)
    primary = loaded["is_primary"] or not account.contacts
    if primary:
        _clear_primary(account)
    contact = Contact(name=loaded["name"], email=loaded["email"], phone=loaded["phone"],
                      is_primary=primary, is_financial=loaded["is_financial"],
                      portal_access=loaded["portal_access"],
                      preferences=merged_preferences(None, loaded["preferences"]))
    account.contacts.append(contact)
    db.session.flush()
    return contact


def update_contact(contact: Contact, data: dict) -> Contact:
    """Change some fields of a contact (``is_primary`` can only be switched *to* this one)."""
    loaded = ContactSchema(partial=True).load(data)
    merged = {"email": contact.email, "phone": contact.phone,
              "portal_access": contact.portal_access, **loaded}
    if not merged["email"] and not merged["phone"]:
        raise ValidationError({"email": ["Give an e-mail address or a phone number."]})
    if merged["portal_access"] and not merged["email"]:
        raise ValidationError({"email": ["Portal access needs an e-mail address to sign in "
                                         "with."]})
    if "email" in loaded:
        _check_duplicate_email(contact.account, loaded["email"], contact.id)
    if loaded.get("is_primary") is False and contact.is_primary:
        raise ValidationError({"is_primary": ["Make another contact primary instead: an "
                                              "account always has one primary contact."]})
    for name in ("name", "email", "phone", "is_financial", "portal_access"):
        if name in loaded:
            setattr(contact, name, loaded[name])
    if loaded.get("preferences") is not None:
        contact.preferences = merged_preferences(contact.preferences, loaded["preferences"])
    if loaded.get("is_primary"):
        set_primary(contact)
    db.session.flush()
    return contact


def set_primary(contact: Contact) -> bool:
    """Make ``contact`` the account's one primary contact; ``False`` if it already was."""
    if contact.is_primary:
        return False
    _clear_primary(contact.account, keep=contact)
    contact.is_primary = True
    db.session.flush()
    return True


def set_financial(contact: Contact, financial: bool = True, exclusive: bool = False) -> None:
    """Mark ``contact`` financial (or not); ``exclusive`` unmarks every other contact."""
    contact.is_financial = financial
    if exclusive and financial:
        for other in contact.account.contacts:
            if other is not contact:
                other.is_financial = False
    db.session.flush()


def remove_contact(contact: Contact) -> None:
    account = contact.account
    if contact.is_primary and len(account.contacts) > 1:
        raise ValidationError({"contact": [f"{contact.name} is the primary contact: make "
                                           "another contact primary first."]})
    account.contacts.remove(contact)
    db.session.flush()


def contact_of(account: Account, contact_id: int, field: str = "contact_id") -> Contact:
    """The contact ``contact_id`` of ``account``; a field error if it belongs elsewhere."""
    contact = db.session.scalar(sa.select(Contact).where(Contact.id == contact_id,
                                                         Contact.account_id == account.id))
    if contact is None:
        raise ValidationError({field: [f"Contact {contact_id} is not a contact of account "
                                       f"{account.number}."]})
    return contact


def contacts_for(account: Account, category: str, channel: str | None = None) -> list[Contact]:
    """The contacts that should receive a notice of ``category`` (on ``channel``, if given).

    ``billing`` goes to the financial contacts, or to the primary contact when no contact is
    financial. Other categories go to every contact. Either way, only contacts whose
    preferences enable the category (on that channel, or on any channel) are returned,
    primary first.
    """
    if category not in PREFERENCE_CATEGORIES:
        raise ValueError(f"unknown notification category '{category}'; use one of "
                         f"{', '.join(PREFERENCE_CATEGORIES)}")
    contacts = list(account.contacts)
    if category == "billing":
        financial = [c for c in contacts if c.is_financial]
        contacts = financial or [c for c in contacts if c.is_primary]
    channels = (channel,) if channel else PREFERENCE_CHANNELS
    chosen = [c for c in contacts if any(c.wants(category, ch) for ch in channels)]
    return sorted(chosen, key=lambda c: (not c.is_primary, c.id))
