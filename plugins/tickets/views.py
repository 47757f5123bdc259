"""The staff pages: the queue (per group, with filters), a ticket (thread, reply with a
canned-reply preview, internal notes, changes), opening a ticket by hand, the inbound mail
log (release held mail) and the desk's set-up. Every form posts to an action that has a
GraphQL mutation behind the same permission (graphql.py)."""
from __future__ import annotations

import sqlalchemy as sa
from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from marshmallow import ValidationError
from werkzeug.routing import BuildError

from backhaul.sdk import db, may, permission_required
from backhaul.sdk.accounts import get_account_by_number
from backhaul.sdk.ui import Filter, form_errors, list_page

from . import canned, config, desk, imap, mailin, saved
from .models import (
    OPEN_STATUSES,
    PRIORITIES,
    STATUSES,
    CannedReply,
    Category,
    Group,
    ImapMailbox,
    InboundAddress,
    InboundMail,
    SavedView,
    Ticket,
    TicketAttachment,
)

bp = Blueprint("tickets", __name__, url_prefix="/tickets", template_folder="templates",
               static_folder="static", static_url_path="/static")


def _choices(model) -> list[tuple[int, str]]:
    return [(r.id, r.name) for r in db.session.scalars(sa.select(model).order_by(model.name))]


def _assignee_filter(stmt, value: str):
    if value == "me":
        return stmt.where(Ticket.assignee_id == (desk.actor_user_id() or -1))
    if value == "none":
        return stmt.where(Ticket.assignee_id.is_(None))
    return stmt.where(Ticket.assignee_id == int(value)) if value.isdigit() else stmt


def _int_filter(column):
    """Equality on an integer column (the query string is text; PostgreSQL will not compare)."""
    return lambda stmt, value: stmt.where(column == int(value)) if value.isdigit() else stmt


def _status_filter(stmt, value: str):
    if value == "active":
        return stmt.where(Ticket.status.in_(("new", "open", "pending")))
    return stmt.where(Ticket.status == value)


@bp.get("/")
@permission_required("tickets.ticket.view")
def index():
    groups = _choices(Group)
    staff = desk.staff_choices()
    page = list_page(
        sa.select(Ticket), sortable={"token": Ticket.id, "subject": Ticket.subject,
                                     "status": Ticket.status, "priority": Ticket.priority,
                                     "activity": Ticket.last_activity_at},
        filters={"group": Filter(label="Group", choices=groups,
                                 apply=_int_filter(Ticket.group_id)),
                 "status": Filter(label="Status", apply=_status_filter,
                                  choices=[("active", "Not solved"),
                                           *[(s, s.capitalize()) for s in STATUSES]]),
                 "priority": Filter(Ticket.priority, "Priority",
                                    [(p, p.capitalize()) for p in PRIORITIES]),
                 "category": Filter(label="Category", choices=_choices(Category),
                                    apply=_int_filter(Ticket.category_id)),
                 "assignee": Filter(label="Assignee", apply=_assignee_filter,
                                    choices=[("me", "Me"), ("none", "Nobody"), *staff])},
        search=[Ticket.token, Ticket.subject, Ticket.requester_email, Ticket.requester_name],
        default_sort="-activity")
    counts = dict(db.session.execute(sa.select(Ticket.group_id, sa.func.count(Ticket.id))
                                     .where(Ticket.status.in_(OPEN_STATUSES))
                                     .group_by(Ticket.group_id)).all())
    return render_template("tickets/index.html", page=page, groups=groups, counts=counts,
                           group_names=dict(groups), staff=dict(staff),
                           categories=dict(_choices(Category)), saved_views=saved.visible(),
                           view_url=_view_url)


def _view_url(view: SavedView) -> str:
    return url_for(".index", **view.filters)


@bp.post("/views")
@permission_required("tickets.ticket.view")
def view_save():
    filters = {k: request.form.get(k, "") for k in saved.KEYS}
    try:
        view = saved.save(request.form.get("name", ""), filters,
                          shared=bool(request.form.get("shared")))
    except ValidationError as exc:
        db.session.rollback()
        flash("View not saved: " + " ".join(
            f"{k}: {' '.join(v)}" for k, v in form_errors(exc).items()), "error")
        return redirect(url_for(".index", **{k: v for k, v in filters.items() if v}))
    db.session.commit()
    flash(f"View {view.name} saved.", "success")
    return redirect(_view_url(view))


