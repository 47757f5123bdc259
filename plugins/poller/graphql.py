"""GraphQL for the poller: templates and where they apply, target states, metric history;
a mutation for every page action."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from backhaul.sdk import GraphQLContribution, utcnow
from backhaul.sdk.graphql import (
    FieldErrors,
    MutationType,
    ObjectType,
    QueryType,
    apply_filters,
    connection_sdl,
    load_related,
    mutation_payload,
    paginate,
    parse_id,
    sort_order,
)

from . import affected, discovery, service
from .models import Affected, Applied, Host, Sample, TargetState, Template

SDL = '''
"An OID a template polls; thresholds raise warning/critical, cleared below threshold - hysteresis."
type PollerOid {
  "The metric's name in history and states (letters, digits, _ . -; unique in the template)."
  name: String!
  "The numeric OID polled, without a leading dot (1.3.6.1.2.1.1.3.0)."
  oid: String!
  "gauge (the value as read), counter (a rate per second, 32/64-bit wrap handled) or string."
  type: String!
  "Free text shown on chart axes, at most 16 characters (empty when none)."
  unit: String!
  "The value at or above which the metric is at warning; null: none."
  warning: Float
  "The value at or above which the metric is critical; null: none."
  critical: Float
  "How far below a threshold the value must fall before its level clears (absolute; null or 0: at once)."
  hysteresis: Float
}

"A template applied to a device role, one device (value: its id) or an inventory model."
type PollerApplied {
  "Database id (pollerUnapplyTemplate takes it)."
  id: ID!
  "The template applied."
  templateId: ID!
  "role, device, model or subnet."
  kind: String!
  "The role, the device id, the model (Manufacturer Model) or the subnet (CIDR)."
  value: String!
}

"What to poll on a device: ICMP and SNMP v2c OIDs."
type PollerTemplate {
  "Database id."
  id: ID!
  "Unique name, 1-100 characters."
  name: String!
  "Seconds between polls of each target (10-86400)."
  interval: Int!
  "Whether targets are pinged."
  icmpEnabled: Boolean!
  "Pings per poll (1-20)."
  icmpCount: Int!
  "Seconds between the pings of one poll (0.05-5)."
  icmpInterval: Float!
  "Seconds to wait for each answer (0.1-10)."
  icmpTimeout: Float!
  "Packet loss in percent (0-100) at or above which the target is at warning."
  lossWarning: Float!
  "Average round-trip time in milliseconds at or above which the target is at warning."
  rttWarning: Float!
  "Whether the OIDs (and interfaces) are polled over SNMP."
  snmpEnabled: Boolean!
  "Whether a v2c community is stored (the community itself is write-only: sealed at rest, never returned)."
  snmpCommunitySet: Boolean!
  "The SNMP UDP port (1-65535; 161 by default)."
  snmpPort: Int!
  "Seconds to wait for an SNMP answer (0.1-10)."
  snmpTimeout: Float!
  "The OIDs polled, each a metric."
  oids: [PollerOid!]!
  "Walk ifXTable/ifTable: per-interface in/out bit/s (metrics if.<name>.in/out)."
  snmpInterfaces: Boolean!
  "2c or 3 (USM authPriv)."
  snmpVersion: String!
  "SNMPv3 user name (empty unless set)."
  v3User: String!
  "SNMPv3 authentication protocol: SHA, SHA-224, SHA-256, SHA-384 or SHA-512."
  v3Auth: String!
  "SNMPv3 privacy (encryption) protocol: AES-128, AES-192 or AES-256."
  v3Priv: String!
  "Whether both v3 keys are stored (they are never shown back)."
  v3KeysSet: Boolean!
  "Where the template applies, oldest first."
  appliedTo: [PollerApplied!]!
}

"A polled target's state: up, warning, down, flapping (unknown before its first poll)."
type PollerState {
  "The target's key: device:<id>, item:<id> or host:<address>."
  target: String!
  "The device's or item's name, or the host's address, when last polled."
  name: String!
  "up, warning, down, flapping or unknown."
  state: String!
  "Why it is in this state (empty when up)."
  reason: String!
  "When the state last changed (UTC); null before the first poll."
  changedAt: DateTime
  "When it was last polled (UTC); null before the first poll."
  polledAt: DateTime
  "Packet loss of the last ping, in percent; null: not pinged."
  loss: Float
  "Average round-trip time of the last ping, in milliseconds; null: no answer or not pinged."
  rttMs: Float
  "Each metric's level: {metric: ok, warning or critical}."
  levels: JSON!
}

"One value of one metric of one target."
type PollerSample {
  "When it was taken (UTC)."
  at: DateTime!
  "The value (ms, percent, a rate per second or as read); null for string OIDs and failed reads."
  value: Float
  "A string OID's value; null for numbers."
  text: String
}

"An account whose services run through a device that is down."
type PollerAffected {
  "The down target, device:<id>."
  target: String!
  "The affected account."
  accountId: ID!
  "The account's subscriptions served through the device."
  subscriptionIds: [ID!]!
  "When the device went down (UTC)."
  since: DateTime!
  "When the outage notice was queued to the account (UTC); null if not yet."
  notifiedAt: DateTime
}

"A host that answered ICMP on a scanned subnet; polled as host:<address> by the subnet's templates."
type PollerHost {
  "The host's IPv4 address."
  address: String!
  "The scanned subnet it answered on, in CIDR form."
  subnet: String!
  "When it first answered a scan (UTC)."
  firstSeen: DateTime!
  "When it last answered a scan (UTC)."
  lastSeen: DateTime!
  "Its ping round-trip time at the last scan, in milliseconds."
  rttMs: Float
}

"The result of a discovery scan."
type PollerDiscoverPayload implements MutationPayload {
  "Whether the subnet was scanned."
  ok: Boolean!
  "Why not, per input field (empty when ok)."
  errors: [FieldError!]!
  "The hosts that answered this scan; null when not ok."
  hosts: [PollerHost!]
}

"The result of sending an outage notice."
type PollerNoticePayload implements MutationPayload {
  "Whether the notices were queued (the target is down and the notifications plugin is enabled)."
  ok: Boolean!
  "Why not, per input field (empty when ok)."
  errors: [FieldError!]!
  "How many accounts were notified now (those already told of this outage are skipped); null when not ok."
  notified: Int
}

"An OID for a template to poll."
input PollerOidInput {
  "The metric's name (letters, digits, _ . -; unique; not icmp.* or if.*)."
  name: String!
  "The numeric OID (1.3.6.1.2.1.1.3.0)."
  oid: String!
  "gauge, counter (stored as a rate per second) or string."
  type: String = "gauge"
  "Free text for chart axes, at most 16 characters."
  unit: String
  "The value at or above which the metric is at warning."
  warning: Float
  "The value at or above which the metric is critical."
  critical: Float
  "How far below a threshold the value must fall before its level clears."
  hysteresis: Float
}

"A template's settings; on update, what is left out is unchanged."
input PollerTemplateInput {
  "Unique name, 1-100 characters (required for a new template)."
  name: String
  "Seconds between polls (10-86400; default 60)."
  interval: Int
  "Ping targets (default true)."
  icmpEnabled: Boolean
  "Pings per poll (1-20; default 3)."
  icmpCount: Int
  "Seconds between pings (0.05-5; default 0.2)."
  icmpInterval: Float
  "Seconds to wait for each answer (0.1-10; default 1)."
  icmpTimeout: Float
  "Loss percent at or above which a target is at warning (0-100; default 20)."
  lossWarning: Float
  "Round-trip milliseconds at or above which a target is at warning (0-60000; default 200)."
  rttWarning: Float
  "Poll OIDs over SNMP (default false)."
  snmpEnabled: Boolean
  "SNMP v2c community, at most 64 characters; write-only (never returned), sealed at rest; left out or empty keeps the stored one (a new template: public)."
  snmpCommunity: String
  "SNMP UDP port (1-65535; default 161)."
  snmpPort: Int
  "Seconds to wait for an SNMP answer (0.1-10; default 1)."
  snmpTimeout: Float
  "The OIDs to poll (replaces the list)."
  oids: [PollerOidInput!]
  "Walk ifXTable/ifTable: per-interface in/out bit/s (metrics if.<name>.in/out); left out: unchanged (off for a new template)."
  snmpInterfaces: Boolean
  "2c or 3; v3 needs v3User and both keys (8-128 characters; omitted keys are kept)."
  snmpVersion: String
  "SNMPv3 user name, at most 64 characters."
  v3User: String
  "SHA, SHA-224, SHA-256, SHA-384 or SHA-512."
  v3Auth: String
  "SNMPv3 authentication key, 8-128 characters; write-only (never returned), sealed at rest; left out or empty keeps the stored key."
  v3AuthKey: String
  "AES-128, AES-192 or AES-256."
  v3Priv: String
  "SNMPv3 privacy key, 8-128 characters; write-only (never returned), sealed at rest; left out or empty keeps the stored key."
  v3PrivKey: String
}

"The result of creating or updating a template."
type PollerTemplatePayload implements MutationPayload {
  "Whether it was saved."
  ok: Boolean!
  "Why not, per input field (oids.2.oid...); empty when ok."
  errors: [FieldError!]!
  "The template; null when not ok."
  template: PollerTemplate
}
"The result of applying a template."
type PollerAppliedPayload implements MutationPayload {
  "Whether it was applied."
  ok: Boolean!
  "Why not, per input field (empty when ok)."
  errors: [FieldError!]!
  "Where it now applies; null when not ok."
  applied: PollerApplied
}
"The result of deleting a template or removing where it applies."
type PollerDeletePayload implements MutationPayload {
  "Whether it was removed."
  ok: Boolean!
  "Why not, per input field (empty when ok)."
  errors: [FieldError!]!
}

"Which poll templates to list."
input PollerTemplateFilter {
  "Part of the template's name, any case."
  search: String
}

"Which target states to list; every given condition must hold."
input PollerStateFilter {
  "Only this state: up, warning, down, flapping or unknown."
  state: String
  "Only targets of this kind: device, item or host (the part of the target before the colon)."
  kind: String
  "Part of the target's name or key, any case."
  search: String
}

"Which samples of the metric to list (time window)."
input PollerHistoryFilter {
  "Samples of the last this many hours (0.1 to 87600); the default, with no since, is 24."
  hours: Float
  "Samples taken at or after this time (instead of hours)."
  since: DateTime
  "Samples taken before this time."
  until: DateTime
}

"Which affected accounts to list; every given condition must hold."
input PollerAffectedFilter {
  "Only accounts affected by this down target (device:<id>)."
  target: String
  "Only this account's outages."
  accountId: ID
  "true: only accounts already sent the outage notice; false: only those not yet told."
  notified: Boolean
}

"Which discovered hosts to list; every given condition must hold."
input PollerHostFilter {
  "Only hosts found on this scanned subnet (CIDR, as scanned)."
  subnet: String
  "Part of the host's address."
  search: String
  "Only hosts that answered a scan at or after this time."
  seenSince: DateTime
}

extend type Query {
  "Poll templates and where they apply."
  pollerTemplates(filter: PollerTemplateFilter, first: Int, after: String,
                  "name, -name"
                  sort: String): PollerTemplateConnection! @requires(permission: "poller.view")
  "States of polled targets (device:7, item:12, host:10.0.0.5); pages of up to 1000."
  pollerStates(filter: PollerStateFilter, first: Int, after: String,
               "target, -target, name, -name"
               sort: String): PollerStateConnection! @requires(permission: "poller.view")
  "One metric's samples (icmp.rtt, icmp.loss or a template OID name) of one target; pages of up to 5000."
  pollerHistory("The polled target, e.g. device:7."
                target: String!,
                "icmp.rtt, icmp.loss, an OID name or if.<interface>.in/out."
                metric: String!,
                filter: PollerHistoryFilter, first: Int, after: String,
                "at (oldest first, the default), -at"
                sort: String): PollerSampleConnection!
    @requires(permission: "poller.view")
}

extend type Query {
  "Accounts affected by down devices, newest outage first; pages of up to 1000."
  pollerAffected(filter: PollerAffectedFilter, first: Int, after: String,
                 "-since (the default), since"
                 sort: String): PollerAffectedConnection!
    @requires(permission: "poller.view")
  "Hosts found by discovery; pages of up to 5000."
  pollerHosts(filter: PollerHostFilter, first: Int, after: String,
              "subnet (then address; the default), address, -address, lastSeen, -lastSeen"
              sort: String): PollerHostConnection! @requires(permission: "poller.view")
}

extend type Mutation {
  "Ping every address of an IPv4 subnet (at most a /24) now and record the hosts that answer."
  pollerDiscover(subnet: String!): PollerDiscoverPayload! @requires(permission: "poller.manage")
  "Queue the outage notice (notifications plugin) to the accounts affected by a down target, once per outage."
  pollerSendOutageNotice(target: String!): PollerNoticePayload! @requires(permission: "poller.manage")
  "Create a template (apply it with pollerApplyTemplate)."
  pollerCreateTemplate(input: PollerTemplateInput!): PollerTemplatePayload! @requires(permission: "poller.manage")
  "Change a template; fields left out of the input are unchanged."
  pollerUpdateTemplate(id: ID!, input: PollerTemplateInput!): PollerTemplatePayload! @requires(permission: "poller.manage")
  "Delete a template and where it applies (its targets' history is kept)."
  pollerDeleteTemplate(id: ID!): PollerDeletePayload! @requires(permission: "poller.manage")
  "Apply a template: kind role (value: the role), device (the device id), model (\\"Manufacturer Model\\") or subnet (a CIDR: its discovered hosts)."
  pollerApplyTemplate(templateId: ID!, kind: String!, value: String!): PollerAppliedPayload! @requires(permission: "poller.manage")
  "Stop applying a template there (id: a PollerApplied id)."
  pollerUnapplyTemplate(id: ID!): PollerDeletePayload! @requires(permission: "poller.manage")
}
'''



SDL += "".join(connection_sdl(node, rows) for node, rows in (
    ("PollerTemplate", "templates"), ("PollerState", "target states"),
    ("PollerSample", "samples"), ("PollerAffected", "affected accounts"),
    ("PollerHost", "discovered hosts")))

CAMEL = {"icmpEnabled": "icmp_enabled", "icmpCount": "icmp_count",
         "icmpInterval": "icmp_interval", "icmpTimeout": "icmp_timeout",
         "lossWarning": "loss_warning", "rttWarning": "rtt_warning",
         "snmpEnabled": "snmp_enabled", "snmpCommunity": "snmp_community",
         "snmpPort": "snmp_port", "snmpTimeout": "snmp_timeout",
         "snmpInterfaces": "snmp_interfaces", "snmpVersion": "snmp_version",
         "v3User": "v3_user", "v3Auth": "v3_auth", "v3Priv": "v3_priv",
         "v3AuthKey": "v3_auth_key", "v3PrivKey": "v3_priv_key"}
query = QueryType()
mutation = MutationType()
template_type = ObjectType("PollerTemplate")
state_type = ObjectType("PollerState")
applied_type = ObjectType("PollerApplied")
oid_type = ObjectType("PollerOid")
for _name, _attr in CAMEL.items():
    if not _name.endswith("Key") and _name != "snmpCommunity":  # write-only
        template_type.set_alias(_name, _attr)


@template_type.field("v3KeysSet")
def resolve_v3_keys_set(obj: Template, _i):
    keys = obj.sealed()
    return bool(keys.get("auth_key") and keys.get("priv_key"))


@template_type.field("snmpCommunitySet")
def resolve_community_set(obj: Template, _i):
    return bool(obj.sealed().get("community"))
state_type.set_alias("changedAt", "changed_at")
state_type.set_alias("polledAt", "polled_at")
state_type.set_alias("rttMs", "rtt_ms")
applied_type.set_alias("templateId", "template_id")
affected_type = ObjectType("PollerAffected")
affected_type.set_alias("accountId", "account_id")
affected_type.set_alias("subscriptionIds", "subscriptions")
affected_type.set_alias("notifiedAt", "notified_at")


AFFECTED_SORTS = {"-since": Affected.since.desc(), "since": Affected.since}
HOST_SORTS = {"subnet": (Host.subnet, Host.address), "address": Host.address,
              "-address": Host.address.desc(), "lastSeen": Host.last_seen,
              "-lastSeen": Host.last_seen.desc()}
TEMPLATE_SORTS = {"name": Template.name, "-name": Template.name.desc()}
STATE_SORTS = {"target": TargetState.target, "-target": TargetState.target.desc(),
               "name": TargetState.name, "-name": TargetState.name.desc()}
SAMPLE_SORTS = {"at": Sample.at, "-at": Sample.at.desc()}


def _text(value, field: str):
    """Text holding NUL is refused (PostgreSQL cannot compare it): a field error, not a 500."""
    if isinstance(value, str) and "\x00" in value:
        raise FieldErrors({field: ["must not contain NUL characters"]})
    return value


def _filter(values: dict | None) -> dict | None:
    for name, value in (values or {}).items():
        _text(value, f"filter.{name}")
    return values


def _like(*columns):
    def where(stmt, text):
        text = text.strip()
        if not text:
            return stmt
        return stmt.where(sa.or_(*(c.icontains(text, autoescape=True) for c in columns)))
    return where


@query.field("pollerAffected")
def resolve_affected(_o, _i, filter=None, first=None, after=None, sort=None):  # noqa: A002
    order_by = sort_order(sort, AFFECTED_SORTS, "-since")
    stmt = apply_filters(sa.select(Affected), _filter(filter), {
        "target": lambda stmt, target: stmt.where(Affected.target == target[:40]),
        "accountId": lambda stmt, value: stmt.where(
            Affected.account_id == parse_id(value, "accountId")),
        "notified": lambda stmt, on: stmt.where(Affected.notified_at.is_not(None) if on
                                                else Affected.notified_at.is_(None))})
    return paginate(stmt, first, after, order_by=order_by, max_first=1000)


host_type = ObjectType("PollerHost")
host_type.set_alias("firstSeen", "first_seen")
host_type.set_alias("lastSeen", "last_seen")
host_type.set_alias("rttMs", "rtt_ms")


@query.field("pollerHosts")
def resolve_hosts(_o, _i, filter=None, first=None, after=None, sort=None):  # noqa: A002
    order_by = sort_order(sort, HOST_SORTS, "subnet")
    stmt = apply_filters(sa.select(Host), _filter(filter), {
        "subnet": lambda stmt, subnet: stmt.where(Host.subnet == subnet.strip()[:50]),
        "search": _like(Host.address), "seenSince": (Host.last_seen, "gte")})
    return paginate(stmt, first, after, order_by=order_by, max_first=5000)


@mutation.field("pollerDiscover")
@mutation_payload
def resolve_discover(_o, _i, subnet):
    return {"hosts": discovery.scan(subnet[:50])}


@mutation.field("pollerSendOutageNotice")
@mutation_payload
def resolve_notice(_o, _i, target):
    return {"notified": affected.send_notice(target)}


@oid_type.field("unit")
def resolve_unit(obj, _i):
    return obj.get("unit") or ""


@template_type.field("appliedTo")
def resolve_applied_to(obj: Template, _i):
    return load_related(Applied, "template_id", obj.id)  # batched over a page of templates


def _values(data: dict) -> dict:
    return {CAMEL.get(k, k): v for k, v in data.items()}


@query.field("pollerTemplates")
def resolve_templates(_o, _i, filter=None, first=None, after=None, sort=None):  # noqa: A002
    order_by = sort_order(sort, TEMPLATE_SORTS, "name")
    stmt = apply_filters(sa.select(Template), _filter(filter), {"search": _like(Template.name)})
    return paginate(stmt, first, after, order_by=order_by)


@query.field("pollerStates")
def resolve_states(_o, _i, filter=None, first=None, after=None, sort=None):  # noqa: A002
    order_by = sort_order(sort, STATE_SORTS, "target")
    stmt = apply_filters(sa.select(TargetState), _filter(filter), {
        "state": TargetState.state,
        "kind": lambda stmt, kind: stmt.where(TargetState.target.startswith(
            f"{kind.strip()}:", autoescape=True)),
        "search": _like(TargetState.name, TargetState.target)})
    return paginate(stmt, first, after, order_by=order_by, max_first=1000)


@query.field("pollerHistory")
def resolve_history(_o, _i, target, metric, filter=None, first=None, after=None,  # noqa: A002
                    sort=None):
    order_by = sort_order(sort, SAMPLE_SORTS, "at")
    f = dict(filter or {})
    if f.get("hours") is not None and not 0.1 <= f["hours"] <= 24 * 3650:
        raise FieldErrors({"filter.hours": ["between 0.1 and 87600 hours"]})
    if f.get("hours") is None and f.get("since") is None:
        f["hours"] = 24
    stmt = sa.select(Sample).where(Sample.target == _text(target, "target")[:40],
                                   Sample.metric == _text(metric, "metric")[:64])
    stmt = apply_filters(stmt, _filter(f), {
        "hours": lambda stmt, hours: stmt.where(Sample.at >= utcnow() - timedelta(hours=hours)),
        "since": (Sample.at, "gte"), "until": (Sample.at, "lt")})
    return paginate(stmt, first, after, order_by=order_by, max_first=5000)


@mutation.field("pollerCreateTemplate")
@mutation_payload
def resolve_create(_o, _i, input):  # noqa: A002
    return {"template": service.save_template(_values(input))}


@mutation.field("pollerUpdateTemplate")
@mutation_payload
def resolve_update(_o, _i, id, input):  # noqa: A002
    return {"template": service.save_template(_values(input), parse_id(id, "id"))}


@mutation.field("pollerDeleteTemplate")
@mutation_payload
def resolve_delete(_o, _i, id):  # noqa: A002
    service.delete_template(parse_id(id, "id"))
    return {}


@mutation.field("pollerApplyTemplate")
@mutation_payload
def resolve_apply(_o, _i, templateId, kind, value):  # noqa: N803
    return {"applied": service.apply_template(parse_id(templateId, "templateId"), kind, value)}


@mutation.field("pollerUnapplyTemplate")
@mutation_payload
def resolve_unapply(_o, _i, id):  # noqa: A002
    service.unapply(parse_id(id, "id"))
    return {}


def contribution() -> GraphQLContribution:
    return GraphQLContribution(SDL, (query, mutation, template_type, state_type,
                                     applied_type, oid_type, affected_type, host_type))
