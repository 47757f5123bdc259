"""Staff page ``/stripe/account``: the Stripe keys and webhook secret (never shown back)."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from backhaul.sdk import db, permission_required, registered
from backhaul.sdk.instances import InstanceInvalid, form_fields, form_values, parse_form

from . import account

bp = Blueprint("payments_stripe", __name__, url_prefix="/stripe", template_folder="templates")


@bp.route("/account", methods=["GET", "POST"])
@permission_required("payments_stripe.account.manage")
def account_page():
    gateway = registered("payment_gateways")["stripe"]
    specs = form_fields(gateway)
    stored = account.current()
    errors: dict = {}
    if request.method == "POST":
        raw = parse_form(request.form, specs)
        try:
            account.save(raw, enabled=bool(request.form.get("enabled")))
        except InstanceInvalid as exc:
            db.session.rollback()
            errors = exc.errors
            return _render(specs, form_values(raw, specs), errors, stored), 422
        db.session.commit()
        flash("Stripe account saved.", "success")
        return redirect(url_for(".account_page"))
    values = form_values(dict(stored.settings) if stored else {}, specs)
    return _render(specs, values, errors, stored)


def _render(specs, values, errors, stored):
    return render_template(
        "payments_stripe/account.html", specs=specs, values=values, errors=errors,
        enabled=stored.enabled if stored else True,
        stored={s.name for s in specs if stored is not None and stored.has_secret(s.name)},
        webhook_url=url_for("billing.gateway_webhook", key="stripe", _external=True))
