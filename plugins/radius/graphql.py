"""GraphQL for RADIUS: sessions (open and past), last authentications, NAS options, health;
mutations to change a NAS's options and to disconnect a session."""
from __future__ import annotations

import sqlalchemy as sa

from backhaul.sdk import GraphQLContribution, db, enqueue
from backhaul.sdk.graphql import (
    FieldErrors,
    MutationType,
    ObjectType,
    QueryType,
    apply_filters,
    connection_sdl,
    mutation_payload,
    paginate,
    parse_id,
    sort_order,
)

from .models import LastAuth, NasSettings, Session

SDL = '''
"A RADIUS accounting session (ours or one FreeRADIUS recorded)."
type RadiusSession {
  "Database id."
  id: ID!
  "The NAS (network device) that reported it."
  deviceId: ID!
  "The NAS's Acct-Session-Id (unique per NAS)."
  acctSessionId: String!
  "The login (User-Name) as sent."
  username: String!
  "The data service the login belongs to; null: not a known login."
  subscriptionId: ID
  "The service's account; null: not a known login."
  accountId: ID
  "The address given to the subscriber (Framed-IP-Address); null: none reported."
  framedIp: String
  "When the session started (UTC)."
  startedAt: DateTime!
  "When the last accounting packet arrived (UTC)."
  updatedAt: DateTime!
  "When it stopped (UTC); null while open."
  stoppedAt: DateTime
  "Bytes from the subscriber (64-bit)."
  inputOctets: Long!
  "Bytes to the subscriber (64-bit)."
  outputOctets: Long!
  "Seconds the session has lasted (Acct-Session-Time)."
  sessionTime: Int!
  "Acct-Terminate-Cause code (RFC 2866: 1 user request, 2 lost carrier, 5 session timeout...); null while open."
  terminateCause: Int
  "radius (Backhaul's server) or freeradius (a row FreeRADIUS wrote)."
  source: String!
  "The last CoA or Disconnect sent for it: ack, nak, timeout."
  coaResult: String
}

"The last authentication of a login, with the reason for a reject."
type RadiusLastAuth {
  "The login."
  username: String!
  "The data service of the login; null: unknown login."
  subscriptionId: ID
  "The NAS that asked; null: not a known device."
  deviceId: ID
  "When (UTC)."
  at: DateTime!
  "Whether it was accepted."
  accepted: Boolean!
  "Why it was rejected (empty when accepted)."
  reason: String!
}

"A NAS's RADIUS options (the NAS is a network device with a shared secret)."
type RadiusNasOptions {
  "The NAS (a network device)."
  deviceId: ID!
  "The UDP port CoA and Disconnect requests go to (1-65535; 3799 by default)."
  coaPort: Int!
  "Whether requests without Message-Authenticator are dropped (off only for old equipment: BlastRADIUS)."
  requireMessageAuthenticator: Boolean!
  "Which vendor attributes replies carry: mikrotik, juniper or standard."
  dialect: String!
}

"The result of changing a NAS's options."
type RadiusNasOptionsPayload implements MutationPayload {
  "Whether they were saved."
  ok: Boolean!
  "Why not, per input field (empty when ok)."
  errors: [FieldError!]!
  "The options as saved; null when not ok."
  nas: RadiusNasOptions
}
"The result of asking for a disconnect."
type RadiusSessionPayload implements MutationPayload {
  "Whether the Disconnect-Request was queued."
  ok: Boolean!
  "Why not, per input field (empty when ok)."
  errors: [FieldError!]!
  "The session (its coaResult shows the answer once the job ran); null when not ok."
  session: RadiusSession
}

"Which RADIUS sessions to list; every given condition must hold."
input RadiusSessionFilter {
  "Only this account's sessions."
  accountId: ID
  "Only this service's sessions."
  subscriptionId: ID
  "true: only open sessions (no stop yet); false: only ended ones."
  open: Boolean
  "Only sessions reported by this NAS (network device)."
  deviceId: ID
  "Only this login, exactly."
  username: String
  "Only sessions that were given this address."
  framedIp: String
  "Only sessions started at or after this time."
  startedAfter: DateTime
  "Only sessions started before this time."
  startedBefore: DateTime
  "Only sessions recorded by this source: radius (our server) or freeradius."
  source: String
}

"Which NAS option sets to list; every given condition must hold."
input RadiusNasOptionsFilter {
  "Only this NAS's options."
  deviceId: ID
  "Only this dialect: mikrotik, juniper or standard."
  dialect: String
}

extend type Query {
  "RADIUS accounting sessions, newest first."
  radiusSessions(filter: RadiusSessionFilter, first: Int, after: String,
                 "-id (newest first, the default), id, startedAt, -startedAt"
                 sort: String): RadiusSessionConnection!
    @requires(permission: "radius.view")
  "The last authentication of a login (null: never seen)."
  radiusLastAuth(username: String!): RadiusLastAuth @requires(permission: "radius.view")
  "The RADIUS options of the NASes that have any set."
  radiusNasOptions(filter: RadiusNasOptionsFilter, first: Int, after: String,
                   "deviceId, -deviceId"
                   sort: String): RadiusNasOptionsConnection! @requires(permission: "radius.view")
  "Each RADIUS process's packets by type, drops by reason and cache use, from its heartbeat."
  radiusHealth: JSON @requires(permission: "radius.view")
}

extend type Mutation {
  "Set a NAS's RADIUS options; arguments left out are unchanged (new rows: 3799, required, mikrotik)."
  radiusSetNasOptions(deviceId: ID!, coaPort: Int, requireMessageAuthenticator: Boolean,
                      dialect: String): RadiusNasOptionsPayload! @requires(permission: "radius.manage")
  "Send a Disconnect-Request for an open session (by a job; the result lands on the session)."
  radiusDisconnectSession(sessionId: ID!): RadiusSessionPayload! @requires(permission: "radius.manage")
}
'''



