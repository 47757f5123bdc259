"""Staff pages for accounts: list, dashboard, and the forms behind every dashboard action.

Each action posts to its own URL; on success it commits and redirects back to the dashboard
with a message, on bad input it rolls back and shows its form again with the errors beside the
fields (HTTP 422). Addresses, buildings and the CSV import live in :mod:`.views_addresses`.
"""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from marshmallow import ValidationError

from backhaul.core.auth.identity import current_principal
from backhaul.sdk import db, permission_required
from backhaul.sdk.ui import Filter, list_page

from . import accounts as accounts_mod
from . import calls, contacts, moves, notes, scheduling, statuses
from .forms import (
    ACCOUNT_FIELDS,
    CALL_FIELDS,
    CONTACT_FIELDS,
    MOVE_OUT_FIELDS,
    NOTE_FIELDS,
    PREFERENCE_FIELDS,
    FormField,
    labelled,
    posted,
    preference_values,
    preferences_from,
)
from .models import ACCOUNT_TYPES, Account, AccountGroup, AccountStatus, Contact, Note
from .models import ScheduledEvent as Event


def placed(errors: dict | None, fields) -> dict:
    """Errors of inputs the form does not show go to the top of the form (``_schema``)."""
    names = {f.name for f in fields}
    out: dict = {}
    for key, messages in (errors or {}).items():
        target = key if key in names else "_schema"
        listed = messages if isinstance(messages, list) else [messages]
        out.setdefault(target, []).extend(str(m) for m in listed)
    return out


def show_form(title: str, action: str, fields, values=None, errors=None, back=None,
              submit: str = "Save", lead: str | None = None, status: int = 200):
    errors = placed(errors, fields)
    return render_template("accounts/form.html", title=title, action=action, fields=fields,
                           values=values or {}, errors=errors or {}, back_url=back,
                           submit=submit, lead=lead), status


def _unit_access(account) -> str:
    from .units import access_notes

    return access_notes(account.address) if account.address is not None else ""


def attempt(work, on_error):
    """Run ``work()`` and commit; on ``ValidationError`` roll back and ``on_error(messages)``."""
    try:
        result = work()
    except ValidationError as exc:
        db.session.rollback()
        return None, on_error(exc.normalized_messages())
    db.session.commit()
    return result, None


def get_or_404(model, ident):
    obj = db.session.get(model, ident)
    if obj is None:
        abort(404)
    return obj


def status_options():
    return [(s.key, s.name) for s in statuses.all_statuses()]


