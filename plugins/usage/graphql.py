"""GraphQL for usage: a service's rollups (hourly or daily, both sources, which one counts),
an account's counted totals against the allowance, unattributed traffic, collector health;
a mutation to choose the counted source of a service."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa

from backhaul.sdk import GraphQLContribution, db, utcnow
from backhaul.sdk.graphql import (
    FieldErrors,
    MutationType,
    QueryType,
    apply_filters,
    connection_sdl,
    mutation_payload,
    paginate,
    parse_id,
    sort_order,
)

from .fair_usage import throttled
from .models import SOURCES, Daily, Hourly, Unattributed
from .totals import chosen_sources, counted, month_of, set_source

SDL = '''
"Bytes one source saw for a service in one hour or day."
type UsagePoint {
  "The service (billing subscription)."
  subscriptionId: ID!
  "Start of the hour or day (UTC)."
  start: DateTime!
  "Who measured it: radius (accounting) or netflow (flows)."
  source: String!
  "Bytes to the subscriber."
  bytesDown: Long!
  "Bytes from the subscriber."
  bytesUp: Long!
  "Whether this source is the one counted for the service (caps, invoices)."
  counted: Boolean!
}

"A service's counted usage in a calendar month against its allowance."
type UsageSummary {
  "The service (billing subscription)."
  subscriptionId: ID!
  "The service's name in the catalogue."
  serviceName: String!
  "The service's account; null when the service is gone."
  accountId: ID
  "The account's name and number (usageTop)."
  accountName: String
  "The counted source: radius or netflow."
  source: String!
  "The first day of the calendar month summed."
  periodStart: Date!
  "Bytes to the subscriber in the month so far."
  bytesDown: Long!
  "Bytes from the subscriber in the month so far."
  bytesUp: Long!
  "Null: unlimited."
  allowanceBytes: Long
  "Down plus up as a percentage of the allowance (2 decimals); null: unlimited."
  percent: Float
  "The fair-usage rate (kbit/s both ways) the service is throttled to until the period ends or a top-up lifts it; null: not throttled."
  throttledKbps: Int
}

"A service's counted usage in one calendar month."
type UsageMonth {
  "The service (billing subscription)."
  subscriptionId: ID!
  "The first day of the calendar month (UTC)."
  month: Date!
  "The source counted for the service (radius or netflow); only its bytes are summed."
  source: String!
  "Bytes to the subscriber in the month."
  bytesDown: Long!
  "Bytes from the subscriber in the month."
  bytesUp: Long!
}

"Traffic of addresses no service held, per exporter and hour."
type UsageUnattributed {
  "The exporter (the NetFlow/IPFIX sender's address)."
  exporter: String!
  "The start of the hour (UTC)."
  hour: DateTime!
  "Bytes in flows whose addresses no service held then."
  bytes: Long!
  "How many such flows."
  flows: Long!
}

"The result of choosing a service's counted source."
type UsageSourcePayload implements MutationPayload {
  "Whether the choice was saved."
  ok: Boolean!
  "Why not, per input field (empty when ok)."
  errors: [FieldError!]!
  "The source that counts now (radius or netflow); null when not ok."
  source: String
}

"The size of a usage rollup."
enum UsageGrain {
  "One row per clock hour (UTC)."
  HOUR
  "One row per day (UTC)."
  DAY
}

"Which rollups of the service to list; every given condition must hold."
input UsagePointFilter {
  "Rollups starting at or after this time (for DAY, from that time's day)."
  since: DateTime
  "Rollups starting before this time."
  until: DateTime
  "Only this source: radius or netflow."
  source: String
  "true: only the counted source's rollups; false: only the other source's."
  counted: Boolean
}

"Which unattributed hours to list; every given condition must hold."
input UsageUnattributedFilter {
  "Only this exporter (the NetFlow/IPFIX sender's address)."
  exporter: String
  "Hours starting at or after this time."
  since: DateTime
  "Hours starting before this time."
  until: DateTime
}

extend type Query {
  "Rollups of one service (both sources), newest first; pages of up to 750."
  usage(subscriptionId: ID!, grain: UsageGrain = DAY, filter: UsagePointFilter,
        first: Int, after: String,
        "-start (newest first, the default), start"
        sort: String): UsagePointConnection!
    @requires(permission: "usage.view")
  "Counted usage of an account's services in the month holding 'on' (default today)."
  usageSummary(accountId: ID!, on: Date): [UsageSummary!]! @requires(permission: "usage.view")
  "The services that used most in the month holding 'on' (default today), counted source."
  usageTop(on: Date, first: Int = 20): [UsageSummary!]! @requires(permission: "usage.view")
  "Counted usage of one service per calendar month, newest first (at most 36 months)."
  usageMonthly(subscriptionId: ID!, first: Int = 12): [UsageMonth!]! @requires(permission: "usage.view")
  "Traffic no service could be found for, per exporter and hour; pages of up to 500."
  usageUnattributed(filter: UsageUnattributedFilter, first: Int, after: String,
                    "-hour (newest first, the default), hour, -bytes, bytes"
                    sort: String): UsageUnattributedConnection!
    @requires(permission: "usage.view")
  "Each collector process's packets, flows, loss, malformed datagrams, exporters."
  usageCollectorHealth: JSON @requires(permission: "usage.view")
}

extend type Mutation {
  "Choose which source counts for a service (radius or netflow; null: the default)."
  usageSetSource(subscriptionId: ID!, source: String): UsageSourcePayload! @requires(permission: "usage.manage")
}
'''



SDL += "".join(connection_sdl(node, rows) for node, rows in (
    ("UsagePoint", "rollups"), ("UsageUnattributed", "unattributed hours")))

query = QueryType()
mutation = MutationType()


def _bounded(first, cap=750) -> int:
    return max(1, min(int(first or 1), cap))


def points(subscription_id: int, grain: str = "DAY", since: datetime | None = None,
           first: int = 100) -> list[dict]:
    model, column = (Hourly, Hourly.hour) if grain == "HOUR" else (Daily, Daily.day)
    q = sa.select(model).where(model.subscription_id == subscription_id)
    if since is not None:
        q = q.where(column >= (since if grain == "HOUR" else since.date()))
    rows = db.session.scalars(q.order_by(column.desc(), model.source).limit(
        _bounded(first))).all()
    chosen = chosen_sources([subscription_id])[subscription_id]
    return [{"subscriptionId": r.subscription_id,
             "start": r.hour if grain == "HOUR" else datetime.combine(r.day, datetime.min.time(),
                                                                       UTC),
             "source": r.source, "bytesDown": r.bytes_down, "bytesUp": r.bytes_up,
             "counted": r.source == chosen} for r in rows]


def summary(account_id: int, on: date | None = None) -> list[dict]:
    from backhaul.plugins.billing.api import subscriptions

    from .caps import allowances

    on = on or utcnow().date()
    start, end = month_of(on)
    names = {s.id: s.service_name for s in subscriptions(account_ids=[account_id],
                                                          type_keys=["data"], on=on)}
    subs = sorted(names)
    used, chosen, capped = counted(subs, start, end), chosen_sources(subs), allowances(subs)
    throttles = throttled(subs) if start == month_of(utcnow().date())[0] else {}
    out = []
    for sub in subs:
        down, up = used.get(sub, (0, 0))
        allowance = capped.get(sub, (None, None))[0]
        out.append({"subscriptionId": sub, "serviceName": names[sub],
                    "accountId": account_id, "source": chosen[sub], "periodStart": start,
                    "bytesDown": down, "bytesUp": up, "allowanceBytes": allowance,
                    "percent": round((down + up) * 100 / allowance, 2) if allowance else None,
                    "throttledKbps": throttles[sub].kbps if sub in throttles else None})
    return out


def monthly(subscription_id: int, first: int = 12) -> list[dict]:
    """Counted usage per calendar month, newest first (the daily rollup summed)."""
    months = _bounded(first, 36)
    start = utcnow().date().replace(day=1)
    for _ in range(months - 1):
        start = month_of(start - timedelta(days=1))[0]
    chosen = chosen_sources([subscription_id])[subscription_id]
    sums: dict[date, list[int]] = {}
    for day, down, up in db.session.execute(sa.select(
            Daily.day, Daily.bytes_down, Daily.bytes_up).where(
            Daily.subscription_id == subscription_id, Daily.source == chosen,
            Daily.day >= start)):
        pair = sums.setdefault(day.replace(day=1), [0, 0])
        pair[0] += down
        pair[1] += up
    return [{"subscriptionId": subscription_id, "month": m, "source": chosen,
             "bytesDown": v[0], "bytesUp": v[1]} for m, v in sorted(sums.items(), reverse=True)]


@query.field("usageMonthly")
def resolve_monthly(_o, _i, subscriptionId, first=12):  # noqa: N803
    return monthly(parse_id(subscriptionId, "subscriptionId"), first)


def _point(row, chosen: str) -> dict:
    return {"subscriptionId": row.subscription_id,
            "start": row.hour if isinstance(row, Hourly)
            else datetime.combine(row.day, datetime.min.time(), UTC),
            "source": row.source, "bytesDown": row.bytes_down, "bytesUp": row.bytes_up,
            "counted": row.source == chosen}


@query.field("usage")
def resolve_usage(_o, _i, subscriptionId, grain="DAY", filter=None, first=None,  # noqa: N803, A002
                  after=None, sort=None):
    sub = parse_id(subscriptionId, "subscriptionId")
    model, column = (Hourly, Hourly.hour) if grain == "HOUR" else (Daily, Daily.day)
    order_by = sort_order(sort, {"-start": column.desc(), "start": column}, "-start")
    chosen = chosen_sources([sub])[sub]

    def day(at: datetime):
        return at if grain == "HOUR" else at.date()

    stmt = apply_filters(sa.select(model).where(model.subscription_id == sub), _filter(filter), {
        "since": lambda stmt, at: stmt.where(column >= day(at)),
        "until": lambda stmt, at: stmt.where(column < day(at)),
        "source": model.source,
        "counted": lambda stmt, on: stmt.where(model.source == chosen if on
                                               else model.source != chosen)})
    page = paginate(stmt, first, after, order_by=order_by, max_first=750)
    page.nodes = [_point(r, chosen) for r in page.nodes]
    page.edges = [{"cursor": e["cursor"], "node": n}
                  for e, n in zip(page.edges, page.nodes, strict=True)]
    return page


@query.field("usageSummary")
def resolve_summary(_o, _i, accountId, on=None):  # noqa: N803
    return summary(parse_id(accountId, "accountId"), on)


def top_users(on: date | None = None, first: int = 20) -> list[dict]:
    from backhaul.plugins.billing.api import get_subscription

    from .caps import allowances
    from .totals import top

    on = on or utcnow().date()
    start, end = month_of(on)
    rows = top(start, end, first)
    capped, chosen = allowances([r[0] for r in rows]), chosen_sources([r[0] for r in rows])
    infos = {sub: get_subscription(sub) for sub, _down, _up in rows}
    names = _account_names({i.account_id for i in infos.values() if i is not None})
    throttles = throttled(infos) if start == month_of(utcnow().date())[0] else {}
    out = []
    for sub, down, up in rows:
        info = infos[sub]
        allowance = capped.get(sub, (None, None))[0]
        out.append({"subscriptionId": sub, "serviceName": info.service_name if info else "",
                    "accountId": info.account_id if info else None,
                    "accountName": names.get(info.account_id) if info else None,
                    "throttledKbps": throttles[sub].kbps if sub in throttles else None,
                    "source": chosen[sub],
                    "periodStart": start, "bytesDown": down, "bytesUp": up,
                    "allowanceBytes": allowance,
                    "percent": round((down + up) * 100 / allowance, 2) if allowance else None})
    return out


def _account_names(ids) -> dict[int, str]:
    from backhaul.sdk.accounts import Account

    if not ids:
        return {}
    return {i: f"{name} ({number})" for i, name, number in db.session.execute(
        sa.select(Account.id, Account.name, Account.number).where(Account.id.in_(ids)))}


@query.field("usageTop")
def resolve_top(_o, _i, on=None, first=20):
    return top_users(on, _bounded(first, 500))


def unattributed(first: int = 48) -> list[dict]:
    rows = db.session.scalars(sa.select(Unattributed).order_by(
        Unattributed.hour.desc(), Unattributed.exporter).limit(_bounded(first, 500)))
    return [{"exporter": r.exporter, "hour": r.hour, "bytes": r.bytes, "flows": r.flows}
            for r in rows]


UNATTRIBUTED_SORTS = {"-hour": Unattributed.hour.desc(), "hour": Unattributed.hour,
                      "-bytes": Unattributed.bytes.desc(), "bytes": Unattributed.bytes}


def _text(value, field: str):
    """Text holding NUL is refused (PostgreSQL cannot compare it): a field error, not a 500."""
    if isinstance(value, str) and "\x00" in value:
        raise FieldErrors({field: ["must not contain NUL characters"]})
    return value


def _filter(values: dict | None) -> dict | None:
    for name, value in (values or {}).items():
        _text(value, f"filter.{name}")
    return values


@query.field("usageUnattributed")
def resolve_unattributed(_o, _i, filter=None, first=None, after=None, sort=None):  # noqa: A002
    order_by = sort_order(sort, UNATTRIBUTED_SORTS, "-hour")
    stmt = apply_filters(sa.select(Unattributed), _filter(filter), {
        "exporter": lambda stmt, name: stmt.where(Unattributed.exporter == name.strip()[:64]),
        "since": (Unattributed.hour, "gte"), "until": (Unattributed.hour, "lt")})
    return paginate(stmt, first, after, order_by=order_by, max_first=500)


@query.field("usageCollectorHealth")
def resolve_health(*_):
    from backhaul.sdk.services import health

    return [{"shard": r["shard"], "state": r["state"], "host": r["host"], "pid": r["pid"],
             "beatAt": r["beat_at"].isoformat() if r["beat_at"] else None,
             "detail": r["detail"]} for r in health("usage.collector")]


def choose_source(subscription_id: int, source: str | None) -> str:
    """Shared by the form and the mutation; raises FieldErrors."""
    from backhaul.plugins.billing.api import get_subscription

    if get_subscription(subscription_id) is None:
        raise FieldErrors({"subscriptionId": [f"There is no subscription {subscription_id}."]})
    if source is not None and source not in SOURCES:
        raise FieldErrors({"source": [f"one of {', '.join(SOURCES)}"]})
    return set_source(subscription_id, source)


@mutation.field("usageSetSource")
@mutation_payload
def resolve_set_source(_o, _i, subscriptionId, source=None):  # noqa: N803
    return {"source": choose_source(parse_id(subscriptionId, "subscriptionId"), source)}


def recent_days(subscription_id: int, days: int = 30) -> list[dict]:
    since = utcnow() - timedelta(days=days)
    return [p for p in points(subscription_id, "DAY", since, days * 2) if p["counted"]]


def contribution() -> GraphQLContribution:
    return GraphQLContribution(SDL, (query, mutation))
