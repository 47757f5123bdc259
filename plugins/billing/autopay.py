"""Auto-pay: charge a finalized invoice to the account's stored payment method.

One attempt = one ``billing_payment_attempt`` row with its own idempotency key
(``autopay:<invoice>:<attempt no>``), **committed before the gateway is called**. So:

* a worker that dies after the call but before recording the answer leaves a ``requested``
  attempt; running the job again calls the gateway with the *same* key, and the gateway
  (by the ``PaymentGateway`` contract) does not charge twice;
* a gateway that raises (timeout: we do not know what happened) leaves ``undefined``;
  :func:`reconcile` asks the gateway later (``fetch``) or repeats the keyed call;
* the answer is recorded whenever it comes — from the call, from :func:`reconcile`, or from
  a webhook through :func:`record_answer` — and a late "processed" still records the payment
  (money moved: if the invoice was paid meanwhile it becomes credit), marked ``late``.

A declined attempt (``error``/``canceled``) schedules the next one on the dunning schedule
(setting ``dunning_schedule``, days after the failure) and notifies the customer; after the
last one, the invoice waits for a manual payment (and delinquency takes its course).
"""
from __future__ import annotations

import logging
from datetime import date, timedelta

import sqlalchemy as sa

from backhaul.sdk import Money, PaymentResult, PaymentStatus, db, enqueue, registered, utcnow

from . import ledger
from . import settings as billing_settings
from .bulk import in_ids
from .delivery import invoice_context
from .models import OPEN_STATUSES, BillingAccount, Invoice, PaymentAttempt, PaymentMethod

log = logging.getLogger("backhaul.billing.autopay")
FINAL = ("processed", "error", "canceled")


def add_payment_method(account_id: int, gateway: str, method_ref: str, label: str = "",
                       make_default: bool = True) -> PaymentMethod:
    """Store a gateway's token for an account (never card data)."""
    from .errors import invalid

    if gateway not in registered("payment_gateways"):
        raise invalid("gateway", f"no payment gateway '{gateway}' is enabled")
    if not method_ref.strip():
        raise invalid("method_ref", "the gateway's payment method reference is required")
    if make_default:
        db.session.execute(sa.update(PaymentMethod).where(PaymentMethod.account_id == account_id)
                           .values(is_default=False))
    method = PaymentMethod(account_id=account_id, gateway=gateway, method_ref=method_ref,
                           label=label, is_default=make_default)
    db.session.add(method)
    db.session.flush()
    return method


def _autopay_accounts(account_ids: set[int], default: bool) -> set[int]:
    """Those of ``account_ids`` that pay automatically and have a default method."""
    if default:  # everyone but the accounts that opted out
        opted_out = set(db.session.scalars(sa.select(BillingAccount.account_id).where(
            in_ids(BillingAccount.account_id, account_ids),
            BillingAccount.autopay.is_(False))))
        wanted = account_ids - opted_out
    else:  # only the accounts that opted in (usually few)
        wanted = set(db.session.scalars(sa.select(BillingAccount.account_id).where(
            in_ids(BillingAccount.account_id, account_ids), BillingAccount.autopay.is_(True))))
    if not wanted:
        return set()
    return set(db.session.scalars(sa.select(PaymentMethod.account_id).where(
        in_ids(PaymentMethod.account_id, wanted), PaymentMethod.is_default)))


def schedule_for_invoices(invoice_ids: list[int], key: str,
                          accounts: dict[int, int] | None = None) -> bool:
    """Enqueue one auto-pay job for those of ``invoice_ids`` whose account pays
    automatically (a SELECT or two, one job: the billing run calls this once per chunk,
    passing ``accounts`` = ``{invoice id: account id}``; the job skips paid invoices)."""
    if not invoice_ids:
        return False
    if accounts is None:
        accounts = dict(db.session.execute(sa.select(Invoice.id, Invoice.account_id).where(
            in_ids(Invoice.id, invoice_ids), Invoice.status.in_(OPEN_STATUSES))).all())
    paying = _autopay_accounts(set(accounts.values()), billing_settings.load().autopay)
    ids = [iid for iid in invoice_ids if accounts.get(iid) in paying]
    if not ids:
        return False
    enqueue(charge_invoices, ids, key=key, queue="billing")
    return True


def charge_invoices(invoice_ids: list[int]) -> None:
    """The job: one attempt per invoice (each committed on its own)."""
    for invoice_id in invoice_ids:
        attempt(invoice_id)


def _method(account_id: int) -> PaymentMethod | None:
    return db.session.scalar(sa.select(PaymentMethod).where(
        PaymentMethod.account_id == account_id, PaymentMethod.is_default)
        .order_by(PaymentMethod.id.desc()).limit(1))


def attempt(invoice_id: int, attempt_no: int | None = None) -> PaymentAttempt | None:
    """Make (or resume) attempt ``attempt_no`` (default: the next one) on an invoice."""
    invoice = db.session.get(Invoice, invoice_id)
    if attempt_no is None:
        last = db.session.scalar(sa.select(sa.func.max(PaymentAttempt.attempt_no))
                                 .where(PaymentAttempt.invoice_id == invoice_id)) or 0
        attempt_no = last + 1
    key = f"autopay:{invoice_id}:{attempt_no}"
    row = db.session.scalar(sa.select(PaymentAttempt).where(
        PaymentAttempt.idempotency_key == key))
    if row is None:
        if invoice is None or invoice.status not in OPEN_STATUSES:
            return None
        method = _method(invoice.account_id)
        if method is None:
            return None
        row = PaymentAttempt(invoice_id=invoice_id, account_id=invoice.account_id,
                             attempt_no=attempt_no, idempotency_key=key,
                             gateway=method.gateway, method_ref=method.method_ref,
                             amount=invoice.amount_due.amount, currency=invoice.currency)
        db.session.add(row)
        db.session.commit()  # the key exists before any money can move
    elif row.status != "requested":
        return row  # answered already: a duplicate delivery of the job
    _call(row)
    return row


