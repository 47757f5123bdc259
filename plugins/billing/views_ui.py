"""Billing pages an office manager works in: the catalogue editor (services of every type,
with a form generated from the type's parameter schema; packages) and the actions on an
account's billing page (subscribe, override a price, charges, scheduled changes, ending a
subscription, billing settings, reversing a payment, billing the account now).

Each POST here has a GraphQL mutation behind the same permission (``graphql_ui.py``); the
mapping is checked by ``tests/plugins/billing/test_billing_ui_mutations.py``. Actions that
take money back or end something require a reason, recorded in the audit trail.
"""
from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa
from flask import abort, flash, g, redirect, render_template, request, url_for
from markupsafe import Markup, escape
from marshmallow import ValidationError

from backhaul.sdk import audit, db, may, permission_required, registered
from backhaul.sdk.ui import form_errors

from . import accounts as billing_accounts
from . import catalogue, catalogue_edit, run, subscriptions
from .models import Package, Payment, Service, Subscription, TaxClass
from .parameters import describe_schema

SETTINGS_FIELDS = ("billing_day", "due_days", "autopay", "delivery", "tax_exempt")


# ------------------------------------------------------------------------------ helpers
def account_identity(account_id: int | None) -> dict | None:
    """``{"number", "name", "url"}`` of an account (cached per request); never a DB id."""
    if account_id is None:
        return None
    cache = g.setdefault("_billing_account_names", {})
    if account_id not in cache:
        from backhaul.sdk.accounts import get_account

        account = get_account(account_id)
        cache[account_id] = None if account is None else {
            "number": account.number, "name": account.name,
            "url": url_for("accounts.account_show", account_id=account_id)}
    return cache[account_id]


def account_link(account_id: int | None) -> Markup:
    """``<a href=...>A-000042 · Jane Doe</a>`` for templates (``billing_account``)."""
    who = account_identity(account_id)
    if who is None:
        return Markup('<span class="muted">unknown account</span>')
    return Markup('<a href="{}" class="account-ref">{} · {}</a>').format(
        who["url"], who["number"], who["name"])


def reason_required(value: str | None, field: str = "reason") -> str:
    text = (value or "").strip()
    if not text:
        raise ValidationError({field: ["give a reason (it is kept in the audit trail)"]})
    return text


def params_error(exc: ValidationError) -> ValidationError:
    return ValidationError({"params": exc.normalized_messages()})


def validate_params(type_key: str, params: dict) -> dict:
    try:
        return catalogue.service_type(type_key).validate_parameters(params)
    except ValidationError as exc:
        if "type" in exc.normalized_messages():
            raise
        raise params_error(exc) from None


def _date(value: str | None, field: str, required: bool = True) -> date | None:
    text = (value or "").strip()
    if not text:
        if required:
            raise ValidationError({field: ["is required (a date such as 2026-03-01)"]})
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationError({field: ["must be a date such as 2026-03-01"]}) from None


def _int(value: str | None, field: str) -> int | None:
    text = (value or "").strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        raise ValidationError({field: ["must be a whole number"]}) from None


def _refusal(exc: ValidationError) -> str:
    db.session.rollback()
    parts = []
    for key, value in _flat(form_errors(exc)).items():
        parts.append(f"{'' if key == '_schema' else key + ': '}{' '.join(value)}")
    return " ".join(parts)


def _flat(messages, prefix: str = "") -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for key, value in messages.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict):
            out.update(_flat(value, name))
        else:
            out[name] = [str(v) for v in value]
    return out


def _valuer(values):
    """``val(name, default)``: what the user typed (after a refusal), else the stored value."""
    def val(name: str, default=""):
        if values is not None:
            return values.get(name, "")
        return "" if default is None else default
    return val


def _back(account_id: int):
    return redirect(request.form.get("next") or url_for("billing.account",
                                                        account_id=account_id))


def _account_or_404(account_id: int):
    from backhaul.sdk.accounts import get_account

    return get_account(account_id) or abort(404)


