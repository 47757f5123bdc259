"""Staff pages for pre-qualification: addresses, buildings and their units, the CSV import, and
onboarding a tenant at a vacant address (the move-in half of the tenant lifecycle)."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, request, url_for

from backhaul.sdk import db, permission_required
from backhaul.sdk.ui import Filter, list_page

from . import addresses, buildings, moves
from .csv_import import COLUMNS, CsvImportError, import_addresses
from .forms import (
    ADDRESS_FIELDS,
    BUILDING_FIELDS,
    ONBOARD_FIELDS,
    SERVICEABILITY_FIELDS,
    UNIT_FIELDS,
    FormField,
    labelled,
    posted,
)
from .models import ACCOUNT_TYPES, Account, Address, AddressOccupancy, Building
from .schemas import TECHNOLOGIES
from .views import attempt, get_or_404, show_form, status_options


def _occupied(stmt, value: str):
    open_rows = sa.select(AddressOccupancy.id).where(AddressOccupancy.address_id == Address.id,
                                                     AddressOccupancy.ended_at.is_(None))
    return stmt.where(open_rows.exists() if value == "yes" else ~open_rows.exists())


def _tenants(address_ids: list[int]) -> dict[int, Account]:
    """Current tenants of these addresses, in one query."""
    rows = db.session.execute(
        sa.select(AddressOccupancy.address_id, Account)
        .join(Account, Account.id == AddressOccupancy.account_id)
        .where(AddressOccupancy.address_id.in_(address_ids),
               AddressOccupancy.ended_at.is_(None)))
    return {address_id: account for address_id, account in rows}


def register(bp: Blueprint) -> None:
    from . import views_units

    views_units.register(bp)

    @bp.get("/addresses/")
    @permission_required("accounts.address.view")
    def address_list():
        building_choices = [(str(b.id), b.name) for b in db.session.scalars(
            sa.select(Building).order_by(Building.name))]
        page = list_page(
            sa.select(Address), search=[Address.street, Address.unit, Address.city,
                                        Address.postal_code],
            sortable={"street": Address.street, "unit": Address.unit, "city": Address.city},
            filters={
                "building": Filter(label="Building", choices=building_choices,
                                   apply=lambda s, v: s.where(Address.building_id == int(v))),
                "serviceable": Filter(label="Serviceable", choices=[("yes", "Yes"),
                                                                    ("no", "No")],
                                      apply=lambda s, v: s.where(
                                          Address.serviceable.is_(v == "yes"))),
                "occupied": Filter(label="Occupied", choices=[("yes", "Occupied"),
                                                              ("no", "Vacant")],
                                   apply=_occupied),
                "technology": Filter(Address.technology, "Technology",
                                     labelled(t for t in TECHNOLOGIES if t)),
            },
            default_sort="street")
        tenants = _tenants([a.id for a in page.rows])
        return render_template("accounts/addresses.html", page=page, tenants=tenants)

    @bp.route("/addresses/new", methods=["GET", "POST"])
    @permission_required("accounts.address.edit")
    def address_new():
        action, back = url_for(".address_new"), url_for(".address_list")
        if request.method == "GET":
            return show_form("New address", action, ADDRESS_FIELDS, back=back)
        data = posted(ADDRESS_FIELDS, request.form)
        address, error = attempt(lambda: addresses.create_address(data), lambda e: show_form(
            "New address", action, ADDRESS_FIELDS, request.form, e, back=back, status=422))
        if error:
            return error
        flash("Address added.", "success")
        return redirect(url_for(".address_show", address_id=address.id))

    @bp.get("/addresses/<int:address_id>")
    @permission_required("accounts.address.view")
    def address_show(address_id: int):
        address = get_or_404(Address, address_id)
        from . import units

        leaving, booked = units.unit_moves([address.id])
        return render_template("accounts/address.html", address=address,
                               tenant=addresses.current_tenant(address),
                               history=addresses.occupancy_history(address),
                               access_notes=units.access_notes(address),
                               leaving=leaving.get(address.id), booked=booked.get(address.id))

    @bp.route("/addresses/<int:address_id>/edit", methods=["GET", "POST"])
    @permission_required("accounts.address.edit")
    def address_edit(address_id: int):
        address = get_or_404(Address, address_id)
        action = url_for(".address_edit", address_id=address_id)
        back = url_for(".address_show", address_id=address_id)
        title = f"Edit {address.one_line}"
        if request.method == "GET":
            values = {f.name: getattr(address, f.name) for f in ADDRESS_FIELDS}
            values = {k: ("" if v is None else v) for k, v in values.items()}
            return show_form(title, action, ADDRESS_FIELDS, values, back=back)
        data = posted(ADDRESS_FIELDS, request.form)
        _, error = attempt(lambda: addresses.update_address(address, data), lambda e: show_form(
            title, action, ADDRESS_FIELDS, request.form, e, back=back, status=422))
        if error:
            return error
        flash("Address saved.", "success")
        return redirect(back)

    @bp.route("/addresses/import", methods=["GET", "POST"])
    @permission_required("accounts.address.import")
    def address_import():
        if request.method == "GET":
            return render_template("accounts/import.html", columns=COLUMNS, errors=None)
        upload = request.files.get("file")
        data = upload.read() if upload and upload.filename else request.form.get("csv", "")
        if not data:
            return render_template("accounts/import.html", columns=COLUMNS, errors=None,
                                   missing=True), 422
        try:
            result = import_addresses(data)
        except CsvImportError as exc:
            db.session.rollback()
            return render_template("accounts/import.html", columns=COLUMNS, errors=exc.errors,
                                   summary=str(exc)), 422
        db.session.commit()
        flash(f"Imported {len(result.created)} addresses"
              + (f" and {len(result.buildings_created)} new building(s)."
                 if result.buildings_created else "."), "success")
        return redirect(url_for(".address_list"))

    # -------------------------------------------------------------------------- buildings
    @bp.get("/buildings/")
    @permission_required("accounts.address.view")
    def building_list():
        page = list_page(sa.select(Building), search=[Building.name, Building.street,
                                                      Building.city],
                         sortable={"name": Building.name, "city": Building.city},
                         default_sort="name")
        counts = dict(db.session.execute(
            sa.select(Address.building_id, sa.func.count(Address.id))
            .where(Address.building_id.in_([b.id for b in page.rows]))
            .group_by(Address.building_id)).all())
        return render_template("accounts/buildings.html", page=page, counts=counts)

    @bp.route("/buildings/new", methods=["GET", "POST"])
    @permission_required("accounts.address.edit")
    def building_new():
        action, back = url_for(".building_new"), url_for(".building_list")
        if request.method == "GET":
            return show_form("New building", action, BUILDING_FIELDS, back=back)
        data = posted(BUILDING_FIELDS, request.form)
        building, error = attempt(lambda: addresses.create_building(data), lambda e: show_form(
            "New building", action, BUILDING_FIELDS, request.form, e, back=back, status=422))
        if error:
            return error
        flash(f"Building {building.name} added: now generate its units.", "success")
        return redirect(url_for(".building_show", building_id=building.id))

    @bp.get("/buildings/<int:building_id>")
    @permission_required("accounts.address.view")
    def building_show(building_id: int):
        building = get_or_404(Building, building_id)
        from .units import unit_moves

        units = list(building.addresses)
        leaving, booked = unit_moves([u.id for u in units])
        return render_template("accounts/building.html", building=building, units=units,
                               tenants=_tenants([u.id for u in units]), unit_fields=UNIT_FIELDS,
                               values={"unit_format": "{floor}{unit:02d}"}, errors={},
                               leaving=leaving, booked=booked,
                               serviceability_fields=SERVICEABILITY_FIELDS)

    @bp.post("/buildings/<int:building_id>/units")
    @permission_required("accounts.address.edit")
    def building_units(building_id: int):
        building = get_or_404(Building, building_id)
        data = posted(UNIT_FIELDS, request.form)

        def failed(errors):
            units = list(building.addresses)
            from .units import unit_moves

            leaving, booked = unit_moves([u.id for u in units])
            return render_template("accounts/building.html", building=building, units=units,
                                   tenants=_tenants([u.id for u in units]),
                                   unit_fields=UNIT_FIELDS, values=request.form,
                                   errors=errors, leaving=leaving, booked=booked,
                                   serviceability_fields=SERVICEABILITY_FIELDS), 422

        result, error = attempt(lambda: buildings.generate_units(building, data), failed)
        if error:
            return error
        created, skipped = result
        flash(f"{len(created)} unit(s) created"
              + (f"; {len(skipped)} existed already." if skipped else "."), "success")
        return redirect(url_for(".building_show", building_id=building_id))

    @bp.route("/addresses/<int:address_id>/serviceability", methods=["POST"])
    @permission_required("accounts.address.edit")
    def address_serviceability(address_id: int):
        address = get_or_404(Address, address_id)
        data = posted(SERVICEABILITY_FIELDS, request.form)
        _, error = attempt(lambda: addresses.set_serviceability(address, data), lambda e: show_form(
            f"Serviceability of {address.one_line}", request.path, SERVICEABILITY_FIELDS,
            request.form, e, back=url_for(".address_show", address_id=address_id), status=422))
        if error:
            return error
        flash("Serviceability saved.", "success")
        return redirect(url_for(".address_show", address_id=address_id))

    # -------------------------------------------------------------------------- move-in
    @bp.route("/addresses/<int:address_id>/onboard", methods=["GET", "POST"])
    @permission_required("accounts.tenant.move")
    def onboard(address_id: int):
        address = get_or_404(Address, address_id)
        fields = [*ONBOARD_FIELDS,
                  FormField("account_type", "Type", "select", options=labelled(ACCOUNT_TYPES),
                            default="residential", required=True),
                  FormField("status", "Status", "select", options=status_options())]
        action = url_for(".onboard", address_id=address_id)
        back = url_for(".address_show", address_id=address_id)
        title = f"Onboard a tenant at {address.one_line}"
        lead = "Creates the account with the tenant as its primary and financial contact."
        if request.method == "GET":
            return show_form(title, action, fields, back=back, submit="Onboard tenant",
                             lead=lead)
        data = {**posted(fields, request.form), "address_id": address_id}
        account, error = attempt(lambda: moves.onboard_tenant(data), lambda e: show_form(
            title, action, fields, request.form, e, back=back, submit="Onboard tenant",
            lead=lead, status=422))
        if error:
            return error
        flash(f"{account.name} onboarded as account {account.number}.", "success")
        return redirect(url_for(".account_show", account_id=account.id))
