"""Billing on core pages: the account timeline, the global search box, demo data."""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask import url_for

from backhaul.sdk import SearchResult, TimelineEntry, db, user_may

from .models import Invoice, Payment


def timeline(account, limit: int) -> list[TimelineEntry]:
    """Invoices (when finalized) and payments (when received) of ``account``."""
    entries = []
    for inv in db.session.scalars(sa.select(Invoice).where(
            Invoice.account_id == account.id, Invoice.status != "draft")
            .order_by(Invoice.id.desc()).limit(limit)):
        label = "Credit note" if inv.kind == "credit_note" else "Invoice"
        entries.append(TimelineEntry(
            at=inv.finalized_at or inv.created_at, kind=f"billing.{inv.kind}",
            title=f"{label} {inv.display_number}: {inv.total}",
            body=inv.status.replace("_", " "),
            url=url_for("billing.invoice", invoice_id=inv.id), meta={"invoice_id": inv.id},
            permission="billing.invoice.view"))
    for pay in db.session.scalars(sa.select(Payment).where(Payment.account_id == account.id)
                                  .order_by(Payment.id.desc()).limit(limit)):
        entries.append(TimelineEntry(
            at=pay.created_at, kind="billing.payment",
            title=f"Payment {pay.money} ({pay.method.replace('_', ' ')})",
            body=f"reversed: {pay.reversal_reason}" if pay.status == "reversed" else
            pay.reference, meta={"payment_id": pay.id}, permission="billing.invoice.view"))
    return sorted(entries, key=lambda e: e.at, reverse=True)[:limit]


def search(query: str, user, limit: int) -> list[SearchResult]:
    """Invoice numbers: "INV-000042", "000042" or "42"."""
    if not user_may(user, "billing.invoice.view"):
        return []
    digits = query.upper().rsplit("-", 1)[-1].lstrip("0")
    if not digits.isdigit():
        return []
    rows = db.session.scalars(sa.select(Invoice).where(Invoice.number == int(digits))
                              .order_by(Invoice.id).limit(limit))
    return [SearchResult(title=inv.display_number, kind="invoice", score=1.0,
                         url=url_for("billing.invoice", invoice_id=inv.id),
                         subtitle=f"{inv.total} · {inv.status.replace('_', ' ')}")
            for inv in rows]


def load_demo() -> None:
    """A small catalogue, a subscription per current demo tenant (accounts ``DEMO-*``), this
    month's run. Idempotent, and it touches demo rows only: once the demo run exists a new
    load changes nothing, and an operator's own accounts are never subscribed."""
    from backhaul.sdk.accounts import Account, status_meaning

    from . import catalogue, subscriptions
    from .models import Run, Service, Subscription, TaxClass
    from .run import run_billing

    if db.session.scalar(sa.select(TaxClass.id).where(TaxClass.key == "standard")) is None:
        catalogue.create_tax_class("standard", "Standard rate", "10")
    wanted = (("Fiber 100", "data", "49.99", {"download_mbps": 100, "upload_mbps": 20}),
              ("Fiber 1000", "data", "79.99", {"download_mbps": 1000, "upload_mbps": 500}),
              ("Maintenance fee", "recurring", "15.00", {}))
    services = {}
    for name, kind, price, params in wanted:
        services[name] = db.session.scalar(sa.select(Service).where(Service.name == name)) or \
            catalogue.create_service(name, kind, price, currency="USD", params=params,
                                     tax_class="standard" if kind == "data" else None)
    start = date.today().replace(day=1)
    demo_run = sa.select(Run.id).where(Run.triggered_by == "demo")
    if db.session.scalar(demo_run.limit(1)) is not None:
        return  # loaded before: never touch an account again (an operator's own ones least)
    demo_accounts = db.session.scalars(sa.select(Account).where(
        Account.number.like("DEMO-%")).order_by(Account.id).limit(20))
    for i, account in enumerate(demo_accounts):
        if status_meaning(account) not in ("active", "delinquent"):
            continue  # moved out, prospect or owner: nothing to bill
        if db.session.scalar(sa.select(Subscription.id).where(
                Subscription.account_id == account.id).limit(1)):
            continue
        plan = services["Fiber 1000" if i % 3 == 0 else "Fiber 100"]
        subscriptions.subscribe(account.id, service=plan, start_date=start)
        if i % 2 == 0:
            subscriptions.subscribe(account.id, service=services["Maintenance fee"],
                                    start_date=start)
    db.session.commit()
    run_billing(date.today(), triggered_by="demo")  # issued today: due in the future


__all__ = ["load_demo", "search", "timeline"]
