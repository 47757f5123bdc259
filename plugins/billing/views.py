"""Billing's staff pages (``/billing/...``), templates in ``templates/billing/``.

Thin views over the domain modules: every view declares its permission; a form that the
domain refuses (``ValidationError``) is rolled back and shown again with the messages.
"""
from __future__ import annotations

import uuid
from datetime import date

import sqlalchemy as sa
from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from marshmallow import ValidationError

from backhaul.sdk import (
    Money,
    csrf_exempt,
    current_actor,
    db,
    may,
    permission_required,
    public,
    registered,
)
from backhaul.sdk.ui import Filter, form_errors, list_page, safe_next

from . import accounts as billing_accounts
from . import catalogue, delinquency, invoices, ledger, run
from .graphql import account_summary
from .models import (
    INVOICE_STATUSES,
    PAYMENT_METHODS,
    Allocation,
    Invoice,
    Package,
    Payment,
    Run,
    RunItem,
    Service,
    TaxClass,
    Transaction,
)
from .pdf import render_invoice


def _date_arg(name: str) -> date | None:
    value = request.values.get(name) or ""
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        abort(400, f"{name} must be a date such as 2026-03-01")


def _refused(exc: ValidationError) -> str:
    db.session.rollback()
    return " ".join(f"{'' if k == '_schema' else k + ': '}{' '.join(map(str, v))}"
                    for k, v in form_errors(exc).items())