SDL += "".join(connection_sdl(node, rows) for node, rows in (
    ("RadiusSession", "sessions"), ("RadiusNasOptions", "NAS option sets")))

DIALECTS = ("mikrotik", "juniper", "standard")
query = QueryType()
mutation = MutationType()
session_type = ObjectType("RadiusSession")
last_type = ObjectType("RadiusLastAuth")
nas_type = ObjectType("RadiusNasOptions")
for _t, _fields in ((session_type, {
        "deviceId": "device_id", "acctSessionId": "acct_session_id",
        "subscriptionId": "subscription_id", "accountId": "account_id",
        "framedIp": "framed_ip", "startedAt": "started_at", "updatedAt": "updated_at",
        "stoppedAt": "stopped_at", "inputOctets": "input_octets",
        "outputOctets": "output_octets", "sessionTime": "session_time",
        "terminateCause": "terminate_cause", "coaResult": "coa_result"}),
        (last_type, {"subscriptionId": "subscription_id", "deviceId": "device_id"}),
        (nas_type, {"deviceId": "device_id", "coaPort": "coa_port",
                    "requireMessageAuthenticator": "require_message_authenticator"})):
    for _name, _attr in _fields.items():
        _t.set_alias(_name, _attr)


def sessions(account_id=None, subscription_id=None, open_only=None, limit=50):
    query_ = sa.select(Session).order_by(Session.id.desc()).limit(max(1, min(int(limit), 200)))
    if account_id is not None:
        query_ = query_.where(Session.account_id == account_id)
    if subscription_id is not None:
        query_ = query_.where(Session.subscription_id == subscription_id)
    if open_only is not None:
        query_ = query_.where(Session.stopped_at.is_(None) if open_only
                              else Session.stopped_at.is_not(None))
    return db.session.scalars(query_).all()


SESSION_SORTS = {"-id": Session.id.desc(), "id": Session.id,
                 "startedAt": Session.started_at, "-startedAt": Session.started_at.desc()}
NAS_SORTS = {"deviceId": NasSettings.device_id, "-deviceId": NasSettings.device_id.desc()}


def _text(value, field: str):
    """Text holding NUL is refused (PostgreSQL cannot compare it): a field error, not a 500."""
    if isinstance(value, str) and "\x00" in value:
        raise FieldErrors({field: ["must not contain NUL characters"]})
    return value


def _filter(values: dict | None) -> dict | None:
    for name, value in (values or {}).items():
        _text(value, f"filter.{name}")
    return values


