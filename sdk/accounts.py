"""The account kernel, as plugins may use it: models and the functions that change accounts.

Plugins (billing, notifications, network...) attach to :class:`Account` by foreign key
(``sa.ForeignKey("core_account.id")``, migrations ``depends_on="core_0004"``) and react to the
events ``account_created`` and ``account_status_changed``. They change accounts only through
the functions below, never by writing the tables, so that history and events stay right.

None of these functions commits: the caller owns the transaction. Invalid input raises
``marshmallow.ValidationError`` whose ``messages`` map field names to messages.
"""
from __future__ import annotations

from backhaul.core.accounts.accounts import (
    create_account,
    get_account,
    get_account_by_number,
    search_accounts,
)
from backhaul.core.accounts.addresses import (
    address_key,
    create_address,
    create_building,
    current_tenant,
    occupancy_history,
)
from backhaul.core.accounts.calls import log_call
from backhaul.core.accounts.contacts import (
    add_contact,
    contacts_for,
    default_preferences,
    remove_contact,
    set_financial,
    set_primary,
    update_contact,
)
from backhaul.core.accounts.fields import normalise_email, normalise_phone
from backhaul.core.accounts.models import (
    NOTE_CATEGORIES,
    PREFERENCE_CATEGORIES,
    PREFERENCE_CHANNELS,
    STATUS_MEANINGS,
    Account,
    AccountGroup,
    AccountStatus,
    Address,
    AddressOccupancy,
    Building,
    Call,
    Contact,
    Note,
    ScheduledEvent,
    StatusChange,
)
from backhaul.core.accounts.moves import onboard_tenant, schedule_move_out
from backhaul.core.accounts.notes import add_note
from backhaul.core.accounts.scheduling import cancel_event, reschedule_event, schedule_event
from backhaul.core.accounts.statuses import all_statuses, get_status, set_status
from backhaul.core.accounts.timeline import build_timeline


def status_meaning(account: Account) -> str:
    """What the system does with the account: active, inactive, delinquent or prospect."""
    return account.status.meaning


def event_target() -> dict:
    """Inside a ``ScheduledActionType`` schema's validators: ``{"account": ..., "address":
    ...}`` of the event being scheduled or run (empty outside one), e.g. to check that a
    subscription id belongs to the account."""
    from marshmallow.experimental.context import Context

    return Context.get(default={}) or {}


__all__ = [
    "NOTE_CATEGORIES",
    "PREFERENCE_CATEGORIES",
    "PREFERENCE_CHANNELS",
    "STATUS_MEANINGS",
    "Account",
    "AccountGroup",
    "AccountStatus",
    "Address",
    "AddressOccupancy",
    "Building",
    "Call",
    "Contact",
    "Note",
    "ScheduledEvent",
    "StatusChange",
    "add_contact",
    "add_note",
    "address_key",
    "all_statuses",
    "build_timeline",
    "cancel_event",
    "contacts_for",
    "create_account",
    "create_address",
    "create_building",
    "current_tenant",
    "default_preferences",
    "event_target",
    "get_account",
    "get_account_by_number",
    "get_status",
    "log_call",
    "normalise_email",
    "normalise_phone",
    "occupancy_history",
    "onboard_tenant",
    "remove_contact",
    "reschedule_event",
    "schedule_event",
    "schedule_move_out",
    "search_accounts",
    "set_financial",
    "set_primary",
    "set_status",
    "status_meaning",
    "update_contact",
]