# ------------------------------------------------------------------------------ domain steps
def subscribe_from(account_id: int, form) -> Subscription:
    kind, _, item_id = (form.get("item") or "").partition(":")
    service = package = None
    if kind == "service" and item_id.isdigit():
        service = db.session.get(Service, int(item_id))
    elif kind == "package" and item_id.isdigit():
        package = db.session.get(Package, int(item_id))
    if service is None and package is None:
        raise ValidationError({"item": ["choose a service or a package"]})
    sub = subscriptions.subscribe(
        account_id, service=service, package=package,
        quantity=_int(form.get("quantity"), "quantity") or 1,
        price_override=(form.get("price_override") or "").strip() or None,
        start_date=_date(form.get("start_date"), "start_date"),
        end_date=_date(form.get("end_date"), "end_date", required=False),
        description=(form.get("description") or "").strip())
    return sub


def change_price(sub: Subscription, effective: date, price: str | None, reason: str,
                 quantity: int | None = None) -> Subscription:
    """Override (or, with an empty price, clear the override of) a line from ``effective``."""
    reason = reason_required(reason)
    if effective == sub.start_date:
        # not billed yet from its own start: change it in place
        if sub.billed_through is not None and sub.billed_through > sub.start_date:
            raise ValidationError({"effective_date": ["this line is already billed from its "
                                                      "start; choose a later date"]})
        row = billing_accounts.get(sub.account_id)
        override = catalogue.money(price, row.currency, "price_override") if price else None
        if override is not None and override.amount < 0:
            raise ValidationError({"price_override": ["must not be negative"]})
        sub.price_override_amount = override.amount if override else None
        sub.price_override_currency = override.currency if override else None
        if quantity:
            sub.quantity = quantity
        new = sub
    else:
        new = subscriptions.change_subscription(sub, effective, price_override=price or None,
                                                quantity=quantity)
    audit.record("billing.price_override", "billing_subscription", new.id,
                 {"price": price or "catalogue", "from": effective.isoformat(),
                  "reason": reason})
    db.session.flush()
    return new


def end_with_reason(sub: Subscription, end_date: date, reason: str) -> Subscription:
    reason = reason_required(reason)
    subscriptions.end_subscription(sub, end_date)
    audit.record("billing.subscription_ended", "billing_subscription", sub.id,
                 {"end_date": end_date.isoformat(), "reason": reason})
    return sub


def settings_from_form(form) -> dict:
    changes: dict = {}
    day = _int(form.get("billing_day"), "billing_day")
    if day is not None:
        changes["billing_day"] = day
    changes["due_days"] = _int(form.get("due_days"), "due_days")
    changes["autopay"] = {"": None, "y": True, "n": False}.get(form.get("autopay", ""), None)
    changes["delivery"] = form.get("delivery") or None
    changes["tax_exempt"] = form.get("tax_exempt") == "y"
    return changes


def update_settings(account_id: int, changes: dict, reason: str = "") -> None:
    row = billing_accounts.ensure(account_id)
    before = {k: getattr(row, k) for k in changes}
    billing_accounts.update(account_id, **changes)
    after = {k: getattr(row, k) for k in changes}
    diff = {k: [before[k], after[k]] for k in changes if before[k] != after[k]}
    if diff:
        audit.record("billing.account_settings", "billing_account", account_id,
                     {**diff, **({"reason": reason} if reason else {})})


def reverse_with_reason(payment: Payment, reason: str) -> Payment:
    from . import ledger

    return ledger.reverse_payment(payment, reason_required(reason))


def _account_run(account_id: int, run_date: date | None, actor: str):
    from .models import Run

    who = account_identity(account_id)
    started = Run(run_date=run_date or date.today(),
                  triggered_by=f"{actor} (account {who['number'] if who else account_id})")
    db.session.add(started)
    db.session.flush()
    return started


def bill_now(account_id: int, run_date: date | None, actor: str):
    """Bill one account now (a run of its own, limited to it) and return the finished run."""
    started = _account_run(account_id, run_date, actor)
    db.session.commit()
    return run.execute(started, account_ids=[account_id])


def bill_now_in_background(account_id: int, run_date: date | None, actor: str):
    """The same, carried out by a job after the caller's transaction commits (GraphQL)."""
    from backhaul.sdk import enqueue

    started = _account_run(account_id, run_date, actor)
    enqueue(bill_account_job, started.id, account_id, queue="billing")
    return started


def bill_account_job(run_id: int, account_id: int) -> None:
    from .models import Run

    row = db.session.get(Run, run_id)
    if row is not None and row.status == "running":
        run.execute(row, account_ids=[account_id])