def _call(row: PaymentAttempt) -> None:
    gateway = registered("payment_gateways").get(row.gateway)
    if gateway is None:
        row.status, row.message = "undefined", f"gateway '{row.gateway}' is not enabled"
        db.session.commit()
        return
    try:
        result = gateway.purchase(Money(row.amount, row.currency), row.method_ref,
                                  idempotency_key=row.idempotency_key,
                                  description=f"Invoice #{row.invoice_id}",
                                  metadata={"invoice_id": row.invoice_id,
                                            "attempt": row.attempt_no,
                                            "idempotency_key": row.idempotency_key})
    except Exception as exc:  # we do not know whether money moved: reconcile later
        log.warning("gateway %s raised on %s: %s", row.gateway, row.idempotency_key,
                    type(exc).__name__)
        db.session.rollback()
        row = db.session.get(PaymentAttempt, row.id)
        row.status, row.message = "undefined", f"{type(exc).__name__}: {exc}"[:500]
        db.session.commit()
        return
    record_answer(row, result)


def record_answer(row: PaymentAttempt, result: PaymentResult, late: bool = False) -> None:
    """Record the gateway's answer for an attempt (idempotent) and act on it."""
    status = PaymentStatus(result.status).value
    if row.status == "processed":
        return  # nothing can change a processed attempt; the payment is recorded
    was_final = row.status in FINAL
    row.late = late or row.status != "requested"  # we had recorded something else first
    row.status = status
    row.reference = result.reference or row.reference
    row.message = (result.message or "")[:500]
    row.answered_at = utcnow()
    if status == "processed":
        payment = ledger.record_payment(
            row.account_id, Money(row.amount, row.currency), method="autopay",
            reference=row.reference or row.idempotency_key, key=f"attempt:{row.id}",
            invoice=db.session.get(Invoice, row.invoice_id), recorded_by="autopay",
            check_limit=False)
        row.payment_id = payment.id
    elif status in ("error", "canceled") and not was_final:
        _dunning(row)
    db.session.commit()


def _dunning(row: PaymentAttempt) -> None:
    schedule = billing_settings.load().dunning_schedule
    from backhaul.plugins.notifications.api import notify

    invoice = db.session.get(Invoice, row.invoice_id)
    retry_in = schedule[row.attempt_no - 1] if row.attempt_no <= len(schedule) else None
    notify("billing.payment_failed", row.account_id,
           {**invoice_context(invoice), "attempt": row.attempt_no, "message": row.message,
            # the catalogue promises an empty value when no retry is left, not "None"
            "retry_on": (date.today() + timedelta(days=retry_in)) if retry_in is not None
            else ""}, dedupe_key=f"payment_failed:{row.idempotency_key}")
    if retry_in is not None:
        enqueue(attempt, row.invoice_id, row.attempt_no + 1, queue="billing",
                delay=timedelta(days=retry_in),
                key=f"autopay:retry:{row.invoice_id}:{row.attempt_no + 1}")


def find_attempt(idempotency_key: str | None = None,
                 reference: str | None = None) -> PaymentAttempt | None:
    if idempotency_key:
        return db.session.scalar(sa.select(PaymentAttempt).where(
            PaymentAttempt.idempotency_key == idempotency_key))
    if reference:
        return db.session.scalar(sa.select(PaymentAttempt).where(
            PaymentAttempt.reference == reference))
    return None


def reconcile(older_than: timedelta = timedelta(minutes=5)) -> int:
    """Settle attempts without a final answer: ask the gateway (``fetch``) when it gave a
    reference, else repeat the keyed call. Periodic job."""
    cutoff = utcnow() - older_than
    rows = db.session.scalars(sa.select(PaymentAttempt).where(
        PaymentAttempt.status.in_(("requested", "pending", "undefined")),
        PaymentAttempt.updated_at <= cutoff).order_by(PaymentAttempt.id)).all()
    for row in rows:
        gateway = registered("payment_gateways").get(row.gateway)
        if gateway is None:
            continue
        if row.reference:
            try:
                result = gateway.fetch(row.reference)
            except Exception:
                log.warning("fetch of %s failed; trying later", row.reference)
                continue
            if PaymentStatus(result.status).value not in ("pending", "undefined"):
                record_answer(row, result, late=True)
        else:
            _find_or_call(gateway, row)
    return len(rows)


def _find_or_call(gateway, row: PaymentAttempt) -> None:
    """No reference: the answer was lost. Ask the processor for the payment made with the
    attempt's key (``PaymentGateway.find``); only if it has none, repeat the *keyed* call
    (the same key: the processor replays it rather than charging again)."""
    try:
        found = gateway.find(row.idempotency_key)
    except Exception:
        log.warning("find of %s failed; trying later", row.idempotency_key)
        return
    if found is None:
        _call(row)
    elif PaymentStatus(found.status).value not in ("pending", "undefined"):
        record_answer(row, found, late=True)
    else:
        row.reference = found.reference
        db.session.commit()


def reconcile_job() -> None:
    reconcile()


__all__ = ["add_payment_method", "attempt", "charge_invoices", "find_attempt", "reconcile", "reconcile_job",
           "record_answer", "schedule_for_invoices"]
