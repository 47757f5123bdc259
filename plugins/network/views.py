"""The staff pages: the network at a glance (devices with their last reconcile, pools with
utilisation bars, sites), a device's reconcile history (the drift report) and its dry run,
and the account panel with each data service's login and address. Every form posts to an
action that has a GraphQL mutation behind the same permission (graphql.py)."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from marshmallow import ValidationError

from backhaul.sdk import db, permission_required
from backhaul.sdk.ui import form_errors

from . import ipam
from .models import Assignment, Credential, Device, Reconcile, Site, Subnet
from .reconcile import reconcile

bp = Blueprint("network", __name__, url_prefix="/network", template_folder="templates")


@bp.app_template_filter("network_delta")
def network_delta(change: dict) -> list[tuple[str, object, object]]:
    """``(field, on the device, wanted)`` for the fields that differ: the drift at a glance."""
    before, after = change.get("before") or {}, change.get("after") or {}
    return [(k, before.get(k), after.get(k)) for k in sorted(set(before) | set(after))
            if before.get(k) != after.get(k)]


def _refused(exc: ValidationError) -> str:
    db.session.rollback()
    return " ".join(f"{k}: {' '.join(map(str, v))}" for k, v in form_errors(exc).items())


@bp.get("/")
@permission_required("network.view")
def index():
    subnets = db.session.scalars(sa.select(Subnet).order_by(Subnet.cidr)).all()
    usage = {s.id: ipam.utilisation(s) for s in subnets if s.kind != "supernet"}
    return render_template(
        "network/index.html", subnets=subnets, usage=usage,
        devices=db.session.scalars(sa.select(Device).order_by(Device.name)).all(),
        sites=db.session.scalars(sa.select(Site).order_by(Site.name)).all())


@bp.post("/sites")
@permission_required("network.manage")
def site_new():
    name = request.form.get("name", "").strip()
    if not name or len(name) > 100 or db.session.scalar(sa.select(Site.id).where(
            Site.name == name)):
        flash("Give the site a new name of 1-100 characters.", "error")
    else:
        db.session.add(Site(name=name))
        db.session.commit()
        flash(f"Site {name} added.", "success")
    return redirect(url_for(".index"))


@bp.post("/subnets")
@permission_required("network.manage")
def subnet_new():
    device_id = request.form.get("device_id") or None
    try:
        subnet = ipam.create_subnet(request.form.get("cidr", ""), request.form.get("kind", ""),
                                    device_id=int(device_id) if device_id else None)
        db.session.commit()
        flash(f"Subnet {subnet.cidr} added.", "success")
    except ValidationError as exc:
        flash(_refused(exc), "error")
    return redirect(url_for(".index"))


@bp.get("/devices/<int:device_id>")
@permission_required("network.view")
def device(device_id: int):
    row = db.session.get(Device, device_id) or abort(404)
    runs = db.session.scalars(sa.select(Reconcile).where(Reconcile.device_id == device_id)
                              .order_by(Reconcile.id.desc()).limit(20)).all()
    return render_template("network/device.html", device=row, runs=runs)


@bp.post("/devices/<int:device_id>/reconcile")
@permission_required("network.manage")
def device_reconcile(device_id: int):
    row = db.session.get(Device, device_id) or abort(404)
    dry = request.form.get("dry_run") == "1"
    outcome = reconcile(row.id, dry_run=dry)
    db.session.commit()
    what = "Dry run" if dry else "Reconcile"
    if outcome.record.error:
        flash(f"{what}: {outcome.record.error}", "error")
    else:
        flash(f"{what}: {len(outcome.changes)} difference(s)"
              + ("" if dry else f", {outcome.record.applied} applied") + ".", "success")
    return redirect(url_for(".device", device_id=row.id))


@bp.post("/devices/<int:device_id>/test")
@permission_required("network.manage")
def device_test(device_id: int):
    from .reconcile import test_connection

    row = db.session.get(Device, device_id) or abort(404)
    ok, message = test_connection(row.id)
    db.session.commit()
    flash(f"Connection {'works' if ok else 'failed'}: {message}", "success" if ok else "error")
    return redirect(url_for(".device", device_id=row.id))


def render_account_panel(account) -> str:
    from backhaul.plugins.billing.api import subscriptions

    services = {s.id: s for s in subscriptions(account_ids=[account.id], type_keys=["data"])}
    creds = db.session.scalars(sa.select(Credential).where(
        Credential.account_id == account.id)).all()
    addresses = dict(db.session.execute(sa.select(Assignment.subscription_id,
                                                  Assignment.address).where(
        Assignment.subscription_id.in_({c.subscription_id for c in creds} | set(services)),
        Assignment.valid_to.is_(None))).all()) if (creds or services) else {}
    return render_template("network/_account_panel.html", services=services, creds=creds,
                           addresses=addresses,
                           devices={d.id: d.name for d in db.session.scalars(sa.select(Device))})
