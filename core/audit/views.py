"""The audit log page: filters in the query string, newest first, keyset pagination."""
from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from flask import Blueprint, render_template, request, url_for

from backhaul.sdk import permission_required
from backhaul.sdk.graphql import GraphQLUserError, paginate

from . import queries

PAGE_SIZE = 50
TEXT_FILTERS = (("actor", "Actor"), ("action", "Action"), ("object_type", "Object type"),
                ("object_id", "Object id"))


def _date(value: str | None, end: bool = False) -> datetime | None:
    """``YYYY-MM-DD`` -> start of that day (UTC), or of the next day for the end of a range."""
    if not value:
        return None
    try:
        day = datetime.fromisoformat(value.strip()).date()
    except ValueError:
        return None
    start = datetime.combine(day, time.min, tzinfo=UTC)
    return start + timedelta(days=1) if end else start


def create_blueprint() -> Blueprint:
    bp = Blueprint("audit", __name__, url_prefix="/audit", template_folder="templates")

    @bp.get("/")
    @permission_required("audit.log.view")
    def log():
        args = {name: request.args.get(name, "").strip()[:200] for name, _ in TEXT_FILTERS}
        dates = {"from": request.args.get("from", "")[:10], "to": request.args.get("to", "")[:10]}
        filters = {"actor": args["actor"], "action": args["action"],
                   "objectType": args["object_type"], "objectId": args["object_id"],
                   "from": _date(dates["from"]), "to": _date(dates["to"], end=True)}
        error = None
        try:
            page = paginate(queries.entries(filters), PAGE_SIZE, request.args.get("after") or None,
                            order_by=queries.ORDER)
        except GraphQLUserError:
            error = "That page link is no longer valid; showing the newest entries."
            page = paginate(queries.entries(filters), PAGE_SIZE, None, order_by=queries.ORDER)
        kept = {k: v for k, v in {**args, **dates}.items() if v}
        next_url = url_for("audit.log", **kept, after=page.pageInfo["endCursor"]) \
            if page.pageInfo["hasNextPage"] else None
        return render_template("audit/log.html", page=page, args=args, dates=dates,
                               text_filters=TEXT_FILTERS, error=error, next_url=next_url,
                               first_url=url_for("audit.log", **kept) if request.args.get(
                                   "after") else None, filtered=bool(kept))

    return bp
