"""Template editor: one template per event type and medium, variables listed, live preview.

Saving validates every field against the event's variable catalogue and answers 422 with
the failing line beside the field; "Preview" renders the unsaved text for a real account
(by number) and lists who would receive it.
"""
from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for

from backhaul.sdk import current_actor, db, permission_required
from backhaul.sdk.accounts import get_account_by_number

from .. import authoring, catalogue, previews
from ..channels import TEMPLATED_MEDIA
from ..messages import channel_for
from ..models import MessageTemplate
from .previews import owner


def register(bp) -> None:
    @bp.get("/templates")
    @permission_required("notifications.templates.view")
    def templates():
        existing = {(t.event_key, t.medium): t
                    for t in db.session.scalars(sa.select(MessageTemplate))}
        return render_template("notifications/templates.html",
                               events=catalogue.event_types().values(), media=TEMPLATED_MEDIA,
                               existing=existing,
                               channels={m: channel_for(m) for m in TEMPLATED_MEDIA})

    @bp.get("/templates/<event_key>/<medium>")
    @permission_required("notifications.templates.view")
    def template(event_key: str, medium: str):
        event = _event(event_key, medium)
        row = authoring.get_template(event_key, medium)
        shipped = event.defaults.get(medium)  # the template that ships, until one is saved
        values = {"subject": row.subject, "body_text": row.body_text,
                  "body_html": row.body_html or "", "enabled": row.enabled} if row else \
            {"subject": shipped[0], "body_text": shipped[1], "body_html": shipped[2] or "",
             "enabled": True} if shipped else {"enabled": True}
        return _page(event, medium, values, row)

    @bp.post("/templates/<event_key>/<medium>")
    @permission_required("notifications.templates.manage")
    def save_template(event_key: str, medium: str):
        event = _event(event_key, medium)
        values = {k: request.form.get(k, "") for k in ("subject", "body_text", "body_html")}
        values["enabled"] = bool(request.form.get("enabled"))
        row = authoring.get_template(event_key, medium)
        if request.form.get("action") == "preview":
            return _preview(event, medium, values, row)
        try:
            authoring.save_template(event_key, medium, values, actor=str(current_actor()),
                                    enabled=values["enabled"])
        except authoring.TemplateInvalid as exc:
            db.session.rollback()
            return _page(event, medium, values, row, errors=exc.errors), 422
        db.session.commit()
        flash(f"Template for '{event.label}' ({medium}) saved.", "success")
        return redirect(url_for(".template", event_key=event_key, medium=medium))


def _event(event_key: str, medium: str):
    if medium not in TEMPLATED_MEDIA:
        abort(404)
    try:
        return catalogue.get(event_key)
    except LookupError:
        abort(404)


def _page(event, medium, values, row, errors=None, preview=None, account_number="",
          preview_url=None):
    return render_template("notifications/template_edit.html", event=event, medium=medium,
                           values=values, row=row, errors=errors or {}, preview=preview,
                           preview_url=preview_url, fields=dict(authoring.fields_for(medium)),
                           variables=catalogue.variables_of(event),
                           account_number=account_number)


def _preview(event, medium, values, row):
    number = request.form.get("preview_account", "").strip()
    account = get_account_by_number(number) if number else None
    if account is None:
        flash(f"No account numbered '{number}'. Enter an account number to preview with."
              if number else "Enter an account number to preview with.", "warning")
        return _page(event, medium, values, row, account_number=number), 422
    try:
        authoring.check(event, medium, values)
    except authoring.TemplateInvalid as exc:
        return _page(event, medium, values, row, errors=exc.errors, account_number=number), 422
    result = authoring.preview(event, medium, values, account)
    preview_url = None
    if result.body_html:  # the sandboxed frame loads it from its own URL (see ..previews)
        key = previews.store(result.body_html, owner())
        db.session.commit()
        preview_url = url_for(".template_preview", key=key)
    return _page(event, medium, values, row, preview=result, account_number=number,
                 preview_url=preview_url)