# ------------------------------------------------------------------------------ views
def register(bp) -> None:  # noqa: C901  (one place for the routes of these pages)
    bp.add_app_template_global(account_link, "billing_account")
    bp.add_app_template_global(account_identity, "billing_account_identity")
    # periods are stored end-exclusive; people read the last day they cover
    bp.add_app_template_filter(lambda day: day - timedelta(days=1), "billing_last_day")

    def types():
        return registered("service_types")

    def taxes():
        return db.session.scalars(sa.select(TaxClass).order_by(TaxClass.key)).all()

    def service_form(service: Service | None, type_key: str, values=None, errors=None,
                     status: int = 200):
        stype = types().get(type_key) or abort(404)
        params = describe_schema(stype.parameters_schema)
        current = dict(service.params or {}) if service else {}
        return render_template(
            "billing/service_form.html", service=service, stype=stype, params=params,
            current=current, values=values, errors=errors or {}, taxes=taxes(),
            val=_valuer(values), currency=service.currency if service else
            billing_accounts.billing_settings.load().currency), status

    @bp.route("/catalogue/services/new", methods=["GET", "POST"])
    @permission_required("billing.catalogue.manage")
    def service_new():
        type_key = request.values.get("type", "")
        if type_key not in types():
            return render_template("billing/service_type_pick.html", types=types()), 200
        if request.method == "GET":
            return service_form(None, type_key)
        form = request.form
        try:
            params = validate_params(type_key, catalogue_edit.params_from_form(type_key, form))
            if not (form.get("name") or "").strip():
                raise ValidationError({"name": ["is required"]})
            service = catalogue.create_service(
                form.get("name", "").strip(), type_key, form.get("price", ""),
                currency=billing_accounts.billing_settings.load().currency,
                frequency=form.get("frequency") or "monthly",
                tax_class=form.get("tax_class") or None,
                invoice_label=form.get("invoice_label", "").strip(),
                prorate=form.get("prorate") == "y", params=params)
            db.session.commit()
        except ValidationError as exc:
            db.session.rollback()
            return service_form(None, type_key, form, form_errors(exc), 422)
        flash(f"Service '{service.name}' created.", "success")
        return redirect(url_for("billing.catalogue_page"))

    @bp.route("/catalogue/services/<int:service_id>", methods=["GET", "POST"])
    @permission_required("billing.catalogue.manage")
    def service_edit(service_id: int):
        service = db.get_or_404(Service, service_id)
        if request.method == "GET":
            return service_form(service, service.type_key)
        form = request.form
        try:
            params = validate_params(service.type_key,
                                     catalogue_edit.params_from_form(service.type_key, form))
            catalogue_edit.update_service(
                service, name=form.get("name", ""), price=form.get("price", ""),
                params=params, frequency=form.get("frequency") or service.frequency,
                tax_class=form.get("tax_class") or None,
                invoice_label=form.get("invoice_label", ""),
                prorate=form.get("prorate") == "y")
            db.session.commit()
        except ValidationError as exc:
            db.session.rollback()
            return service_form(service, service.type_key, form, form_errors(exc), 422)
        flash(f"Service '{service.name}' saved.", "success")
        return redirect(url_for("billing.catalogue_page"))

    @bp.post("/catalogue/services/<int:service_id>/<any(retire, reinstate):what>")
    @permission_required("billing.catalogue.manage")
    def service_retire(service_id: int, what: str):
        service = db.get_or_404(Service, service_id)
        catalogue_edit.retire_service(service, what == "retire")
        db.session.commit()
        flash(f"Service '{service.name}' {'retired' if what == 'retire' else 'reinstated'}.",
              "success")
        return redirect(url_for("billing.catalogue_page"))

    @bp.post("/catalogue/tax-classes")
    @permission_required("billing.catalogue.manage")
    def tax_class_new():
        form = request.form
        try:
            key = (form.get("key") or "").strip()
            name = (form.get("name") or "").strip()
            if not key or not name:
                raise ValidationError({"key" if not key else "name": ["is required"]})
            tax = catalogue.create_tax_class(key, name, (form.get("rate") or "").strip())
            db.session.commit()
            flash(f"Tax class '{tax.key}' created.", "success")
        except ValidationError as exc:
            flash(_refusal(exc), "error")
        return redirect(url_for("billing.catalogue_page"))

    def package_form(package: Package | None, values=None, errors=None, status: int = 200):
        services = db.session.scalars(sa.select(Service).where(Service.active)
                                      .order_by(Service.name)).all()
        chosen = {item.service_id: item.quantity for item in package.items} if package else {}
        return render_template("billing/package_form.html", package=package,
                               services=[s for s in services if not catalogue.is_one_time(s)],
                               chosen=chosen, values=values, errors=errors or {},
                               taxes=taxes(), val=_valuer(values)), status

    def _package_items(form):
        pairs = []
        for service_id in form.getlist("service"):
            pairs.append((service_id, form.get(f"quantity.{service_id}") or "1"))
        return catalogue_edit.package_items(pairs)

    @bp.route("/catalogue/packages/new", methods=["GET", "POST"])
    @permission_required("billing.catalogue.manage")
    def package_new():
        if request.method == "GET":
            return package_form(None)
        form = request.form
        try:
            name = (form.get("name") or "").strip()
            if not name:
                raise ValidationError({"name": ["is required"]})
            package = catalogue.create_package(
                name, _package_items(form),
                currency=billing_accounts.billing_settings.load().currency,
                pricing=form.get("pricing") or "package", price=form.get("price") or None,
                frequency=form.get("frequency") or "monthly",
                tax_class=form.get("tax_class") or None,
                invoice_label=form.get("invoice_label", "").strip(),
                prorate=form.get("prorate") == "y")
            db.session.commit()
        except ValidationError as exc:
            db.session.rollback()
            return package_form(None, form, form_errors(exc), 422)
        flash(f"Package '{package.name}' created.", "success")
        return redirect(url_for("billing.catalogue_page"))

    @bp.route("/catalogue/packages/<int:package_id>", methods=["GET", "POST"])
    @permission_required("billing.catalogue.manage")
    def package_edit(package_id: int):
        package = db.get_or_404(Package, package_id)
        if request.method == "GET":
            return package_form(package)
        form = request.form
        try:
            catalogue_edit.update_package(
                package, name=form.get("name", ""), price=form.get("price") or None,
                items=_package_items(form), invoice_label=form.get("invoice_label", ""),
                active=form.get("active") == "y")
            db.session.commit()
        except ValidationError as exc:
            db.session.rollback()
            return package_form(package, form, form_errors(exc), 422)
        flash(f"Package '{package.name}' saved.", "success")
        return redirect(url_for("billing.catalogue_page"))

    # ---------------------------------------------------------------- account actions
    def attempt(account_id: int, work, done: str):
        try:
            result = work()
            db.session.commit()
            flash(done if isinstance(done, str) else done(result), "success")
        except ValidationError as exc:
            flash(_refusal(exc), "error")
        return _back(account_id)

    @bp.post("/accounts/<int:account_id>/subscriptions")
    @permission_required("billing.subscription.manage")
    def account_subscribe(account_id: int):
        _account_or_404(account_id)
        return attempt(account_id, lambda: subscribe_from(account_id, request.form),
                       lambda sub: f"Subscribed to {sub.item.name} from {sub.start_date}.")

    def _sub(account_id: int, sub_id: int) -> Subscription:
        sub = db.get_or_404(Subscription, sub_id)
        if sub.account_id != account_id:
            abort(404)
        return sub

    @bp.post("/accounts/<int:account_id>/subscriptions/<int:sub_id>/price")
    @permission_required("billing.subscription.manage")
    def account_price(account_id: int, sub_id: int):
        sub = _sub(account_id, sub_id)
        form = request.form
        return attempt(account_id, lambda: change_price(
            sub, _date(form.get("effective_date"), "effective_date"),
            (form.get("price") or "").strip(), form.get("reason", ""),
            _int(form.get("quantity"), "quantity")),
            lambda new: f"Price of {new.item.name} changed from {new.start_date}.")

    @bp.post("/accounts/<int:account_id>/subscriptions/<int:sub_id>/end")
    @permission_required("billing.subscription.manage")
    def account_end(account_id: int, sub_id: int):
        sub = _sub(account_id, sub_id)
        form = request.form
        return attempt(account_id, lambda: end_with_reason(
            sub, _date(form.get("end_date"), "end_date"), form.get("reason", "")),
            lambda s: f"{s.item.name} ends on {s.end_date}.")

    @bp.post("/accounts/<int:account_id>/subscriptions/<int:sub_id>/schedule")
    @permission_required("billing.subscription.manage")
    def account_schedule(account_id: int, sub_id: int):
        from backhaul.sdk.accounts import schedule_event

        account = _account_or_404(account_id)
        sub = _sub(account_id, sub_id)
        form = request.form

        def work():
            when = _date(form.get("effective_date"), "effective_date")
            target = form.get("service_id") or ""
            price = (form.get("price") or "").strip()
            if target:
                kind, _, item_id = target.partition(":")
                params = {"subscription_id": sub.id, "price": price,
                          f"{kind}_id": int(item_id)}
                action = "billing.service_change"
            else:
                params = {"subscription_id": sub.id, "price": price}
                action = "billing.price_change"
            return schedule_event(account, action, when.isoformat(), params)

        return attempt(account_id, work,
                       lambda ev: f"Change scheduled for {ev.due_at:%Y-%m-%d}.")

    @bp.post("/accounts/<int:account_id>/charges")
    @permission_required("billing.subscription.manage")
    def account_charge(account_id: int):
        _account_or_404(account_id)
        form = request.form

        def work():
            service = None
            if form.get("service_id"):
                service = db.session.get(Service, _int(form.get("service_id"), "service_id"))
            description = (form.get("description") or "").strip() or \
                (service.label if service else "")
            if not description:
                raise ValidationError({"description": ["is required (or choose a service)"]})
            price = (form.get("unit_price") or "").strip() or \
                (str(service.price.amount / 100) if service else "")
            return subscriptions.add_charge(
                account_id, description, price, quantity=form.get("quantity") or "1",
                charge_date=_date(form.get("charge_date"), "charge_date"), service=service)

        return attempt(account_id, work, lambda c: f"Charge '{c.description}' added.")

    @bp.post("/accounts/<int:account_id>/settings")
    @permission_required("billing.settings.manage")
    def account_settings(account_id: int):
        _account_or_404(account_id)
        return attempt(account_id, lambda: update_settings(
            account_id, settings_from_form(request.form), request.form.get("reason", "")),
            "Billing settings saved.")

    @bp.post("/payments/<int:payment_id>/reverse")
    @permission_required("billing.payment.reverse")
    def payment_reverse(payment_id: int):
        payment = db.get_or_404(Payment, payment_id)
        return attempt(payment.account_id, lambda: reverse_with_reason(
            payment, request.form.get("reason", "")),
            lambda p: f"Payment of {p.money} reversed.")

    @bp.post("/accounts/<int:account_id>/bill-now")
    @permission_required("billing.run.manage")
    def account_bill_now(account_id: int):
        from backhaul.sdk import current_actor

        _account_or_404(account_id)
        try:
            day = _date(request.form.get("date"), "date", required=False)
            done = bill_now(account_id, day, str(current_actor()))
            db.session.commit()
        except ValidationError as exc:
            flash(_refusal(exc), "error")
            return _back(account_id)
        flash(f"Billed: {done.invoiced} invoice(s) issued, {done.failed} failed.",
              "success" if not done.failed else "warning")
        return _back(account_id)