def register(bp: Blueprint) -> None:
    @bp.context_processor
    def helpers():
        principal = current_principal()
        return {"can": principal.has_permission}

    @bp.get("/")
    @permission_required("accounts.account.view")
    def account_list():
        stmt = sa.select(Account).join(AccountStatus, Account.status_id == AccountStatus.id)
        groups = db.session.scalars(sa.select(AccountGroup.name).order_by(AccountGroup.name))
        page = list_page(
            stmt, search=[Account.number, Account.name],
            sortable={"number": Account.number, "name": Account.name,
                      "created": Account.created_at},
            filters={"status": Filter(AccountStatus.key, "Status", status_options()),
                     "type": Filter(Account.account_type, "Type", labelled(ACCOUNT_TYPES)),
                     "group": Filter(label="Group", choices=[(g, g) for g in groups],
                                     apply=lambda s, v: s.where(
                                         Account.groups.any(AccountGroup.name == v)))},
            default_sort="number")
        return render_template("accounts/list.html", page=page)

    @bp.route("/new", methods=["GET", "POST"])
    @permission_required("accounts.account.edit")
    def account_new():
        fields = [*ACCOUNT_FIELDS, FormField("status", "Status", "select",
                                             options=status_options())]
        action = url_for(".account_new")
        if request.method == "GET":
            return show_form("New account", action, fields, back=url_for(".account_list"))
        data = posted(fields, request.form)
        data["groups"] = _groups(data.get("groups"))
        account, error = attempt(lambda: accounts_mod.create_account(data), lambda e: show_form(
            "New account", action, fields, request.form, e, status=422))
        if error:
            return error
        flash(f"Account {account.number} created.", "success")
        return redirect(url_for(".account_show", account_id=account.id))

    @bp.get("/<int:account_id>")
    @permission_required("accounts.account.view")
    def account_show(account_id: int):
        from .addresses import current_occupancy
        from .timeline import build_timeline

        account = get_or_404(Account, account_id)
        occupancy = moves.open_occupancy(account)
        return render_template(
            "accounts/show.html", account=account, occupancy=occupancy,
            address_tenant=current_occupancy(account.address) if account.address else None,
            pinned=notes.pinned_notes(account), timeline=build_timeline(account, 100),
            events=scheduling.events_for(account), statuses=status_options(),
            move_out=moves.pending_move_out(account),
            access_notes=_unit_access(account),
            action_types=sorted(scheduling.action_types().values(), key=lambda t: t.label),
            fields={"note": NOTE_FIELDS, "call": _call_fields(account),
                    "contact": CONTACT_FIELDS, "move_out": MOVE_OUT_FIELDS})

    @bp.route("/<int:account_id>/edit", methods=["GET", "POST"])
    @permission_required("accounts.account.edit")
    def account_edit(account_id: int):
        account = get_or_404(Account, account_id)
        fields, action = ACCOUNT_FIELDS, url_for(".account_edit", account_id=account_id)
        back = url_for(".account_show", account_id=account_id)
        if request.method == "GET":
            values = {"name": account.name, "account_type": account.account_type,
                      "groups": ", ".join(g.name for g in account.groups)}
            return show_form(f"Edit {account.number}", action, fields, values, back=back)
        data = posted(fields, request.form)
        data["groups"] = _groups(data.get("groups"))
        _, error = attempt(lambda: accounts_mod.update_account(account, data), lambda e: show_form(
            f"Edit {account.number}", action, fields, request.form, e, back=back, status=422))
        if error:
            return error
        flash("Account saved.", "success")
        return redirect(back)

    @bp.post("/<int:account_id>/status")
    @permission_required("accounts.account.edit")
    def account_status(account_id: int):
        account = get_or_404(Account, account_id)
        key = request.form.get("status", "")
        changed, error = attempt(lambda: statuses.set_status(account, key, reason="manual"),
                                 lambda e: _back_with_errors(account, e))
        if error:
            return error
        flash(f"Status changed to {account.status.name}." if changed else
              "The status was already set.", "success" if changed else "info")
        return redirect(url_for(".account_show", account_id=account_id))

    # -------------------------------------------------------------------------- contacts
    @bp.route("/<int:account_id>/contacts/new", methods=["GET", "POST"])
    @permission_required("accounts.account.edit")
    def contact_new(account_id: int):
        account = get_or_404(Account, account_id)
        action = url_for(".contact_new", account_id=account_id)
        back = url_for(".account_show", account_id=account_id)
        if request.method == "GET":
            return show_form(f"New contact for {account.name}", action, CONTACT_FIELDS,
                             back=back)
        data = posted(CONTACT_FIELDS, request.form)
        contact, error = attempt(lambda: contacts.add_contact(account, data), lambda e: show_form(
            f"New contact for {account.name}", action, CONTACT_FIELDS, request.form, e,
            back=back, status=422))
        if error:
            return error
        flash(f"Contact {contact.name} added.", "success")
        return redirect(back)

    @bp.route("/contacts/<int:contact_id>/edit", methods=["GET", "POST"])
    @permission_required("accounts.account.edit")
    def contact_edit(contact_id: int):
        contact = get_or_404(Contact, contact_id)
        fields = [*CONTACT_FIELDS, *PREFERENCE_FIELDS]
        action = url_for(".contact_edit", contact_id=contact_id)
        back = url_for(".account_show", account_id=contact.account_id)
        title = f"Edit contact {contact.name}"
        if request.method == "GET":
            values = {"name": contact.name, "email": contact.email or "",
                      "phone": contact.phone or "", "is_primary": contact.is_primary,
                      "is_financial": contact.is_financial,
                      "portal_access": contact.portal_access,
                      **preference_values(contact.preferences)}
            return show_form(title, action, fields, values, back=back)
        data = posted(CONTACT_FIELDS, request.form)
        if not data["is_primary"] and contact.is_primary:
            data.pop("is_primary")  # switching primary happens by choosing the new one
        data["preferences"] = preferences_from(request.form)
        _, error = attempt(lambda: contacts.update_contact(contact, data), lambda e: show_form(
            title, action, fields, request.form, e, back=back, status=422))
        if error:
            return error
        flash("Contact saved.", "success")
        return redirect(back)

    @bp.post("/contacts/<int:contact_id>/<any(primary, financial, unfinancial, remove):what>")
    @permission_required("accounts.account.edit")
    def contact_action(contact_id: int, what: str):
        contact = get_or_404(Contact, contact_id)
        account = contact.account
        work = {"primary": lambda: contacts.set_primary(contact),
                "financial": lambda: contacts.set_financial(contact, True),
                "unfinancial": lambda: contacts.set_financial(contact, False),
                "remove": lambda: contacts.remove_contact(contact)}[what]
        _, error = attempt(work, lambda e: _back_with_errors(account, e))
        if error:
            return error
        flash("Contact updated." if what != "remove" else "Contact removed.", "success")
        return redirect(url_for(".account_show", account_id=account.id))

    # -------------------------------------------------------------------------- notes, calls
    @bp.route("/<int:account_id>/notes", methods=["GET", "POST"])
    @permission_required("accounts.note.edit")
    def note_new(account_id: int):
        account = get_or_404(Account, account_id)
        action = url_for(".note_new", account_id=account_id)
        back = url_for(".account_show", account_id=account_id)
        if request.method == "GET":
            return show_form("New note", action, NOTE_FIELDS, back=back)
        data = posted(NOTE_FIELDS, request.form)
        _, error = attempt(lambda: notes.add_note(account, data), lambda e: show_form(
            "New note", action, NOTE_FIELDS, request.form, e, back=back, status=422))
        if error:
            return error
        flash("Note added.", "success")
        return redirect(back)

    @bp.post("/notes/<int:note_id>/<any(pin, unpin, delete):what>")
    @permission_required("accounts.note.edit")
    def note_action(note_id: int, what: str):
        note = get_or_404(Note, note_id)
        account_id = note.account_id
        if what == "delete":
            notes.delete_note(note)
        else:
            notes.set_pinned(note, what == "pin")
        db.session.commit()
        flash({"pin": "Note pinned.", "unpin": "Note unpinned.", "delete": "Note deleted."}[what],
              "success")
        return redirect(url_for(".account_show", account_id=account_id))

    @bp.route("/<int:account_id>/calls", methods=["GET", "POST"])
    @permission_required("accounts.call.edit")
    def call_new(account_id: int):
        account = get_or_404(Account, account_id)
        fields = _call_fields(account)
        action = url_for(".call_new", account_id=account_id)
        back = url_for(".account_show", account_id=account_id)
        if request.method == "GET":
            return show_form("Log a call", action, fields, back=back)
        data = posted(fields, request.form)
        minutes = data.pop("duration_minutes", "") or "0"
        try:
            data["duration_seconds"] = int(round(float(minutes) * 60))
        except ValueError:
            return show_form("Log a call", action, fields, request.form,
                             {"duration_minutes": ["Give the duration in minutes."]},
                             back=back, status=422)
        _, error = attempt(lambda: calls.log_call(account, data), lambda e: show_form(
            "Log a call", action, fields, request.form, _rename(e, "duration_seconds",
                                                                "duration_minutes"),
            back=back, status=422))
        if error:
            return error
        flash("Call logged.", "success")
        return redirect(back)

    # -------------------------------------------------------------------------- events, moves
    @bp.route("/<int:account_id>/events", methods=["GET", "POST"])
    @permission_required("accounts.event.manage")
    def event_new(account_id: int):
        account = get_or_404(Account, account_id)
        fields = _event_fields(account)
        action = url_for(".event_new", account_id=account_id)
        back = url_for(".account_show", account_id=account_id)
        if request.method == "GET":
            return show_form("Schedule an event", action, fields, back=back)
        form = request.form

        def work():
            kind = scheduling.action_type(form.get("action", ""))
            params = {name: form[name] for name in kind.schema().fields
                      if form.get(name, "") != ""}
            return scheduling.schedule_event(account, kind.key, form.get("due_at", ""), params)

        event, error = attempt(work, lambda e: show_form(
            "Schedule an event", action, fields, form, _flatten_params(e), back=back,
            status=422))
        if error:
            return error
        flash(f"{event.action.replace('_', ' ').capitalize()} scheduled.", "success")
        return redirect(back)

    @bp.post("/events/<int:event_id>/<any(cancel, retry):what>")
    @permission_required("accounts.event.manage")
    def event_action(event_id: int, what: str):
        event = get_or_404(Event, event_id)
        work = scheduling.cancel_event if what == "cancel" else scheduling.retry_event
        _, error = attempt(lambda: work(event), lambda e: _back_with_errors(event.account, e))
        if error:
            return error
        flash("Event cancelled." if what == "cancel" else "Event will run again.", "success")
        return redirect(url_for(".account_show", account_id=event.account_id))

    @bp.route("/events/<int:event_id>/reschedule", methods=["GET", "POST"])
    @permission_required("accounts.event.manage")
    def event_reschedule(event_id: int):
        event = get_or_404(Event, event_id)
        fields = [FormField("due_at", "New date and time", "datetime-local", required=True)]
        action = url_for(".event_reschedule", event_id=event_id)
        back = url_for(".account_show", account_id=event.account_id)
        if request.method == "GET":
            return show_form("Reschedule event", action, fields, back=back)
        _, error = attempt(lambda: scheduling.reschedule_event(event, request.form.get("due_at")),
                           lambda e: show_form("Reschedule event", action, fields, request.form,
                                               e, back=back, status=422))
        if error:
            return error
        flash("Event rescheduled.", "success")
        return redirect(back)

    @bp.route("/<int:account_id>/move-out", methods=["GET", "POST"])
    @permission_required("accounts.tenant.move")
    def move_out(account_id: int):
        account = get_or_404(Account, account_id)
        fields = [*MOVE_OUT_FIELDS, FormField(
            "status", "Status after the move-out", "select",
            options=[(s.key, s.name) for s in statuses.all_statuses() if s.meaning == "inactive"],
            default=statuses.move_out_status().key, required=True)]
        action = url_for(".move_out", account_id=account_id)
        back = url_for(".account_show", account_id=account_id)
        title = f"Move-out of {account.name}"
        if request.method == "GET":
            return show_form(title, action, fields, back=back, submit="Schedule move-out")
        data = posted(fields, request.form)
        event, error = attempt(lambda: moves.schedule_move_out(account, data), lambda e: show_form(
            title, action, fields, request.form, e, back=back, submit="Schedule move-out",
            status=422))
        if error:
            return error
        flash(f"Move-out scheduled for {event.due_at:%Y-%m-%d}.", "success")
        return redirect(back)