@bp.post("/views/<int:view_id>/delete")
@permission_required("tickets.ticket.view")
def view_delete(view_id: int):
    view = db.session.get(SavedView, view_id) or abort(404)
    try:
        saved.delete(view)
    except ValidationError as exc:
        db.session.rollback()
        flash(" ".join(sum(form_errors(exc).values(), [])), "error")
        return redirect(url_for(".index"))
    db.session.commit()
    flash(f"View {view.name} deleted.", "success")
    return redirect(url_for(".index"))


def _form_values() -> dict:
    return {k: request.form.get(k, "") for k in (
        "subject", "groupId", "categoryId", "priority", "assigneeId", "accountNumber",
        "body", "status")}


def _account_id(number: str):
    if not number.strip():
        return None
    account = get_account_by_number(number.strip())
    if account is None:
        raise ValidationError({"accountNumber": [f"there is no account {number.strip()}"]})
    return account.id


@bp.get("/new")
@permission_required("tickets.ticket.work")
def new():
    values = {"accountNumber": request.args.get("account", ""), "priority": "normal"}
    return _new_page(values, {})


def _new_page(values, errors, status=200):
    return render_template("tickets/new.html", values=values, errors=errors,
                           groups=_choices(Group), categories=_choices(Category),
                           staff=desk.staff_choices(), priorities=PRIORITIES), status


@bp.post("/new")
@permission_required("tickets.ticket.work")
def create():
    values = _form_values()
    try:
        data = {**values, "accountId": _account_id(values["accountNumber"])}
        ticket = desk.open_ticket(data)
    except ValidationError as exc:
        db.session.rollback()
        return _new_page(values, form_errors(exc), 422)
    db.session.commit()
    flash(f"Ticket {ticket.token} opened.", "success")
    return redirect(url_for(".show", ticket_id=ticket.id))


def _ticket(ticket_id: int) -> Ticket:
    return db.session.get(Ticket, ticket_id) or abort(404)


def _show_page(ticket: Ticket, reply_values: dict, errors: dict, status: int = 200):
    from backhaul.sdk.accounts import get_account

    account = get_account(ticket.account_id) if ticket.account_id else None
    try:  # a field-jobs plugin, when enabled, books a visit for the ticket
        job_url = url_for("scheduling.job_new", ticket=ticket.id)
    except BuildError:
        job_url = None
    return render_template(
        "tickets/show.html", ticket=ticket, account=account, errors=errors,
        reply_values=reply_values, canned_replies=canned.offered(ticket),
        canned_options=[(c.id, c.name) for c in canned.offered(ticket)],
        groups=_choices(Group), categories=_choices(Category), staff=desk.staff_choices(),
        assignee=desk.staff_name(ticket.assignee_id), statuses=STATUSES,
        priorities=PRIORITIES, origin=desk.sending_address(ticket), job_url=job_url), status


@bp.get("/<int:ticket_id>")
@permission_required("tickets.ticket.view")
def show(ticket_id: int):
    ticket = _ticket(ticket_id)
    values, errors = {"status": "pending"}, {}
    chosen = request.args.get("canned", "")
    if chosen and may("tickets.ticket.work"):
        row = db.session.get(CannedReply, int(chosen)) if chosen.isdigit() else None
        if row is None:
            errors = {"canned": ["choose one of the canned replies"]}
        else:
            try:
                values["body"] = canned.render(row, ticket)
                values["canned"] = str(row.id)
            except ValidationError as exc:
                errors = {"canned": form_errors(exc).get("body", [])}
    return _show_page(ticket, values, errors)


@bp.post("/<int:ticket_id>/reply")
@permission_required("tickets.ticket.work")
def reply(ticket_id: int):
    ticket = _ticket(ticket_id)
    values = {"body": request.form.get("body", ""), "status": request.form.get("status", "")}
    internal = request.form.get("kind") == "note"
    try:
        if internal:
            desk.add_note(ticket, values["body"])
        else:
            msg = desk.reply(ticket, values["body"], values["status"] or None)
    except ValidationError as exc:
        db.session.rollback()
        return _show_page(ticket, values, form_errors(exc), 422)
    db.session.commit()
    if internal:
        flash("Internal note added.", "success")
    elif msg.notification_id is None:
        flash("Reply kept on the ticket but NOT e-mailed: " + (
            "the ticket has no address to answer." if not msg.to_address else
            "no e-mail channel is enabled (Notifications → Channels)."), "error")
    else:
        flash(f"Reply queued to {msg.to_address}.", "success")
    return redirect(url_for(".show", ticket_id=ticket.id))


