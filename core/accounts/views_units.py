"""Staff pages for a building's units: edit the building, pre-qualify many units at once,
unit access notes, and booking the next tenant of a unit whose tenant is moving out.

Every POST here has a GraphQL mutation behind the same permission: ``updateBuilding``,
``setUnitsServiceability``, ``setUnitAccessNotes``, ``bookNextTenant``.
"""
from __future__ import annotations

from flask import Blueprint, flash, redirect, request, url_for

from backhaul.sdk import permission_required

from . import addresses, units
from .forms import (
    BUILDING_FIELDS,
    ONBOARD_FIELDS,
    SERVICEABILITY_FIELDS,
    FormField,
    labelled,
    posted,
)
from .models import ACCOUNT_TYPES, Address, Building
from .views import attempt, get_or_404, show_form

BOOK_FIELDS = [
    *ONBOARD_FIELDS,
    FormField("on", "Move-in date", "date", required=True, id="book-on",
              help="The unit must be free by then: on or after the current tenant's move-out."),
    FormField("account_type", "Type", "select", options=labelled(ACCOUNT_TYPES),
              default="residential", required=True),
]


def register(bp: Blueprint) -> None:
    @bp.route("/buildings/<int:building_id>/edit", methods=["GET", "POST"])
    @permission_required("accounts.address.edit")
    def building_edit(building_id: int):
        building = get_or_404(Building, building_id)
        action = url_for(".building_edit", building_id=building_id)
        back = url_for(".building_show", building_id=building_id)
        title = f"Edit {building.name}"
        if request.method == "GET":
            values = {f.name: getattr(building, f.name) for f in BUILDING_FIELDS}
            values = {k: ("" if v is None else v) for k, v in values.items()}
            return show_form(title, action, BUILDING_FIELDS, values, back=back)
        data = posted(BUILDING_FIELDS, request.form)
        _, error = attempt(lambda: addresses.update_building(building, data), lambda e: show_form(
            title, action, BUILDING_FIELDS, request.form, e, back=back, status=422))
        if error:
            return error
        flash("Building saved.", "success")
        return redirect(back)

    @bp.post("/buildings/<int:building_id>/serviceability")
    @permission_required("accounts.address.edit")
    def building_serviceability(building_id: int):
        building = get_or_404(Building, building_id)
        ids = [int(v) for v in request.form.getlist("unit") if v.isdigit()]
        data = posted(SERVICEABILITY_FIELDS, request.form)
        back = url_for(".building_show", building_id=building_id)
        done, error = attempt(lambda: units.set_serviceability_many(building, ids, data),
                              lambda e: _flash_errors(e, back))
        if error:
            return error
        state = "serviceable" if data.get("serviceable") else "not serviceable"
        flash(f"{len(done)} unit(s) marked {state}.", "success")
        return redirect(back)

    @bp.post("/addresses/<int:address_id>/access")
    @permission_required("accounts.address.edit")
    def unit_access(address_id: int):
        address = get_or_404(Address, address_id)
        back = url_for(".address_show", address_id=address_id)
        _, error = attempt(lambda: units.set_access_notes(address, request.form.get("notes", "")),
                           lambda e: _flash_errors(e, back))
        if error:
            return error
        flash("Access notes saved.", "success")
        return redirect(back)

    @bp.route("/addresses/<int:address_id>/book", methods=["GET", "POST"])
    @permission_required("accounts.tenant.move")
    def book_tenant(address_id: int):
        address = get_or_404(Address, address_id)
        action = url_for(".book_tenant", address_id=address_id)
        back = url_for(".address_show", address_id=address_id)
        title = f"Book the next tenant of {address.one_line}"
        leaving = units.pending_move_out_of(address)
        lead = ("Creates the account now (a prospect, with the tenant as primary and financial "
                "contact); the move-in runs on the date and makes it active."
                + (f" The current tenant moves out on {leaving.due_at:%Y-%m-%d}."
                   if leaving else ""))
        if request.method == "GET":
            values = {"on": leaving.due_at.date().isoformat() if leaving else "",
                      "account_type": "residential"}
            return show_form(title, action, BOOK_FIELDS, values, back=back,
                             submit="Book tenant", lead=lead)
        data = {**posted(BOOK_FIELDS, request.form), "address_id": address_id}
        result, error = attempt(lambda: units.book_next_tenant(data), lambda e: show_form(
            title, action, BOOK_FIELDS, request.form, e, back=back, submit="Book tenant",
            lead=lead, status=422))
        if error:
            return error
        account, event = result
        flash(f"{account.name} booked as account {account.number}; moves in on "
              f"{event.due_at:%Y-%m-%d}.", "success")
        return redirect(url_for(".account_show", account_id=account.id))


def _flash_errors(errors: dict, back: str):
    text = " ".join(f"{'' if k == '_schema' else k.replace('_', ' ') + ': '}"
                    f"{' '.join(map(str, v if isinstance(v, list) else [v]))}"
                    for k, v in errors.items())
    flash(text, "error")
    return redirect(back)


__all__ = ["BOOK_FIELDS", "register"]