def make_blueprint() -> Blueprint:
    bp = Blueprint("billing", __name__, url_prefix="/billing", template_folder="templates",
                   static_folder="static", static_url_path="/static")

    @bp.app_template_global("billing_money")
    def billing_money(amount: int, currency: str) -> str:
        return Money(int(amount), currency).format()

    @bp.get("/invoices")
    @permission_required("billing.invoice.view")
    def invoice_list():
        page = list_page(sa.select(Invoice), sortable={
            "number": Invoice.number, "issued": Invoice.issue_date, "due": Invoice.due_date,
            "total": Invoice.total_amount},
            filters={"status": Filter(Invoice.status, choices=[(s, s.replace("_", " "))
                                                                for s in INVOICE_STATUSES]),
                     "kind": Filter(Invoice.kind, choices=[("invoice", "invoice"),
                                                           ("credit_note", "credit note")])},
            default_sort="-number")
        return render_template("billing/invoices.html", page=page)

    @bp.get("/invoices/<int:invoice_id>")
    @permission_required("billing.invoice.view")
    def invoice(invoice_id: int):
        doc = db.get_or_404(Invoice, invoice_id)
        allocations = db.session.execute(
            sa.select(Allocation, Payment).outerjoin(Payment, Payment.id == Allocation.payment_id)
            .where(Allocation.invoice_id == doc.id).order_by(Allocation.id)).all()
        notes = db.session.scalars(sa.select(Invoice).where(
            Invoice.credited_invoice_id == doc.id).order_by(Invoice.id)).all()
        credit_ids = [a.credit_note_id for a, _ in allocations if a.credit_note_id]
        credit_numbers = {i.id: i.display_number for i in db.session.scalars(
            sa.select(Invoice).where(Invoice.id.in_(credit_ids)))} if credit_ids else {}
        return render_template("billing/invoice.html", invoice=doc, allocations=allocations,
                               notes=notes, may=may, credit_numbers=credit_numbers,
                               credit_left=doc.money(doc.total_amount
                                                     - invoices.credited_so_far(doc)))

    @bp.get("/invoices/<int:invoice_id>.pdf")
    @permission_required("billing.invoice.view")
    def invoice_pdf(invoice_id: int):
        doc = db.get_or_404(Invoice, invoice_id)
        if doc.status == "draft":
            abort(404)
        return Response(render_invoice(doc), mimetype="application/pdf", headers={
            "Content-Disposition": f'inline; filename="{doc.display_number}.pdf"'})

    @bp.post("/invoices/<int:invoice_id>/void")
    @permission_required("billing.invoice.void")
    def invoice_void(invoice_id: int):
        doc = db.get_or_404(Invoice, invoice_id)
        try:
            invoices.void(doc, request.form.get("reason", ""))
            db.session.commit()
            flash(f"{doc.display_number} is void.", "success")
        except ValidationError as exc:
            flash(_refused(exc), "error")
        return redirect(url_for("billing.invoice", invoice_id=invoice_id))

    @bp.post("/invoices/<int:invoice_id>/credit-note")
    @permission_required("billing.credit_note.create")
    def invoice_credit(invoice_id: int):
        doc = db.get_or_404(Invoice, invoice_id)
        try:
            note = invoices.credit_note(doc, request.form.get("reason", ""),
                                        request.form.get("amount") or None)
            db.session.commit()
            flash(f"Credit note {note.display_number} issued.", "success")
        except ValidationError as exc:
            flash(_refused(exc), "error")
        return redirect(url_for("billing.invoice", invoice_id=invoice_id))

    @bp.get("/accounts/<int:account_id>")
    @permission_required("billing.invoice.view")
    def account(account_id: int):
        summary = account_summary(account_id)
        if summary is None:  # nothing billed yet: an empty summary (a GET writes nothing)
            from backhaul.sdk.accounts import get_account

            get_account(account_id) or abort(404)
            currency = billing_accounts.billing_settings.load().currency
            zero = Money(0, currency)
            summary = {"accountId": account_id, "currency": currency, "balance": zero,
                       "amountDue": zero, "credit": zero, "delinquency": "current",
                       "billingDay": None, "nextPeriodStart": None, "autopay": False,
                       "subscriptions": []}
        txs = db.session.scalars(sa.select(Transaction).where(
            Transaction.account_id == account_id).order_by(Transaction.id.desc())
            .limit(100)).all()
        docs = db.session.scalars(sa.select(Invoice).where(Invoice.account_id == account_id)
                                  .order_by(Invoice.id.desc()).limit(100)).all()
        from .views_ui import account_page_context

        return render_template("billing/account.html", summary=summary, transactions=txs,
                               invoices=docs, methods=PAYMENT_METHODS, today=date.today(),
                               **account_page_context(account_id))

    @bp.post("/accounts/<int:account_id>/payments")
    @permission_required("billing.payment.record")
    def record_payment(account_id: int):
        from backhaul.sdk.accounts import get_account

        if get_account(account_id) is None:
            abort(404)
        form = request.form
        try:
            payment = ledger.record_payment(
                account_id, form.get("amount", ""), method=form.get("method", ""),
                reference=form.get("reference", ""), received_on=_date_arg("received_on"),
                key=form.get("key") or None, recorded_by=str(current_actor()))
            db.session.commit()
            flash(f"Payment of {payment.money} recorded; balance "
                  f"{billing_accounts.balance(account_id)}.", "success")
        except ValidationError as exc:
            flash(_refused(exc), "error")
        return redirect(safe_next(request.form.get("next")) or url_for(
            "billing.account", account_id=account_id))  # never off-site (issue 11 #11)

    @bp.get("/payments/<int:payment_id>")
    @permission_required("billing.invoice.view")
    def payment_page(payment_id: int):
        from . import gateway_events

        payment = db.get_or_404(Payment, payment_id)
        found = gateway_events.gateway_of(payment)
        gateway = registered("payment_gateways").get(found[0]) if found else None
        refunds = db.session.scalars(sa.select(Transaction).where(
            Transaction.payment_id == payment.id, Transaction.kind == "refund")
            .order_by(Transaction.id)).all()

        return render_template("billing/payment.html", payment=payment, gateway=gateway,
                               may=may, reference=found[1] if found else "", refunds=refunds,
                               refund_key=uuid.uuid4().hex,
                               left=payment.amount - payment.refunded_amount,
                               left_decimal=Money(payment.amount - payment.refunded_amount,
                                                  payment.currency).to_decimal())

    @bp.post("/payments/<int:payment_id>/refund")
    @permission_required("billing.payment.reverse")
    def payment_refund(payment_id: int):
        from .gateway_events import refund_payment

        db.get_or_404(Payment, payment_id)
        try:
            done = refund_payment(payment_id, request.form.get("amount", ""),
                                  key=request.form.get("key", ""))
            db.session.commit()
            flash("That refund was made already." if done == "duplicate" else
                  f"Refund made: {done}.", "success")
        except ValidationError as exc:
            flash(_refused(exc), "error")
        return redirect(url_for("billing.payment_page", payment_id=payment_id))

    @bp.post("/gateways/<key>/webhook")
    @public  # authenticated by the gateway's signature check (parse_webhook)
    @csrf_exempt
    def gateway_webhook(key: str):
        from .gateway_events import MAX_BODY, receive_webhook

        request.max_content_length = MAX_BODY  # read no more than an event can be
        status, text = receive_webhook(key, dict(request.headers), request.get_data())
        return Response(text, status=status, mimetype="text/plain")

    @bp.get("/runs")
    @permission_required("billing.run.view")
    def runs():
        page = list_page(sa.select(Run), sortable={"id": Run.id, "date": Run.run_date},
                         default_sort="-id")
        run_date = _date_arg("date") or date.today()
        account_query = (request.args.get("account") or "").strip()
        account_ids = None
        if account_query:
            from backhaul.sdk.accounts import Account, search_accounts

            account_ids = list(db.session.scalars(
                search_accounts(account_query).with_only_columns(Account.id).limit(50)))
        due, preview = run.preview(run_date, limit=20, account_ids=account_ids)
        return render_template("billing/runs.html", page=page, due=due, preview=preview,
                               run_date=run_date, may=may, account_query=account_query,
                               account_ids=account_ids)

    @bp.post("/runs")
    @permission_required("billing.run.manage")
    def start_run():
        started = run.start_in_background(_date_arg("date"), str(current_actor()))
        db.session.commit()
        flash(f"Billing run #{started.id} for {started.run_date} started.", "success")
        return redirect(url_for("billing.run_detail", run_id=started.id))

    @bp.get("/runs/<int:run_id>")
    @permission_required("billing.run.view")
    def run_detail(run_id: int):
        row = db.get_or_404(Run, run_id)
        failures = db.session.scalars(sa.select(RunItem).where(
            RunItem.run_id == run_id, RunItem.status == "failed")
            .order_by(RunItem.account_id)).all()
        run_invoices = db.session.scalars(sa.select(Invoice).where(Invoice.run_id == run_id)
                                          .order_by(Invoice.id).limit(1000)).all()
        return render_template("billing/run.html", run=row, failures=failures, may=may,
                               run_invoices=run_invoices)

    @bp.post("/runs/<int:run_id>/retry")
    @permission_required("billing.run.manage")
    def retry_run(run_id: int):
        fresh = run.retry_failed(db.get_or_404(Run, run_id))
        flash(f"Retried: {fresh.invoiced} invoiced, {fresh.failed} failed.",
              "success" if not fresh.failed else "warning")
        return redirect(url_for("billing.run_detail", run_id=fresh.id))

    @bp.get("/delinquency")
    @permission_required("billing.delinquency.view")
    def delinquency_preview():
        day = _date_arg("day")
        candidates = delinquency.preview(day, include_spared=True)
        return render_template("billing/delinquency.html", candidates=candidates,
                               day=day or date.today())

    @bp.get("/catalogue")
    @permission_required("billing.catalogue.view")
    def catalogue_page():
        return render_template(
            "billing/catalogue.html", may=may,
            services=db.session.scalars(sa.select(Service).order_by(Service.name)).all(),
            packages=db.session.scalars(sa.select(Package).order_by(Package.name)).all(),
            taxes=db.session.scalars(sa.select(TaxClass).order_by(TaxClass.key)).all(),
            types=registered("service_types"))

    @bp.post("/catalogue/services")
    @permission_required("billing.catalogue.manage")
    def create_service():
        form = request.form
        try:
            service = catalogue.create_service(
                form.get("name", ""), form.get("type", ""), form.get("price", ""),
                currency=form.get("currency") or billing_accounts.billing_settings.load()
                .currency, frequency=form.get("frequency") or "monthly",
                tax_class=form.get("tax_class") or None,
                invoice_label=form.get("invoice_label", ""),
                prorate=form.get("prorate", "y") == "y")
            db.session.commit()
            flash(f"Service '{service.name}' created.", "success")
        except ValidationError as exc:
            flash(_refused(exc), "error")
        return redirect(url_for("billing.catalogue_page"))

    from .views_ui import register

    register(bp)
    return bp


def render_account_panel(account) -> str:
    """The account page's billing panel (``AccountPanel``)."""
    summary = account_summary(account.id)
    docs = db.session.scalars(sa.select(Invoice).where(Invoice.account_id == account.id)
                              .order_by(Invoice.id.desc()).limit(5)).all()
    txs = db.session.scalars(sa.select(Transaction).where(Transaction.account_id == account.id)
                             .order_by(Transaction.id.desc()).limit(5)).all()
    return render_template("billing/_account_panel.html", account=account, summary=summary,
                           invoices=docs, transactions=txs, methods=PAYMENT_METHODS, may=may,
                           today=date.today())


__all__ = ["make_blueprint", "render_account_panel"]
