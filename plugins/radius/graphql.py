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
    mutation_payload,
    parse_id,
)

from .models import LastAuth, NasSettings, Session

SDL = '''
"A RADIUS accounting session (ours or one FreeRADIUS recorded)."
type RadiusSession {
  id: ID!
  deviceId: ID!
  acctSessionId: String!
  username: String!
  subscriptionId: ID
  accountId: ID
  framedIp: String
  startedAt: DateTime!
  updatedAt: DateTime!
  stoppedAt: DateTime
  "Bytes from the subscriber (64-bit)."
  inputOctets: Long!
  "Bytes to the subscriber (64-bit)."
  outputOctets: Long!
  sessionTime: Int!
  terminateCause: Int
  source: String!
  "The last CoA or Disconnect sent for it: ack, nak, timeout."
  coaResult: String
}

"The last authentication of a login, with the reason for a reject."
type RadiusLastAuth { username: String! subscriptionId: ID deviceId: ID at: DateTime! accepted: Boolean! reason: String! }

"A NAS's RADIUS options (the NAS is a network device with a shared secret)."
type RadiusNasOptions { deviceId: ID! coaPort: Int! requireMessageAuthenticator: Boolean! dialect: String! }

type RadiusNasOptionsPayload implements MutationPayload { ok: Boolean! errors: [FieldError!]! nas: RadiusNasOptions }
type RadiusSessionPayload implements MutationPayload { ok: Boolean! errors: [FieldError!]! session: RadiusSession }

extend type Query {
  radiusSessions(accountId: ID, subscriptionId: ID, open: Boolean, limit: Int = 50): [RadiusSession!]!
    @requires(permission: "radius.view")
  radiusLastAuth(username: String!): RadiusLastAuth @requires(permission: "radius.view")
  radiusNasOptions: [RadiusNasOptions!]! @requires(permission: "radius.view")
  "Each RADIUS process's packets by type, drops by reason and cache use, from its heartbeat."
  radiusHealth: JSON @requires(permission: "radius.view")
}

extend type Mutation {
  radiusSetNasOptions(deviceId: ID!, coaPort: Int, requireMessageAuthenticator: Boolean,
                      dialect: String): RadiusNasOptionsPayload! @requires(permission: "radius.manage")
  "Send a Disconnect-Request for an open session (by a job; the result lands on the session)."
  radiusDisconnectSession(sessionId: ID!): RadiusSessionPayload! @requires(permission: "radius.manage")
}
'''

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


@query.field("radiusSessions")
def resolve_sessions(_o, _i, accountId=None, subscriptionId=None, open=None, limit=50):  # noqa: N803, A002
    return sessions(parse_id(accountId, "accountId") if accountId else None,
                    parse_id(subscriptionId, "subscriptionId") if subscriptionId else None,
                    open, 50 if limit is None else limit)  # limit: null means the default


@query.field("radiusLastAuth")
def resolve_last_auth(_o, _i, username):
    return db.session.get(LastAuth, username[:64])


@query.field("radiusNasOptions")
def resolve_nas_options(*_):
    return db.session.scalars(sa.select(NasSettings).order_by(NasSettings.device_id)).all()


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
