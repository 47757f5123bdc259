"""The account panel (this month's usage per data service against its allowance, the last
30 days as bars, the counted source) and the form that chooses the source (mutation
``usageSetSource``, same permission)."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from backhaul.sdk import db, permission_required
from backhaul.sdk.graphql import FieldErrors

from .graphql import choose_source, monthly, recent_days, summary, top_users, unattributed
from .models import SOURCES

bp = Blueprint("usage", __name__, url_prefix="/usage", template_folder="templates")


@bp.get("/")
@permission_required("usage.view")
def index():
    from backhaul.sdk.services import health

    return render_template("usage/index.html", health=health("usage.collector"),
                           top=top_users(first=20), unattributed=unattributed(48), gb=_gb)


@bp.post("/services/<int:subscription_id>/source")
@permission_required("usage.manage")
def set_source(subscription_id: int):
    try:
        choose_source(subscription_id, request.form.get("source") or None)
        db.session.commit()
        flash("Usage source saved.", "success")
    except FieldErrors as exc:
        db.session.rollback()
        flash("Not saved: " + " ".join(f"{k}: {' '.join(map(str, v))}"
                                        for k, v in exc.errors.items()), "error")
    account_id = request.form.get("account_id", "")
    if account_id.isdigit():
        return redirect(url_for("accounts.account_show", account_id=int(account_id)))
    return redirect(url_for("accounts.account_list"))


def _gb(octets) -> str:
    return f"{(octets or 0) / 1e9:,.2f}"


def render_account_panel(account) -> str:
    services = summary(account.id)
    for s in services:
        days = list(reversed(recent_days(s["subscriptionId"])))
        peak = max([d["bytesDown"] + d["bytesUp"] for d in days] or [0]) or 1
        s["days"] = [dict(day=d["start"].date(), total=d["bytesDown"] + d["bytesUp"],
                          height=max(1, round(100 * (d["bytesDown"] + d["bytesUp"]) / peak)))
                     for d in days]
        months = list(reversed(monthly(s["subscriptionId"], 12)))
        peak = max([m["bytesDown"] + m["bytesUp"] for m in months] or [0]) or 1
        s["months"] = [dict(month=m["month"], total=m["bytesDown"] + m["bytesUp"],
                            height=max(1, round(100 * (m["bytesDown"] + m["bytesUp"]) / peak)))
                       for m in months]
    return render_template("usage/_account_panel.html", services=services, account=account,
                           sources=SOURCES, gb=_gb)
