"""One chunk of the billing run, written set-based in the caller's transaction.

:func:`bill_chunk` loads the chunk's snapshots (:mod:`.snapshot`), composes every invoice
(:mod:`.compose`), and writes everything with one statement per table (:mod:`.bulk`):
invoices (numbered from one block of the gap-free counter), their lines, the ledger rows,
billed-through dates, consumed charges and adjustments, the accounts' next period, the run's
items and counters. Then it applies any credit the accounts hold, emits
``invoice_finalized`` per invoice (after commit) and enqueues one auto-pay job and one
delivery job for the whole chunk. An account whose composition fails (a plugin's
``invoice_lines`` raising, bad data) becomes a ``failed`` item; the others are billed.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import sqlalchemy as sa

from backhaul.sdk import db, emit, hook_implementers, utcnow

from . import followups, ledger, numbering
from . import settings as billing_settings
from .bulk import in_ids, insert_rows, update_rows
from .models import (
    Adjustment,
    Allocation,
    BillingAccount,
    Charge,
    Invoice,
    InvoiceLine,
    Payment,
    Run,
    RunItem,
    Subscription,
    Transaction,
)
from .snapshot import AccountSnapshot, Catalogue, load_accounts


@dataclass
class Chunk:
    invoiced: int = 0
    empty: int = 0
    failed: int = 0
    invoice_ids: list[int] = field(default_factory=list)


def period_key(account_id: int, start: date) -> str:
    return f"period:{account_id}:{start.isoformat()}"


def _sign(draft) -> int:
    """-1 for a period whose credits exceed its charges: it is issued as a credit note."""
    return -1 if draft.total.amount < 0 else 1


def _invoice_row(run: Run, snap: AccountSnapshot, draft, number: int, series: str) -> dict:
    sign = _sign(draft)
    total = sign * draft.total.amount
    return {"account_id": snap.account_id, "kind": "invoice" if sign > 0 else "credit_note",
            "series": series, "number": number,
            "status": ledger.status_for(total, 0) if sign > 0 else "finalized",
            "currency": draft.currency, "issue_date": run.run_date,
            "due_date": run.run_date + timedelta(days=snap.due_days) if sign > 0 else None,
            "period_start": snap.period.start, "period_end": snap.period.end,
            "subtotal_amount": sign * draft.subtotal.amount,
            "tax_amount": sign * draft.tax_total.amount, "total_amount": total,
            "paid_amount": 0, "key": period_key(snap.account_id, snap.period.start),
            "run_id": run.id, "finalized_at": utcnow()}


def _line_rows(invoice_id: int, draft) -> list[dict]:
    sign = _sign(draft)
    return [{"invoice_id": invoice_id, "position": i, "kind": line.kind,
             "description": line.description[:300], "quantity": line.quantity,
             "unit_price_amount": sign * line.unit_price.amount,
             "amount": sign * line.amount.amount,
             "tax_class": line.tax_class, "tax_rate": line.tax_rate,
             "tax_amount": sign * line.tax.amount,
             "period_start": line.period.start if line.period else None,
             "period_end": line.period.end if line.period else None,
             "subscription_id": line.subscription_id, "charge_id": line.charge_id,
             "adjustment_id": line.adjustment_id, "source": line.source}
            for i, line in enumerate(draft.lines)]


def compose_all(snaps: dict[int, AccountSnapshot], catalogue: Catalogue):
    drafts, errors = {}, {}
    for account_id, snap in snaps.items():
        if snap.error:
            errors[account_id] = snap.error
            continue
        try:
            drafts[account_id] = snap.compose(catalogue.tax_rates)
        except Exception as exc:  # bad data for one account must not stop the chunk
            errors[account_id] = f"{type(exc).__name__}: {exc}"
    return drafts, errors


def bill_chunk(run: Run, rows, catalogue: Catalogue,
               defaults: billing_settings.Defaults, collect: list | None = None) -> Chunk:
    """Invoice one chunk of due accounts in the current transaction (no commit).

    ``collect`` receives ``(account_id, period_start, draft, error)`` per account: the run
    preview bills inside a savepoint it rolls back, so it shows exactly what the run does.
    """
    snaps = load_accounts(rows, catalogue, defaults)
    drafts, errors = compose_all(snaps, catalogue)
    if collect is not None:
        collect.extend((aid, snap.period.start, drafts.get(aid), errors.get(aid))
                       for aid, snap in snaps.items())
    billed = [(aid, d) for aid, d in drafts.items() if not d.is_empty]
    numbers = _numbers(billed, defaults)
    ids = insert_rows(Invoice.__table__, [
        _invoice_row(run, snaps[aid], d, numbers[aid][1], numbers[aid][0])
        for aid, d in billed], returning="id", lookup="key")
    invoice_of = {aid: iid for (aid, _), iid in zip(billed, ids, strict=True)}
    insert_rows(InvoiceLine.__table__, [row for (aid, d) in billed
                                        for row in _line_rows(invoice_of[aid], d)])
    insert_rows(Transaction.__table__, [
        {"account_id": aid, "kind": "invoice" if _sign(d) > 0 else "credit_note",
         "amount": d.total.amount, "currency": d.currency, "invoice_id": invoice_of[aid],
         "created_at": utcnow(), "memo": "{} {}-{:06d}".format(
             "Invoice" if _sign(d) > 0 else "Credit note", *numbers[aid])}
        for aid, d in billed])
    update_rows(Subscription.__table__, "id", [
        {"id": sid, "billed_through": through} for aid, d in drafts.items()
        for sid, through in d.billed_through.items()
        if through != _billed_before(snaps[aid], sid)])
    update_rows(Charge.__table__, "id", [{"id": cid, "invoice_id": invoice_of[aid]}
                                         for aid, d in billed for cid in d.charge_ids])
    update_rows(Adjustment.__table__, "id", _adjustment_updates(snaps, billed))
    update_rows(BillingAccount.__table__, "account_id", [
        {"account_id": aid, "next_period_start": snaps[aid].period.end} for aid in drafts])
    insert_rows(RunItem.__table__, _items(run, snaps, drafts, invoice_of, errors))
    _apply_credit(list(invoice_of), defaults)
    chunk = Chunk(invoiced=len(billed), empty=len(drafts) - len(billed), failed=len(errors),
                  invoice_ids=ids)
    counters(run, chunk)
    invoices = {aid: iid for aid, d in billed if _sign(d) > 0 for iid in (invoice_of[aid],)}
    if hook_implementers("invoice_finalized"):  # nobody listening: nothing to deliver
        for aid, iid in invoices.items():
            emit("invoice_finalized", invoice_id=iid, account_id=aid)
    if invoices:
        first_id = min(invoices.values())
        followups.invoices_issued(list(invoices.values()), key=f"run:{run.id}:{first_id}",
                                  accounts={iid: aid for aid, iid in invoices.items()})
    return chunk


def _numbers(billed, defaults: billing_settings.Defaults) -> dict[int, tuple[str, int]]:
    """``{account: (series, number)}``: one block of each series' gap-free counter."""
    out: dict[int, tuple[str, int]] = {}
    for series, wanted in ((defaults.invoice_series, 1), (defaults.credit_note_series, -1)):
        accounts = [aid for aid, d in billed if _sign(d) == wanted]
        if accounts:
            first = numbering.take(series, len(accounts))
            out.update({aid: (series, first + i) for i, aid in enumerate(accounts)})
    return out