@bp.post("/<int:ticket_id>/update")
@permission_required("tickets.ticket.work")
def update(ticket_id: int):
    ticket = _ticket(ticket_id)
    form = request.form
    data = {k: form.get(k) for k in ("status", "priority", "groupId", "categoryId",
                                     "assigneeId") if k in form}
    try:
        if "accountNumber" in form:
            data["accountId"] = _account_id(form["accountNumber"])
        desk.update_ticket(ticket, data)
    except ValidationError as exc:
        db.session.rollback()
        return _show_page(ticket, {"status": "pending"}, form_errors(exc), 422)
    db.session.commit()
    flash(f"Ticket {ticket.token} saved.", "success")
    return redirect(url_for(".show", ticket_id=ticket.id))


@bp.get("/attachments/<int:attachment_id>")
@permission_required("tickets.ticket.view")
def attachment(attachment_id: int):
    row = db.session.get(TicketAttachment, attachment_id) or abort(404)
    name = row.filename.replace('"', "").replace("\r", "").replace("\n", "")
    # always a download, never rendered in our origin (an HTML attachment is hostile input)
    return Response(row.data, mimetype="application/octet-stream", headers={
        "Content-Disposition": f'attachment; filename="{name}"',
        "X-Content-Type-Options": "nosniff"})


@bp.get("/inbound")
@permission_required("tickets.ticket.view")
def inbound():
    page = list_page(sa.select(InboundMail), sortable={"received": InboundMail.received_at},
                     filters={"outcome": Filter(InboundMail.outcome, "Outcome", [
                         (o, o) for o in ("ticket", "threaded", "reopened", "held", "bounce",
                                          "failed", "released")])},
                     search=[InboundMail.mail_from, InboundMail.subject],
                     default_sort="-received")
    tokens = dict(db.session.execute(sa.select(Ticket.id, Ticket.token).where(
        Ticket.id.in_({m.ticket_id for m in page.rows if m.ticket_id}))).all())
    return render_template("tickets/inbound.html", page=page, tokens=tokens)


@bp.post("/inbound/<int:mail_id>/release")
@permission_required("tickets.ticket.work")
def release(mail_id: int):
    mail = db.session.get(InboundMail, mail_id) or abort(404)
    try:
        result = mailin.release(mail)
    except ValidationError as exc:
        db.session.rollback()
        flash(" ".join(sum(form_errors(exc).values(), [])), "error")
        return redirect(url_for(".inbound"))
    db.session.commit()
    flash(f"Released: {result.detail}", "success")
    return redirect(url_for(".show", ticket_id=result.ticket_id) if result.ticket_id
                    else url_for(".inbound"))


# ------------------------------------------------------------------ set-up
@bp.get("/setup")
@permission_required("tickets.settings.manage")
def setup():
    return _setup_page({}, {})


def _setup_page(errors: dict, values: dict, status: int = 200):
    return render_template(
        "tickets/setup.html", errors=errors, values=values, groups=_choices(Group),
        categories=_choices(Category),
        addresses=db.session.scalars(sa.select(InboundAddress).order_by(
            InboundAddress.address)).all(),
        canned_replies=db.session.scalars(sa.select(CannedReply).order_by(
            CannedReply.name)).all(), variables=canned.VARIABLES,
        mailboxes=db.session.scalars(sa.select(ImapMailbox).order_by(ImapMailbox.name)).all(),
        address_choices=[(a.id, a.address) for a in db.session.scalars(
            sa.select(InboundAddress).order_by(InboundAddress.address))],
        security_choices=MAILBOX_SECURITY), status


def _setup_action(form_name: str, work, done: str):
    values = {f"{form_name}.{k}": v for k, v in request.form.items()}
    try:
        work()
    except ValidationError as exc:
        db.session.rollback()
        errors = {f"{form_name}.{k}": v for k, v in form_errors(exc).items()}
        return _setup_page(errors, values, 422)
    db.session.commit()
    flash(done, "success")
    return redirect(url_for(".setup"))


@bp.post("/setup/groups")
@permission_required("tickets.settings.manage")
def group_new():
    return _setup_action("group", lambda: config.save_group(request.form.get("name")),
                         "Group added.")


@bp.post("/setup/categories")
@permission_required("tickets.settings.manage")
def category_new():
    return _setup_action("category", lambda: config.save_category(request.form.get("name")),
                         "Category added.")