def register_statuses(bp: Blueprint) -> None:
    fields = [
        FormField("key", "Key", required=True, help="Lower-case letters, digits, underscores."),
        FormField("name", "Name", required=True),
        FormField("colour", "Colour", "color", required=True, default="#6b7280"),
        FormField("meaning", "Meaning", "select", required=True, options=[
            ("active", "Active: in service"), ("inactive", "Inactive: no service"),
            ("delinquent", "Delinquent: unpaid"), ("prospect", "Prospect: not yet a customer")]),
        FormField("position", "Position in lists", "number", default="100"),
        FormField("is_default", "Default for new accounts", "checkbox"),
    ]

    @bp.route("/statuses", methods=["GET", "POST"])
    @permission_required("accounts.status.manage")
    def status_list():
        values, errors, code = {}, {}, 200
        if request.method == "POST":
            data = posted(fields, request.form)

            def work():
                try:
                    position = int(data.get("position") or 100)
                except ValueError:
                    raise ValidationError({"position": ["Give a whole number."]}) from None
                return statuses.save_status(data.get("key", ""), data.get("name", ""),
                                            data.get("colour", ""), data.get("meaning", ""),
                                            is_default=data["is_default"], position=position)

            saved, failed = attempt(work, lambda e: e)
            if failed is None:
                flash(f"Status {saved.name} saved.", "success")
                return redirect(url_for(".status_list"))
            values, errors, code = request.form, placed(failed, fields), 422
        return render_template("accounts/statuses.html", statuses=statuses.all_statuses(),
                               fields=fields, values=values, errors=errors), code


