"""Payment pages of the portal: pay an invoice or the balance, the payment's own page (where
a bank's redirect comes back), and saving or replacing the card."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from marshmallow import ValidationError

from backhaul.plugins.billing import api as billing
from backhaul.sdk import db

from . import branding, payments
from .access import customer_required
from .views import bp


def _invoice_arg() -> int | None:
    raw = (request.values.get("invoice") or "").strip()
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 12:
        abort(404)
    return int(raw)


def with_card_form(body, status: int, form: dict | None):
    """The page, with a Content-Security-Policy that lets its card script reach the
    gateway's card endpoint (and nothing else new): the core's policy, one origin added."""
    response = current_app.make_response((body, status))
    if form:
        parts = urlsplit(form["url"])
        origin = f"{parts.scheme}://{parts.netloc}"
        response.headers["Content-Security-Policy"] = (
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            f"connect-src 'self' {origin}; frame-ancestors 'none'; form-action 'self'; "
            "base-uri 'self'; object-src 'none'")
    return response


def _methods(viewer, gateways: dict) -> list:
    return [m for m in billing.payment_methods(viewer.account_id)
            if m.is_default and m.gateway in gateways]


@bp.route("/pay", methods=["GET", "POST"])
@customer_required
def pay(viewer):
    invoice_id = _invoice_arg()
    gateways = payments.gateways("checkout")
    errors = {}
    try:
        amount = payments.amount_for(viewer, invoice_id)
    except LookupError:
        abort(404)
    except ValidationError as exc:
        flash(" ".join(m for ms in exc.messages.values() for m in ms), "info")
        return redirect(url_for("portal.home"))
    doc = billing.customer_invoice(viewer.account_id, invoice_id) if invoice_id else None
    saved = _methods(viewer, gateways)
    if request.method == "POST":
        choice = request.form.get("method") or ""
        gateway_key, method_ref = request.form.get("gateway") or "", ""
        if choice.startswith("saved:"):
            found = next((m for m in saved if str(m.id) == choice[6:]), None)
            if found is None:
                errors["method"] = ["Choose one of your saved cards, or a new card."]
            else:
                gateway_key, method_ref = found.gateway, found.method_ref
        else:
            method_ref = request.form.get("method_ref") or ""
        if not errors:
            try:
                row, checkout = payments.start(
                    viewer, gateway_key, invoice_id=invoice_id, method_ref=method_ref,
                    save_method=request.form.get("save") == "y",
                    return_url=lambda pid: url_for("portal.payment", payment_id=pid,
                                                   _external=True))
            except ValidationError as exc:
                db.session.rollback()
                errors = exc.messages
            else:  # a bank's page (3-D Secure) is linked from the payment's page
                return redirect(url_for("portal.payment", payment_id=row.id))
    card_gateway, card_form = payments.card_form(gateways)
    return with_card_form(render_template(
        "portal/pay.html", amount=amount, invoice=doc, gateways=gateways, saved=saved,
        errors=errors, card_gateway=card_gateway, card_form=card_form),
        400 if errors else 200, card_form)


@bp.get("/payments/<int:payment_id>")
@customer_required
def payment(viewer, payment_id: int):
    row = payments.get(viewer, payment_id)
    if row is None:
        abort(404)
    payments.refresh(row)
    return render_template("portal/payment.html", payment=row,
                           summary=billing.customer_billing(viewer.account_id),
                           invoice=billing.customer_invoice(viewer.account_id, row.invoice_id)
                           if row.invoice_id else None)


@bp.route("/card", methods=["GET", "POST"])
@customer_required
def card(viewer):
    gateways = payments.gateways("saved_methods")
    errors = {}
    if request.method == "POST":
        try:
            saved, redirect_url = payments.save_card(
                viewer, request.form.get("gateway") or "", request.form.get("method_ref") or "",
                url_for("portal.card", _external=True))
        except ValidationError as exc:
            db.session.rollback()
            errors = exc.messages
        else:
            if redirect_url:  # the bank wants the customer: a link, not a form redirect
                return render_template("portal/confirm_card.html", action_url=redirect_url)
            flash(f"{saved.label or 'Your card'} is saved and will be used for automatic "
                  "payments.", "success")
            return redirect(url_for("portal.home"))
    methods = billing.payment_methods(viewer.account_id)
    card_gateway, card_form = payments.card_form(gateways)
    return with_card_form(render_template(
        "portal/card.html", gateways=gateways, errors=errors, card_gateway=card_gateway,
        card_form=card_form, current=next((m for m in methods if m.is_default), None),
        summary=billing.customer_billing(viewer.account_id),
        locked=branding.current().autopay_locked), 400 if errors else 200, card_form)