@bp.post("/setup/addresses")
@permission_required("tickets.settings.manage")
def address_new():
    return _setup_action("address", lambda: config.save_inbound_address(request.form),
                         "Inbound address added.")


@bp.post("/setup/canned")
@permission_required("tickets.settings.manage")
def canned_new():
    return _setup_action("canned", lambda: canned.save(request.form), "Canned reply saved.")


@bp.get("/setup/canned/<int:canned_id>")
@permission_required("tickets.settings.manage")
def canned_edit(canned_id: int):
    row = db.session.get(CannedReply, canned_id) or abort(404)
    values = {"name": row.name, "body": row.body_text, "groupId": row.group_id or ""}
    return render_template("tickets/canned.html", row=row, values=values, errors={},
                           groups=_choices(Group), variables=canned.VARIABLES)


@bp.post("/setup/canned/<int:canned_id>")
@permission_required("tickets.settings.manage")
def canned_save(canned_id: int):
    row = db.session.get(CannedReply, canned_id) or abort(404)
    values = {k: request.form.get(k, "") for k in ("name", "body", "groupId")}
    try:
        canned.save(values, row)
    except ValidationError as exc:
        db.session.rollback()
        return render_template("tickets/canned.html", row=row, values=values,
                               errors=form_errors(exc), groups=_choices(Group),
                               variables=canned.VARIABLES), 422
    db.session.commit()
    flash(f"Canned reply {row.name} saved.", "success")
    return redirect(url_for(".setup"))


# ------------------------------------------------------------------ IMAP mailboxes
MAILBOX_SECURITY = [("ssl", "TLS (IMAPS, port 993)"), ("starttls", "STARTTLS (port 143)"),
                    ("none", "None (loopback or a trusted network only)")]
MAILBOX_FIELDS = ("name", "host", "port", "security", "username", "password", "folder",
                  "inboundAddressId")


def _mailbox_form() -> dict:
    data = {k: request.form.get(k, "") for k in MAILBOX_FIELDS}
    data["enabled"] = bool(request.form.get("enabled"))
    return data


@bp.post("/setup/mailboxes")
@permission_required("tickets.settings.manage")
def mailbox_new():
    data = _mailbox_form()
    data["enabled"] = True
    return _setup_action("mailbox", lambda: imap.save_mailbox(data),
                         "IMAP mailbox added: its mail is fetched every minute.")


def _mailbox_page(row, values, errors, status=200):
    return render_template("tickets/mailbox.html", row=row, values=values, errors=errors,
                           address_choices=[(a.id, a.address) for a in db.session.scalars(
                               sa.select(InboundAddress).order_by(InboundAddress.address))],
                           security_choices=MAILBOX_SECURITY), status


@bp.get("/setup/mailboxes/<int:mailbox_id>")
@permission_required("tickets.settings.manage")
def mailbox_edit(mailbox_id: int):
    row = db.session.get(ImapMailbox, mailbox_id) or abort(404)
    values = {"name": row.name, "host": row.host, "port": row.port, "security": row.security,
              "username": row.username, "folder": row.folder, "enabled": row.enabled,
              "inboundAddressId": row.inbound_address_id}
    return _mailbox_page(row, values, {})


@bp.post("/setup/mailboxes/<int:mailbox_id>")
@permission_required("tickets.settings.manage")
def mailbox_save(mailbox_id: int):
    row = db.session.get(ImapMailbox, mailbox_id) or abort(404)
    data = _mailbox_form()
    try:
        imap.save_mailbox(data, row)
    except ValidationError as exc:
        db.session.rollback()
        return _mailbox_page(row, {**data, "password": ""}, form_errors(exc), 422)
    db.session.commit()
    flash(f"IMAP mailbox {row.name} saved.", "success")
    return redirect(url_for(".setup"))


@bp.post("/setup/mailboxes/<int:mailbox_id>/fetch")
@permission_required("tickets.settings.manage")
def mailbox_fetch(mailbox_id: int):
    row = db.session.get(ImapMailbox, mailbox_id) or abort(404)
    imap.request_fetch(row)
    db.session.commit()
    flash(f"Fetching {row.name}'s new mail in the background: see Inbound mail.", "success")
    return redirect(url_for(".setup"))


def render_account_panel(account) -> str:
    rows = db.session.scalars(sa.select(Ticket).where(Ticket.account_id == account.id)
                              .order_by(Ticket.last_activity_at.desc()).limit(10)).all()
    return render_template("tickets/_account_panel.html", tickets=rows, account=account)