def _groups(text) -> list[str]:
    if isinstance(text, list):
        return text
    return [g.strip() for g in (text or "").split(",") if g.strip()]


def _rename(errors: dict, old: str, new: str) -> dict:
    return {(new if k == old else k): v for k, v in errors.items()}


def _flatten_params(errors: dict) -> dict:
    """Errors of the action's parameters sit beside those parameters' inputs."""
    out = {k: v for k, v in errors.items() if k != "params"}
    params = errors.get("params")
    if isinstance(params, dict):
        out.update(params)
    return out


def _back_with_errors(account: Account, errors: dict):
    for field, messages in errors.items():
        for message in messages if isinstance(messages, list) else [messages]:
            flash(f"{message}" if field in ("_schema", "event", "contact") else
                  f"{field.replace('_', ' ').capitalize()}: {message}", "error")
    return redirect(url_for(".account_show", account_id=account.id))


def _contact_options(account: Account):
    return [(c.id, c.name) for c in account.contacts]


def _call_fields(account: Account):
    return [CALL_FIELDS[0], FormField("contact_id", "Contact", "select",
                                      options=_contact_options(account)), *CALL_FIELDS[1:]]


def _event_fields(account: Account):
    types = sorted(scheduling.action_types().values(), key=lambda t: t.label)
    return [
        FormField("action", "Action", "select", options=[(t.key, t.label) for t in types],
                  required=True, id="event-action"),
        FormField("due_at", "When", "datetime-local", required=True, id="event-due"),
        FormField("status", "Status (change status, move-out)", "select",
                  options=status_options(), id="event-status"),
        FormField("contact_id", "Contact (contact switches)", "select",
                  options=_contact_options(account), id="event-contact"),
    ]


def make_blueprint() -> Blueprint:
    from .views_addresses import register as register_addresses

    bp = Blueprint("accounts", __name__, url_prefix="/accounts", template_folder="templates",
                   static_folder="static")
    register(bp)
    register_statuses(bp)
    register_addresses(bp)
    return bp
