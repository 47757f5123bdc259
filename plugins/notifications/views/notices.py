"""Manual and maintenance notices: write, choose accounts, preview recipients, send."""
from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from marshmallow import ValidationError

from backhaul.sdk import current_actor, db, permission_required
from backhaul.sdk.accounts import AccountGroup, Building, all_statuses
from backhaul.sdk.ui import list_page

from .. import notices as logic
from ..models import Notice


def register(bp) -> None:
    @bp.get("/notices")
    @permission_required("notifications.notices.send")
    def notices():
        page = list_page(sa.select(Notice), sortable={"created": Notice.created_at},
                         default_sort="-created", search=[Notice.title])
        return render_template("notifications/notices.html", page=page)

    @bp.route("/notices/new", methods=["GET", "POST"])
    @permission_required("notifications.notices.send")
    def new_notice():
        if request.method == "GET":
            return _form({"media": ["email"], "category": "outages"})
        data = _data()
        try:
            loaded = logic.NoticeSchema().load(data)
        except ValidationError as exc:
            return _form(data, errors=exc.normalized_messages()), 422
        if request.form.get("action") == "preview":
            found = logic.preview_recipients(logic.selection_of(loaded), loaded["media"],
                                               loaded["category"], loaded["essential"])
            return _form(data, preview=found)
        notice = logic.create_notice(data, actor=str(current_actor()))
        db.session.commit()
        flash("Notice saved as a draft: check the recipients, then send it.", "success")
        return redirect(url_for(".notice", notice_id=notice.id))

    @bp.get("/notices/<int:notice_id>")
    @permission_required("notifications.notices.send")
    def notice(notice_id: int):
        row = _get(notice_id)
        found = logic.preview_recipients(row.selection, row.media, row.category,
                                           row.essential) if row.status == "draft" else None
        return render_template("notifications/notice.html", notice=row, preview=found)

    @bp.post("/notices/<int:notice_id>/send")
    @permission_required("notifications.notices.send")
    def send_notice(notice_id: int):
        row = _get(notice_id)
        if logic.send_notice(row):
            db.session.commit()
            flash("The notice is being sent.", "success")
        else:
            flash("This notice was sent already.", "warning")
        return redirect(url_for(".notice", notice_id=notice_id))


def _get(notice_id: int) -> Notice:
    row = db.session.get(Notice, notice_id)
    if row is None:
        abort(404)
    return row


def _data() -> dict:
    f = request.form
    return {"title": f.get("title", "").strip(), "category": f.get("category", "outages"),
            "essential": bool(f.get("essential")), "media": f.getlist("media"),
            "subject": f.get("subject", ""), "body_text": f.get("body_text", ""),
            "body_html": f.get("body_html", ""), "sms_text": f.get("sms_text", ""),
            "buildings": [v for v in f.getlist("buildings") if v],
            "statuses": [v for v in f.getlist("statuses") if v],
            "groups": [v for v in f.getlist("groups") if v],
            "addresses": f.get("addresses", "")}


def _form(values: dict, errors=None, preview=None):
    buildings = db.session.scalars(sa.select(Building).order_by(Building.name)).all()
    groups = db.session.scalars(sa.select(AccountGroup).order_by(AccountGroup.name)).all()
    return render_template("notifications/notice_new.html", values=values, errors=errors or {},
                           preview=preview, buildings=buildings, groups=groups,
                           statuses=all_statuses())
