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
        length = request.form.get("delegated_length", "").strip()
        subnet = ipam.create_subnet(request.form.get("cidr", ""), request.form.get("kind", ""),
                                    device_id=int(device_id) if device_id else None,
                                    delegated_length=int(length) if length.isdigit() else None)
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


# ------------------------------------------------------------------ adding a device
@bp.route("/devices/new", methods=["GET", "POST"])
@permission_required("network.manage")
def device_new():
    """Pick a backend, then fill the device and that backend's own settings (generated from
    its schema; secret ones sealed)."""
    from backhaul.sdk import registered
    from backhaul.sdk.instances import form_fields, parse_form

    from .devices import ROLES, create_device

    backends = registered("provisioning_backends")
    key = request.values.get("backend", "")
    backend = backends.get(key)
    specs = form_fields(backend) if backend else []
    errors: dict = {}
    values = dict(request.form) if request.method == "POST" else {}
    if request.method == "POST" and backend is not None:
        try:
            row = create_device(
                name=request.form.get("name", ""), backend=key,
                site_id=_int(request.form.get("site_id")), role=request.form.get("role"),
                vendor=request.form.get("vendor"), host=request.form.get("host"),
                port=_int(request.form.get("port")), username=request.form.get("username"),
                password=request.form.get("password") or None,
                radius_secret=request.form.get("radius_secret") or None,
                settings=parse_form(request.form, specs))
            db.session.commit()
            flash(f"Device {row.name} added. Test its connection, then run a dry run.",
                  "success")
            return redirect(url_for(".device", device_id=row.id))
        except ValidationError as exc:
            db.session.rollback()
            errors = form_errors(exc)
            nested = errors.pop("settings", {})
            if isinstance(nested, dict):
                errors.update({f"settings.{k}": v for k, v in nested.items()})
            errors = {{"siteId": "site_id", "radiusSecret": "radius_secret"}.get(k, k): v
                      for k, v in errors.items()}
    return render_template("network/device_new.html", backends=backends, backend=backend,
                           key=key, specs=specs, errors=errors, values=values, roles=ROLES,
                           settings_values={s.name: request.form.get(f"settings.{s.name}",
                                                                     s.default or "")
                                            for s in specs if not s.secret},
                           sites=db.session.scalars(sa.select(Site).order_by(Site.name)).all()
                           ), 422 if errors else 200


def _int(value) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        raise ValidationError({"port": [f"'{value}' is not a number"]}) from None


# ------------------------------------------------------------------ one data service
def _service_or_404(subscription_id: int):
    from backhaul.plugins.billing.api import get_subscription

    sub = get_subscription(subscription_id)
    if sub is None or sub.type_key != "data":
        abort(404)
    return sub


def _render_service(sub, errors=None, revealed: str | None = None, status: int = 200):
    from .models import Lease

    cred = db.session.scalar(sa.select(Credential).where(
        Credential.subscription_id == sub.id))
    history = db.session.scalars(sa.select(Assignment).where(
        Assignment.subscription_id == sub.id).order_by(Assignment.valid_from.desc())
        .limit(50)).all()
    leases = db.session.scalars(sa.select(Lease).where(Lease.subscription_id == sub.id)
                                .order_by(Lease.id).limit(16)).all()
    pools = db.session.scalars(sa.select(Subnet).where(Subnet.kind != "supernet")
                               .order_by(Subnet.cidr)).all()
    return render_template(
        "network/service.html", sub=sub, cred=cred, history=history, leases=leases,
        pools=pools, errors=errors or {}, revealed=revealed,
        devices=db.session.scalars(sa.select(Device).order_by(Device.name)).all()), status


@bp.get("/services/<int:subscription_id>")
@permission_required("network.view")
def service(subscription_id: int):
    return _render_service(_service_or_404(subscription_id))


@bp.post("/services/<int:subscription_id>/credentials")
@permission_required("network.manage")
def service_credentials(subscription_id: int):
    from . import credentials

    sub = _service_or_404(subscription_id)
    form = request.form
    try:
        credentials.set_credentials(
            sub.id, username=form.get("username") or None,
            password=form.get("password") or None, mac=form.get("mac") or None,
            device_id=_device_id(form.get("device_id")),
            circuit_id=form.get("circuit_id", "").strip() or None,
            remote_id=form.get("remote_id", "").strip() or None,
            vlan=_vlan(form.get("vlan", "")))
        db.session.commit()
    except ValidationError as exc:
        db.session.rollback()
        return _render_service(sub, form_errors(exc), status=422)
    flash("Credentials saved; the service's devices are being updated.", "success")
    return redirect(url_for(".service", subscription_id=sub.id))


def _vlan(value: str) -> int | None:
    value = value.strip()
    if not value:
        return 0
    if not value.isdigit():
        raise ValidationError({"vlan": ["an 802.1Q VLAN id, 1-4094"]})
    return int(value)


def _device_id(value) -> int | None:
    if not value:
        return None
    if not value.isdigit() or db.session.get(Device, int(value)) is None:
        raise ValidationError({"device_id": ["choose a device from the list"]})
    return int(value)


@bp.post("/services/<int:subscription_id>/reveal")
@permission_required("network.credentials.reveal")
def service_reveal(subscription_id: int):
    """The password, in this response only (never flashed or stored); audited."""
    from . import credentials

    sub = _service_or_404(subscription_id)
    row = db.session.scalar(sa.select(Credential).where(Credential.subscription_id == sub.id))
    if row is None:
        abort(404)
    password = credentials.reveal(row)
    db.session.commit()
    response, status = _render_service(sub, revealed=password)
    return response, status, {"Cache-Control": "no-store"}


@bp.post("/services/<int:subscription_id>/assign")
@permission_required("network.manage")
def service_assign(subscription_id: int):
    sub = _service_or_404(subscription_id)
    subnet_id = request.form.get("subnet_id", "")
    subnet = db.session.get(Subnet, int(subnet_id)) if subnet_id.isdigit() else None
    try:
        if subnet is None:
            raise ValidationError({"subnet_id": ["choose a pool"]})
        row = ipam.assign(sub.id, subnet, request.form.get("address", "").strip() or None)
        db.session.commit()
    except ValidationError as exc:
        db.session.rollback()
        errors = form_errors(exc)
        if "subnetId" in errors:
            errors["subnet_id"] = errors.pop("subnetId")
        return _render_service(sub, errors, status=422)
    flash(f"{row.address} assigned.", "success")
    return redirect(url_for(".service", subscription_id=sub.id))


@bp.post("/services/<int:subscription_id>/release")
@permission_required("network.manage")
def service_release(subscription_id: int):
    sub = _service_or_404(subscription_id)
    released = ipam.release(sub.id)
    db.session.commit()
    flash(f"{released} address(es) released; the history keeps them.", "success")
    return redirect(url_for(".service", subscription_id=sub.id))
