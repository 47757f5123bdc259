"""Delinquency: an explicit state machine per account, ``current`` <-> ``delinquent``.

Facts about an account on a day:

* **overdue** — it has *any* finalized invoice (service, rent, a maintenance fee, a late
  fee: every invoice counts) with an amount due whose due date plus the account's grace days
  is before that day;
* **excluded** — the account is excluded from delinquency, or the day is one of the
  configured excluded dates (a holiday, a storm), on which nobody is newly suspended;
* **active** — its account status means "active" (a moved-out or prospect account is never
  suspended by billing).

Transitions (:data:`TRANSITIONS`; anything not listed keeps the state):

=============  ==================================  =============  ==========================
from           when                                to             action
=============  ==================================  =============  ==========================
current        overdue, not excluded, active       delinquent     status -> delinquent status
delinquent     not overdue                         current        status -> previous status,
                                                                  reconnection fee
=============  ==================================  =============  ==========================

Status changes go through ``backhaul.sdk.accounts.set_status`` (reason ``"delinquency"`` /
``"delinquency_cleared"``), so ``account_status_changed`` fires after commit: network
plugins suspend, throttle or redirect, the notifications plugin announces the suspension and
the restoration (its ``accounts.suspended`` / ``accounts.restored`` messages). The nightly job
(:func:`run_nightly`) makes accounts delinquent; a payment, credit note or void restores at
once (:func:`reevaluate`). :func:`preview` answers "who will be suspended tonight, and why".
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

import sqlalchemy as sa

from backhaul.sdk import db, utcnow
from backhaul.sdk.accounts import Account, AccountStatus, get_account, set_status

from . import settings as billing_settings
from .bulk import in_ids
from .models import OPEN_STATUSES, BillingAccount, Delinquency, Invoice

CURRENT, DELINQUENT = "current", "delinquent"

#: (state, event) -> new state. Events: "overdue" (and may be suspended), "cleared".
TRANSITIONS = {(CURRENT, "overdue"): DELINQUENT, (DELINQUENT, "cleared"): CURRENT}


def next_state(state: str, *, overdue: bool, excluded: bool, active: bool) -> str:
    """The state machine itself, as a pure function of the facts."""
    if overdue and not excluded and active:
        return TRANSITIONS.get((state, "overdue"), state)
    if not overdue:
        return TRANSITIONS.get((state, "cleared"), state)
    return state


@dataclass
class OverdueAccount:
    """An account with invoices past due + grace on ``day``, for the preview and the job."""

    account_id: int
    invoices: list[tuple[str, int, date]] = field(default_factory=list)  # number, due, date
    state: str = CURRENT
    excluded: str = ""
    active: bool = True

    @property
    def reason(self) -> str:
        parts = [f"{number} due {due_date.isoformat()}" for number, _, due_date in
                 self.invoices]
        return "unpaid past due + grace: " + ", ".join(parts)


def overdue(day: date, account_ids: list[int] | None = None,
            defaults: billing_settings.Defaults | None = None) -> dict[int, OverdueAccount]:
    """Accounts with any open invoice whose ``due_date + grace < day`` (set-based)."""
    defaults = defaults or billing_settings.load()
    graces = {defaults.grace_days} | set(db.session.scalars(
        sa.select(BillingAccount.grace_days).where(BillingAccount.grace_days.is_not(None))
        .distinct()))
    found: dict[int, OverdueAccount] = {}
    for grace in sorted(graces):
        account_grace = BillingAccount.grace_days == grace
        if grace == defaults.grace_days:
            account_grace = sa.or_(account_grace, BillingAccount.grace_days.is_(None))
        query = (sa.select(Invoice.account_id, Invoice.series, Invoice.number,
                           Invoice.total_amount - Invoice.paid_amount, Invoice.due_date)
                 .join(BillingAccount, BillingAccount.account_id == Invoice.account_id)
                 .where(Invoice.kind == "invoice", Invoice.status.in_(OPEN_STATUSES),
                        Invoice.total_amount > Invoice.paid_amount, account_grace,
                        Invoice.due_date < day - timedelta(days=grace))
                 .order_by(Invoice.account_id, Invoice.due_date, Invoice.id))
        if account_ids is not None:
            query = query.where(in_ids(Invoice.account_id, account_ids))
        for account_id, series, number, due, due_date in db.session.execute(query):
            entry = found.setdefault(account_id, OverdueAccount(account_id))
            entry.invoices.append((f"{series}-{number:06d}", int(due), due_date))
    return found


def _annotate(entries: dict[int, OverdueAccount], day: date,
              defaults: billing_settings.Defaults) -> None:
    if not entries:
        return
    ids = list(entries)
    states = dict(db.session.execute(sa.select(Delinquency.account_id, Delinquency.state)
                                     .where(in_ids(Delinquency.account_id, ids))).all())
    excluded = set(db.session.scalars(sa.select(BillingAccount.account_id).where(
        in_ids(BillingAccount.account_id, ids), BillingAccount.delinquency_excluded)))
    meanings = dict(db.session.execute(
        sa.select(Account.id, AccountStatus.meaning).join(AccountStatus,
                                                          AccountStatus.id == Account.status_id)
        .where(in_ids(Account.id, ids))).all())
    day_excluded = day in defaults.delinquency_excluded_dates
    for account_id, entry in entries.items():
        entry.state = states.get(account_id, CURRENT)
        entry.active = meanings.get(account_id) in ("active", "delinquent")
        if account_id in excluded:
            entry.excluded = "account excluded from delinquency"
        elif day_excluded:
            entry.excluded = f"{day.isoformat()} is an excluded date"


def preview(day: date | None = None, include_spared: bool = False) -> list[OverdueAccount]:
    """Who the nightly job for ``day`` (default: tonight, i.e. tomorrow's date) will make
    delinquent, and why; with ``include_spared``, also the overdue accounts an exclusion
    spares (their ``excluded`` says why)."""
    defaults = billing_settings.load()
    day = day or date.today() + timedelta(days=1)
    entries = overdue(day, defaults=defaults)
    _annotate(entries, day, defaults)
    return [e for e in entries.values() if e.state == CURRENT and e.active and (
        include_spared or not e.excluded)]


#: what the account page's "Standing" badge can say
STANDINGS = ("current", "overdue", "delinquent")


def standing(account_id: int, today: date | None = None) -> str:
    """The account's standing, from the same facts as :func:`preview` (one source of truth).

    ``delinquent``: the state machine says so. ``overdue``: an invoice is past due + grace
    (the nightly job suspends it tonight unless an exclusion spares it) — an account the
    suspension list names is never shown as ``current``. ``current`` otherwise.
    """
    row = db.session.get(Delinquency, account_id)
    if row is not None and row.state == DELINQUENT:
        return DELINQUENT
    tonight = (today or date.today()) + timedelta(days=1)
    return "overdue" if overdue(tonight, [account_id]) else CURRENT


def _state_row(account_id: int) -> Delinquency:
    row = db.session.get(Delinquency, account_id, with_for_update=True)
    if row is None:
        row = Delinquency(account_id=account_id, state=CURRENT, since=utcnow())
        db.session.add(row)
    return row


def _enter(entry: OverdueAccount, defaults: billing_settings.Defaults) -> bool:
    account = get_account(entry.account_id)
    row = _state_row(entry.account_id)
    if row.state == DELINQUENT:
        return False
    row.previous_status = account.status.key
    row.state, row.since, row.reason = DELINQUENT, utcnow(), entry.reason[:500]
    set_status(account, defaults.delinquent_status, reason="delinquency")
    return True


def _leave(account_id: int, defaults: billing_settings.Defaults) -> bool:
    row = _state_row(account_id)
    if row.state != DELINQUENT:
        return False
    since = row.since
    row.state, row.since, row.reason = CURRENT, utcnow(), "paid"
    account = get_account(account_id)
    if account.status.key == defaults.delinquent_status:  # staff may have changed it since
        set_status(account, row.previous_status or defaults.restored_status,
                   reason="delinquency_cleared")
    from .fees import reconnection_fee

    reconnection_fee(account_id, since, defaults)
    return True


def run_nightly(day: date | None = None) -> dict[str, int]:
    """Apply the state machine to every account that is overdue or delinquent on ``day``."""
    defaults = billing_settings.load()
    day = day or date.today()
    entries = overdue(day, defaults=defaults)
    delinquent_ids = set(db.session.scalars(sa.select(Delinquency.account_id)
                                            .where(Delinquency.state == DELINQUENT)))
    _annotate(entries, day, defaults)
    counts: dict[str, int] = defaultdict(int)
    for entry in entries.values():
        if next_state(entry.state, overdue=True, excluded=bool(entry.excluded),
                      active=entry.active) == DELINQUENT and _enter(entry, defaults):
            counts["delinquent"] += 1
    for account_id in sorted(delinquent_ids - set(entries)):
        if _leave(account_id, defaults):
            counts["restored"] += 1
    db.session.commit()
    return dict(counts)


def reevaluate(account_id: int, day: date | None = None) -> str:
    """After money came in (or an invoice was voided or credited): restore if nothing
    overdue is left. Never makes an account delinquent (the nightly job does)."""
    row = db.session.get(Delinquency, account_id)
    if row is None or row.state != DELINQUENT:
        return CURRENT if row is None else row.state
    defaults = billing_settings.load()
    still = overdue(day or date.today(), [account_id], defaults)
    if next_state(DELINQUENT, overdue=bool(still), excluded=False, active=True) == CURRENT:
        _leave(account_id, defaults)
        return CURRENT
    return DELINQUENT


def nightly_job() -> None:
    """The periodic job (once a day, just after midnight UTC)."""
    run_nightly()


__all__ = ["CURRENT", "DELINQUENT", "TRANSITIONS", "OverdueAccount", "next_state",
           "nightly_job", "overdue", "preview", "reevaluate", "run_nightly"]
