"""Staff pages: the portal's branding (``portal.settings.manage``) and, on an account page,
the contacts with portal access and their set-password link (``portal.access.manage``).
Each action is also a GraphQL mutation behind the same permission (``graphql.py``)."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from marshmallow import ValidationError

from backhaul.sdk import current_actor, db, permission_required
from backhaul.sdk.accounts import Contact

from . import branding
from .models import Login

staff_bp = Blueprint("portal_staff", __name__, url_prefix="/settings/portal",
                     template_folder="templates")


def branding_form(form, files) -> tuple[dict, bytes | None, bool]:
    data = {k: form.get(k, "") for k in ("name", "tagline", "primary_colour",
                                         "accent_colour", "support_email", "support_phone",
                                         "support_url")}
    data["autopay_locked"] = form.get("autopay_locked") == "y"
    upload = files.get("logo")
    logo_bytes = upload.read(branding.MAX_LOGO_BYTES + 1) if upload and upload.filename else None
    return data, logo_bytes, form.get("remove_logo") == "y"


@staff_bp.route("", methods=["GET", "POST"])
@permission_required("portal.settings.manage")
def branding_page():
    errors, values = {}, None
    if request.method == "POST":
        data, logo_bytes, remove = branding_form(request.form, request.files)
        try:
            branding.save(data, logo_bytes=logo_bytes, remove_logo=remove,
                          actor=str(current_actor()))
        except ValidationError as exc:
            db.session.rollback()
            errors, values = exc.messages, data
        else:
            db.session.commit()
            flash("The portal's branding is saved.", "success")
            return redirect(url_for("portal_staff.branding_page"))
    brand = branding.current()
    return render_template("portal/staff_branding.html", brand=brand, errors=errors,
                           values=values or brand.__dict__), 400 if errors else 200


def portal_contacts(account_id: int) -> list[tuple[Contact, Login | None]]:
    return db.session.execute(sa.select(Contact, Login).outerjoin(
        Login, Login.contact_id == Contact.id).where(
        Contact.account_id == account_id, Contact.portal_access.is_(True))
        .order_by(Contact.id)).all()


def render_account_panel(account) -> str:
    return render_template("portal/_account_panel.html", account=account,
                           contacts=portal_contacts(account.id))


def send_link_for(contact_id: int) -> int | None:
    """Staff sends a contact their set-password link (raises ``ValidationError``)."""
    from .views import send_link

    contact = db.session.get(Contact, contact_id)
    if contact is None:
        raise ValidationError({"contactId": ["There is no such contact."]})
    if not contact.portal_access or not contact.email:
        raise ValidationError({"contactId": ["Give this contact portal access and an e-mail "
                                             "address first."]})
    return send_link(contact, str(current_actor()))


@staff_bp.post("/contacts/<int:contact_id>/link")
@permission_required("portal.access.manage")
def contact_link(contact_id: int):
    contact = db.session.get(Contact, contact_id) or abort(404)
    try:
        message_id = send_link_for(contact_id)
    except ValidationError as exc:
        db.session.rollback()
        flash(" ".join(m for ms in exc.messages.values() for m in ms), "error")
    else:
        db.session.commit()
        flash(f"A set-password link was e-mailed to {contact.email}." if message_id else
              "No e-mail channel is enabled: nothing was sent. Add one under Notifications "
              "→ Channels.", "success" if message_id else "error")
    return redirect(url_for("accounts.account_show", account_id=contact.account_id))
