"""Channel configuration: list, create, edit (settings validated), send test, delivery log."""
from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for

from backhaul.sdk import db, permission_required
from backhaul.sdk.instances import form_fields, form_values, get_instance, parse_form
from backhaul.sdk.ui import list_page

from .. import channel_store
from ..models import ChannelConfig, DeliveryLog, Message


def register(bp) -> None:
    @bp.get("/channels")
    @permission_required("notifications.channels.view")
    def channels():
        rows = db.session.scalars(sa.select(ChannelConfig).order_by(
            ChannelConfig.medium, ChannelConfig.name)).all()
        return render_template("notifications/channels.html", rows=rows,
                               types=channel_store.channel_types())

    @bp.route("/channels/new/<channel_key>", methods=["GET", "POST"])
    @permission_required("notifications.channels.manage")
    def new_channel(channel_key: str):
        return _edit(channel_key, None)

    @bp.route("/channels/<int:channel_id>", methods=["GET", "POST"])
    @permission_required("notifications.channels.manage")
    def channel(channel_id: int):
        row = _get(channel_id)
        return _edit(row.channel_key, row)

    @bp.post("/channels/<int:channel_id>/test")
    @permission_required("notifications.channels.manage")
    def test_channel(channel_id: int):
        row = _get(channel_id)
        to = request.form.get("to", "").strip()
        if row.medium in ("email", "sms") and not to:
            flash("Enter where to send the test message.", "warning")
            return redirect(url_for(".channel", channel_id=channel_id))
        result = channel_store.send_test(row, to)
        if result.ok:
            flash(f"Test message sent ({result.message}"
                  f"{'; id ' + result.provider_id if result.provider_id else ''}).", "success")
        else:
            flash(f"The test failed: {result.message}", "error")
        return redirect(url_for(".channel", channel_id=channel_id))

    @bp.get("/channels/<int:channel_id>/log")
    @permission_required("notifications.channels.view")
    def channel_log(channel_id: int):
        row = _get(channel_id)
        page = list_page(
            sa.select(DeliveryLog.id, DeliveryLog.at, DeliveryLog.event, DeliveryLog.attempt,
                      DeliveryLog.detail, DeliveryLog.duration_ms, DeliveryLog.message_id,
                      Message.event_key, Message.recipient)
            .join(Message, Message.id == DeliveryLog.message_id)
            .where(DeliveryLog.channel_id == row.id),
            sortable={"at": DeliveryLog.at}, default_sort="-at",
            search=[Message.event_key, DeliveryLog.detail])
        return render_template("notifications/channel_log.html", row=row, page=page)


def _get(channel_id: int) -> ChannelConfig:
    row = db.session.get(ChannelConfig, channel_id)
    if row is None:
        abort(404)
    return row


def _edit(channel_key: str, row: ChannelConfig | None):
    channel = channel_store.channel_types().get(channel_key)
    if channel is None:
        abort(404)
    specs = form_fields(channel)
    errors: dict = {}
    if request.method == "POST":
        data = {"name": request.form.get("name", "").strip(),
                "enabled": bool(request.form.get("enabled")),
                "is_default": bool(request.form.get("is_default")),
                "rate_limit_per_minute": request.form.get("rate_limit_per_minute") or 0,
                "settings": parse_form(request.form, specs)}
        try:
            saved = channel_store.save_channel(channel_key, data, row)
        except channel_store.ChannelInvalid as exc:
            db.session.rollback()
            errors = exc.errors
            values = {**data, "settings": form_values(data["settings"], specs)}
            return _render(channel, row, specs, values, errors), 422
        db.session.commit()
        flash(f"Channel '{saved.name}' saved.", "success")
        return redirect(url_for(".channel", channel_id=saved.id))
    values = {"name": row.name if row else "", "enabled": row.enabled if row else True,
              "is_default": row.is_default if row else False,
              "rate_limit_per_minute": row.rate_limit_per_minute if row else 0,
              "settings": form_values(row.settings if row else {}, specs)}
    return _render(channel, row, specs, values, errors)


def _render(channel, row, specs, values, errors):
    instance = get_instance(row.instance_id) if row is not None else None
    return render_template("notifications/channel_edit.html", channel=channel, row=row,
                           specs=specs, values=values, errors=errors,
                           stored={s.name for s in specs
                                   if instance is not None and instance.has_secret(s.name)})