def account_page_context(account_id: int) -> dict:
    """What the account page's action forms need."""
    services = db.session.scalars(sa.select(Service).where(Service.active)
                                  .order_by(Service.name)).all()
    packages = db.session.scalars(sa.select(Package).where(Package.active)
                                  .order_by(Package.name)).all()
    row = billing_accounts.get(account_id)
    if row is None:  # the settings form shows the ISP defaults until something is saved
        from types import SimpleNamespace

        row = SimpleNamespace(billing_day="", due_days=None, autopay=None, delivery=None,
                              tax_exempt=False)
    payments = db.session.scalars(sa.select(Payment).where(Payment.account_id == account_id)
                                  .order_by(Payment.id.desc()).limit(50)).all()
    recurring = [s for s in services if not catalogue.is_one_time(s)]
    one_time = [s for s in services if catalogue.is_one_time(s)]
    return {"recurring_services": recurring, "one_time_services": one_time,
            "change_options": [(f"service:{s.id}", s.name) for s in recurring]
            + [(f"package:{p.id}", f"{p.name} (package)") for p in packages],
            "one_time_options": [(s.id, f"{s.name} — {s.price.format()}") for s in one_time],
            "packages": packages, "billing_row": row, "payments": payments,
            "identity": account_identity(account_id), "may": may,
            "escape": escape}


__all__ = ["account_identity", "account_link", "account_page_context", "bill_now",
           "change_price", "end_with_reason", "register", "reverse_with_reason",
           "subscribe_from", "update_settings", "validate_params"]
