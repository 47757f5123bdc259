"""Monitoring pages: states and templates, a template's form, applying templates, and a
target's page with its charts. Every form posts to an action with a GraphQL twin
(graphql.py) behind the same permission."""
from __future__ import annotations

import json

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from backhaul.sdk import db, permission_required
from backhaul.sdk.graphql import FieldErrors

from . import affected, discovery, service
from .charts import svg_chart, unit_of
from .models import Applied, TargetState, Template

bp = Blueprint("poller", __name__, url_prefix="/poller", template_folder="templates",
               static_folder="static", static_url_path="/static")


def _message(exc: FieldErrors) -> str:
    errors = getattr(exc, "errors", None) or {}
    return "; ".join(f"{k}: {', '.join(map(str, v))}" for k, v in dict(errors).items()) \
        or str(exc)


@bp.get("/")
@permission_required("poller.view")
def index():
    templates = db.session.scalars(sa.select(Template).order_by(Template.name)).all()
    applied = db.session.scalars(sa.select(Applied).order_by(Applied.id)).all()
    return render_template("poller/index.html", states=service.states(),
                           templates=templates, applied=applied, kinds=service.KINDS,
                           hosts=discovery.hosts(500))


@bp.post("/discover")
@permission_required("poller.manage")
def discover():
    try:
        found = discovery.scan(request.form.get("subnet", "")[:50])
        db.session.commit()
        flash(f"{len(found)} host(s) answered.", "success")
    except FieldErrors as exc:
        db.session.rollback()
        flash(f"Not scanned: {_message(exc)}", "error")
    return redirect(url_for(".index"))


@bp.get("/templates/new")
@bp.get("/templates/<int:template_id>")
@permission_required("poller.view")
def template_form(template_id: int | None = None):
    row = db.session.get(Template, template_id) if template_id else None
    if template_id and row is None:
        abort(404)
    from .snmp_icmp import AUTH, PRIV

    return render_template("poller/template.html", template=row,
                           defaults=service.DEFAULTS, auths=AUTH, privs=PRIV,
                           oids_json=json.dumps(row.oids if row else [], indent=1))


def _form_values(form) -> dict:
    values = {k: form.get(k) or None for k in ("name", *service.NUMBERS, "snmp_community",
                                               "snmp_version", "v3_auth", "v3_priv",
                                               "v3_auth_key", "v3_priv_key")}
    values["v3_user"] = form.get("v3_user", "")
    for flag in ("icmp_enabled", "snmp_enabled", "snmp_interfaces"):
        values[flag] = bool(form.get(flag))
    try:
        values["oids"] = json.loads(form.get("oids") or "[]")
    except ValueError:
        raise FieldErrors({"oids": ["a JSON list of OIDs"]}) from None
    if not isinstance(values["oids"], list) or not all(
            isinstance(o, dict) for o in values["oids"]):
        raise FieldErrors({"oids": ["a JSON list of objects"]})
    return values


@bp.post("/templates/new")
@bp.post("/templates/<int:template_id>")
@permission_required("poller.manage")
def template_save(template_id: int | None = None):
    try:
        row = service.save_template(_form_values(request.form), template_id)
        db.session.commit()
        flash("Template saved; pollers pick it up within 30 seconds.", "success")
        return redirect(url_for(".template_form", template_id=row.id))
    except FieldErrors as exc:
        db.session.rollback()
        flash(f"Not saved: {_message(exc)}", "error")
        return redirect(request.url)


@bp.post("/templates/<int:template_id>/delete")
@permission_required("poller.manage")
def template_delete(template_id: int):
    try:
        service.delete_template(template_id)
        db.session.commit()
        flash("Template deleted.", "success")
    except FieldErrors as exc:
        db.session.rollback()
        flash(_message(exc), "error")
    return redirect(url_for(".index"))


@bp.post("/apply")
@permission_required("poller.manage")
def apply():
    form = request.form
    try:
        template_id = int(form.get("template_id") or 0)
        service.apply_template(template_id, form.get("kind", ""), form.get("value", ""))
        db.session.commit()
        flash("Template applied.", "success")
    except (FieldErrors, ValueError) as exc:
        db.session.rollback()
        flash(f"Not applied: {_message(exc) if isinstance(exc, FieldErrors) else exc}",
              "error")
    return redirect(url_for(".index"))


@bp.post("/apply/<int:applied_id>/delete")
@permission_required("poller.manage")
def unapply(applied_id: int):
    try:
        service.unapply(applied_id)
        db.session.commit()
    except FieldErrors as exc:
        db.session.rollback()
        flash(_message(exc), "error")
    return redirect(url_for(".index"))


@bp.get("/targets/<target>")
@permission_required("poller.view")
def target(target: str):
    row = db.session.get(TargetState, target[:40])
    if row is None:
        abort(404)
    hours = min(max(request.args.get("hours", 24, type=float) or 24, 0.1), 24 * 90)
    units = service.units()
    charts = []
    for metric in service.metrics_of(row.target)[:30]:
        samples = [s for s in service.history(row.target, metric, hours) if s.value is not None]
        charts.append((metric, svg_chart([(s.at.timestamp(), s.value) for s in samples],
                                         metric, units.get(metric) or unit_of(metric))))
    rows = affected.listing(target=row.target)
    return render_template("poller/target.html", state=row, charts=charts, hours=hours,
                           affected=rows, accounts=_accounts({r.account_id for r in rows}))


def _accounts(ids: set[int]) -> dict:
    from backhaul.sdk.accounts import Account

    if not ids:
        return {}
    return {a.id: a for a in db.session.scalars(sa.select(Account).where(Account.id.in_(ids)))}


@bp.post("/targets/<target>/notice")
@permission_required("poller.manage")
def outage_notice(target: str):
    try:
        sent = affected.send_notice(target)
        db.session.commit()
        flash(f"Outage notice queued for {sent} account(s).", "success")
    except FieldErrors as exc:
        db.session.rollback()
        flash(_message(exc), "error")
    return redirect(url_for(".target", target=target[:40]))


def render_account_panel(account) -> str:
    rows = affected.listing(account_id=account.id, limit=20)
    names = {s.target: s.name for s in db.session.scalars(sa.select(TargetState).where(
        TargetState.target.in_({r.target for r in rows})))} if rows else {}
    return render_template("poller/_account_panel.html", rows=rows, names=names)
