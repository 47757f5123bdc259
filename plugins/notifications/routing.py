"""Who receives a message: contact preferences per category, financial contacts for billing.

* A non-essential message goes to the contacts :func:`backhaul.sdk.accounts.contacts_for`
  returns for its category and medium (billing: the financial contacts, or the primary one
  when none is financial; others: every contact) — their preferences decide.
* An essential message (suspension, security) goes to the same people *whatever their
  preferences*: they cannot opt out of it. ``security`` goes to the primary contact only.
* A contact without an address for the medium (no phone for SMS) is left out.

Plain functions over the account's loaded contacts: no Flask, no queries of their own.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from backhaul.sdk.accounts import PREFERENCE_CATEGORIES, contacts_for

from .channels import TEMPLATED_MEDIA


@dataclass(frozen=True)
class Exclusion:
    contact: object
    reason: str


def candidates(contacts: Iterable, category: str) -> list:
    """Who a message of ``category`` is *for*, before preferences (primary first)."""
    contacts = sorted(contacts, key=lambda c: (not c.is_primary, c.id or 0))
    if category == "security":
        return [c for c in contacts if c.is_primary]
    if category == "billing":
        financial = [c for c in contacts if c.is_financial]
        return financial or [c for c in contacts if c.is_primary]
    return contacts


def address_of(contact, medium: str) -> str | None:
    return getattr(contact, TEMPLATED_MEDIA.get(medium, "email"), None) or None


def route(account, category: str, essential: bool, medium: str) -> tuple[list, list[Exclusion]]:
    """``(recipients, exclusions)`` for one medium; exclusions explain the preview."""
    pool = candidates(account.contacts, category)
    if essential or category not in PREFERENCE_CATEGORIES:
        wanted = pool
    else:
        wanted = contacts_for(account, category, medium)
    chosen, excluded = [], []
    for contact in pool:
        if contact not in wanted:
            excluded.append(Exclusion(contact, f"opted out of {category} by {medium}"))
        elif not address_of(contact, medium):
            excluded.append(Exclusion(contact, f"no {TEMPLATED_MEDIA.get(medium, medium)}"))
        else:
            chosen.append(contact)
    return chosen, excluded

