"""GraphQL for the poller: templates and where they apply, target states, metric history;
a mutation for every page action."""
from __future__ import annotations

from backhaul.sdk import GraphQLContribution
from backhaul.sdk.graphql import (
    MutationType,
    ObjectType,
    QueryType,
    mutation_payload,
    parse_id,
)

from . import affected, discovery, service
from .models import Applied, Template

SDL = '''
"An OID a template polls; thresholds raise warning/critical, cleared below threshold - hysteresis."
type PollerOid { name: String! oid: String! type: String! unit: String!
  warning: Float critical: Float hysteresis: Float }

"A template applied to a device role, one device (value: its id) or an inventory model."
type PollerApplied { id: ID! templateId: ID! kind: String! value: String! }

"What to poll on a device: ICMP and SNMP v2c OIDs."
type PollerTemplate {
  id: ID! name: String! interval: Int!
  icmpEnabled: Boolean! icmpCount: Int! icmpInterval: Float! icmpTimeout: Float!
  lossWarning: Float! rttWarning: Float!
  snmpEnabled: Boolean! snmpPort: Int! snmpTimeout: Float!
  "Whether a v2c community is stored (the community itself is write-only: sealed at rest, never returned)."
  snmpCommunitySet: Boolean!
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
  appliedTo: [PollerApplied!]!
}

"A polled target's state: up, warning, down, flapping (unknown before its first poll)."
type PollerState { target: String! name: String! state: String! reason: String!
  changedAt: DateTime polledAt: DateTime loss: Float rttMs: Float levels: JSON! }

type PollerSample { at: DateTime! value: Float text: String }

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

input PollerOidInput { name: String! oid: String! type: String = "gauge" unit: String
  warning: Float critical: Float hysteresis: Float }

input PollerTemplateInput {
  name: String interval: Int
  icmpEnabled: Boolean icmpCount: Int icmpInterval: Float icmpTimeout: Float
  lossWarning: Float rttWarning: Float
  snmpEnabled: Boolean snmpPort: Int snmpTimeout: Float
  "SNMP v2c community, at most 64 characters; write-only (never returned), sealed at rest; left out or empty keeps the stored one (a new template: public)."
  snmpCommunity: String
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

type PollerTemplatePayload implements MutationPayload { ok: Boolean! errors: [FieldError!]! template: PollerTemplate }
type PollerAppliedPayload implements MutationPayload { ok: Boolean! errors: [FieldError!]! applied: PollerApplied }
type PollerDeletePayload implements MutationPayload { ok: Boolean! errors: [FieldError!]! }

extend type Query {
  pollerTemplates: [PollerTemplate!]! @requires(permission: "poller.view")
  "States of polled targets (\\"device:7\\", \\"item:12\\"); at most 1000."
  pollerStates(state: String, first: Int = 200): [PollerState!]! @requires(permission: "poller.view")
  "One metric's samples (icmp.rtt, icmp.loss or a template OID name) in the last hours; at most 5000."
  pollerHistory(target: String!, metric: String!, hours: Float = 24, first: Int = 2000): [PollerSample!]!
    @requires(permission: "poller.view")
}

extend type Query {
  "Accounts affected by down devices (a target's, or an account's); at most 1000."
  pollerAffected(target: String, accountId: ID, first: Int = 200): [PollerAffected!]!
    @requires(permission: "poller.view")
  "Hosts found by discovery (optionally of one subnet); at most 5000."
  pollerHosts(subnet: String, first: Int = 200): [PollerHost!]! @requires(permission: "poller.view")
}

extend type Mutation {
  "Ping every address of an IPv4 subnet (at most a /24) now and record the hosts that answer."
  pollerDiscover(subnet: String!): PollerDiscoverPayload! @requires(permission: "poller.manage")
  "Queue the outage notice (notifications plugin) to the accounts affected by a down target, once per outage."
  pollerSendOutageNotice(target: String!): PollerNoticePayload! @requires(permission: "poller.manage")
  pollerCreateTemplate(input: PollerTemplateInput!): PollerTemplatePayload! @requires(permission: "poller.manage")
  pollerUpdateTemplate(id: ID!, input: PollerTemplateInput!): PollerTemplatePayload! @requires(permission: "poller.manage")
  pollerDeleteTemplate(id: ID!): PollerDeletePayload! @requires(permission: "poller.manage")
  "Apply a template: kind role (value: the role), device (the device id), model (\\"Manufacturer Model\\") or subnet (a CIDR: its discovered hosts)."
  pollerApplyTemplate(templateId: ID!, kind: String!, value: String!): PollerAppliedPayload! @requires(permission: "poller.manage")
  pollerUnapplyTemplate(id: ID!): PollerDeletePayload! @requires(permission: "poller.manage")
}
'''

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


@query.field("pollerAffected")
def resolve_affected(_o, _i, target=None, accountId=None, first=200):  # noqa: N803
    account = parse_id(accountId, "accountId") if accountId is not None else None
    return affected.listing(target, account, first)


host_type = ObjectType("PollerHost")
host_type.set_alias("firstSeen", "first_seen")
host_type.set_alias("lastSeen", "last_seen")
host_type.set_alias("rttMs", "rtt_ms")


@query.field("pollerHosts")
def resolve_hosts(_o, _i, subnet=None, first=200):
    return discovery.hosts(first, subnet[:50] if subnet else None)


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
    import sqlalchemy as sa

    from backhaul.sdk import db

    return db.session.scalars(sa.select(Applied).where(Applied.template_id == obj.id)
                              .order_by(Applied.id)).all()


def _values(data: dict) -> dict:
    return {CAMEL.get(k, k): v for k, v in data.items()}


@query.field("pollerTemplates")
def resolve_templates(*_):
    import sqlalchemy as sa

    from backhaul.sdk import db

    return db.session.scalars(sa.select(Template).order_by(Template.name)).all()


@query.field("pollerStates")
def resolve_states(_o, _i, state=None, first=200):
    return service.states(state, first)


@query.field("pollerHistory")
def resolve_history(_o, _i, target, metric, hours=24, first=2000):
    return service.history(target[:40], metric[:64], hours, first)


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