def _items(run, snaps, drafts, invoice_of, errors) -> list[dict]:
    """Run items for the accounts that got no invoice: nothing to bill, or failed (an
    invoiced account is on record through its invoice's ``run_id``). Same keys in every row
    (one statement)."""
    rows = [{"run_id": run.id, "account_id": aid, "period_start": snaps[aid].period.start,
             "status": "empty", "invoice_id": None, "created_at": utcnow(), "error": None}
            for aid in drafts if aid not in invoice_of]
    rows += [{"run_id": run.id, "account_id": aid, "period_start": snaps[aid].period.start,
              "status": "failed", "invoice_id": None, "created_at": utcnow(),
              "error": err[:4000]} for aid, err in errors.items()]
    return rows


def _billed_before(snap: AccountSnapshot, subscription_id: int):
    for line in snap.subscriptions:
        if line.terms.id == subscription_id:
            return line.terms.billed_through
    return None


def _adjustment_updates(snaps, billed) -> list[dict]:
    updates = []
    for aid, draft in billed:
        terms = {a.id: a for a in snaps[aid].adjustments}
        for adj_id, used in draft.adjustments_used.items():
            adj = terms[adj_id]
            left = adj.remaining.amount - used.amount if adj.remaining is not None else 0
            updates.append({"id": adj_id, "remaining": left if adj.remaining is not None
                            else None, "exhausted": left <= 0})
    return updates


def _apply_credit(account_ids: list[int], defaults: billing_settings.Defaults) -> None:
    """Accounts of the chunk that hold unallocated credit pay their new invoice from it."""
    if not account_ids:
        return
    used = (sa.select(sa.func.coalesce(sa.func.sum(Allocation.amount), 0))
            .where(Allocation.payment_id == Payment.id).scalar_subquery())
    with_payments = sa.select(Payment.account_id).where(
        in_ids(Payment.account_id, account_ids), Payment.status == "completed",
        Payment.amount - Payment.refunded_amount > used)
    with_notes = sa.select(Invoice.account_id).where(
        in_ids(Invoice.account_id, account_ids), Invoice.kind == "credit_note",
        Invoice.status == "finalized", Invoice.total_amount > Invoice.paid_amount)
    for account_id in sorted(set(db.session.scalars(sa.union(with_payments, with_notes)))):
        ledger.apply_credit(account_id, defaults.allocation_order)


def counters(run: Run, chunk: Chunk) -> None:
    db.session.execute(sa.update(Run).where(Run.id == run.id).values(
        invoiced=Run.invoiced + chunk.invoiced, empty=Run.empty + chunk.empty,
        failed=Run.failed + chunk.failed,
        accounts_due=Run.accounts_due + chunk.invoiced + chunk.empty + chunk.failed))


__all__ = ["Chunk", "bill_chunk", "compose_all", "counters", "period_key"]