def _id_filter(column, name: str):
    return lambda stmt, value: stmt.where(column == parse_id(value, name))


@query.field("radiusSessions")
def resolve_sessions(_o, _i, filter=None, first=None, after=None, sort=None):  # noqa: A002
    order_by = sort_order(sort, SESSION_SORTS, "-id")
    stmt = apply_filters(sa.select(Session), _filter(filter), {
        "accountId": _id_filter(Session.account_id, "accountId"),
        "subscriptionId": _id_filter(Session.subscription_id, "subscriptionId"),
        "deviceId": _id_filter(Session.device_id, "deviceId"),
        "open": lambda stmt, on: stmt.where(Session.stopped_at.is_(None) if on
                                            else Session.stopped_at.is_not(None)),
        "username": lambda stmt, name: stmt.where(Session.username == name[:64]),
        "framedIp": lambda stmt, ip: stmt.where(Session.framed_ip == ip.strip()[:64]),
        "startedAfter": (Session.started_at, "gte"),
        "startedBefore": (Session.started_at, "lt"), "source": Session.source})
    return paginate(stmt, first, after, order_by=order_by)


@query.field("radiusLastAuth")
def resolve_last_auth(_o, _i, username):
    return db.session.get(LastAuth, _text(username, "username")[:64])


@query.field("radiusNasOptions")
def resolve_nas_options(_o, _i, filter=None, first=None, after=None, sort=None):  # noqa: A002
    order_by = sort_order(sort, NAS_SORTS, "deviceId")
    stmt = apply_filters(sa.select(NasSettings), _filter(filter), {
        "deviceId": _id_filter(NasSettings.device_id, "deviceId"),
        "dialect": NasSettings.dialect})
    return paginate(stmt, first, after, order_by=order_by)


@query.field("radiusHealth")
def resolve_health(*_):
    from backhaul.sdk.services import health

    return [{"shard": r["shard"], "state": r["state"], "host": r["host"], "pid": r["pid"],
             "beatAt": r["beat_at"].isoformat() if r["beat_at"] else None,
             "detail": r["detail"]} for r in health("radius.server")]


def set_nas_options(device_id: int, coa_port=None, require_ma=None, dialect=None):
    """Shared by the form and the mutation; raises FieldErrors."""
    from backhaul.plugins.network.api import device

    if device(device_id) is None:
        raise FieldErrors({"deviceId": [f"There is no device {device_id}."]})
    row = db.session.get(NasSettings, device_id) or NasSettings(
        device_id=device_id, coa_port=3799, require_message_authenticator=True,
        dialect="mikrotik")
    if coa_port is not None:
        if not 1 <= int(coa_port) <= 65535:
            raise FieldErrors({"coaPort": ["1-65535"]})
        row.coa_port = int(coa_port)
    if dialect is not None:
        if dialect not in DIALECTS:
            raise FieldErrors({"dialect": [f"one of {', '.join(DIALECTS)}"]})
        row.dialect = dialect
    if require_ma is not None:
        row.require_message_authenticator = bool(require_ma)
    db.session.add(row)
    db.session.flush()
    return row


@mutation.field("radiusSetNasOptions")
@mutation_payload
def resolve_set_nas(_o, _i, deviceId, coaPort=None, requireMessageAuthenticator=None,  # noqa: N803
                    dialect=None):
    return {"nas": set_nas_options(parse_id(deviceId, "deviceId"), coaPort,
                                   requireMessageAuthenticator, dialect)}


def disconnect(session_id: int) -> Session:
    from .coa import disconnect_job

    row = db.session.get(Session, session_id)
    if row is None:
        raise FieldErrors({"sessionId": [f"There is no session {session_id}."]})
    if row.stopped_at is not None:
        raise FieldErrors({"sessionId": ["this session has ended"]})
    enqueue(disconnect_job, row.id)
    return row


@mutation.field("radiusDisconnectSession")
@mutation_payload
def resolve_disconnect(_o, _i, sessionId):  # noqa: N803
    return {"session": disconnect(parse_id(sessionId, "sessionId"))}


def contribution() -> GraphQLContribution:
    return GraphQLContribution(SDL, (query, mutation, session_type, last_type, nas_type))
