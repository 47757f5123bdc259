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

from . import service
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
  snmpEnabled: Boolean! snmpCommunity: String! snmpPort: Int! snmpTimeout: Float!
  oids: [PollerOid!]!
  appliedTo: [PollerApplied!]!
}

"A polled target's state: up, warning, down, flapping (unknown before its first poll)."
type PollerState { target: String! name: String! state: String! reason: String!
  changedAt: DateTime polledAt: DateTime loss: Float rttMs: Float levels: JSON! }

type PollerSample { at: DateTime! value: Float text: String }

input PollerOidInput { name: String! oid: String! type: String = "gauge" unit: String
  warning: Float critical: Float hysteresis: Float }

input PollerTemplateInput {
  name: String interval: Int
  icmpEnabled: Boolean icmpCount: Int icmpInterval: Float icmpTimeout: Float
  lossWarning: Float rttWarning: Float
  snmpEnabled: Boolean snmpCommunity: String snmpPort: Int snmpTimeout: Float
  oids: [PollerOidInput!]
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

extend type Mutation {
  pollerCreateTemplate(input: PollerTemplateInput!): PollerTemplatePayload! @requires(permission: "poller.manage")
  pollerUpdateTemplate(id: ID!, input: PollerTemplateInput!): PollerTemplatePayload! @requires(permission: "poller.manage")
  pollerDeleteTemplate(id: ID!): PollerDeletePayload! @requires(permission: "poller.manage")
  "Apply a template: kind role (value: the role), device (the device id) or model (\\"Manufacturer Model\\")."
  pollerApplyTemplate(templateId: ID!, kind: String!, value: String!): PollerAppliedPayload! @requires(permission: "poller.manage")
  pollerUnapplyTemplate(id: ID!): PollerDeletePayload! @requires(permission: "poller.manage")
}
'''

CAMEL = {"icmpEnabled": "icmp_enabled", "icmpCount": "icmp_count",
         "icmpInterval": "icmp_interval", "icmpTimeout": "icmp_timeout",
         "lossWarning": "loss_warning", "rttWarning": "rtt_warning",
         "snmpEnabled": "snmp_enabled", "snmpCommunity": "snmp_community",
         "snmpPort": "snmp_port", "snmpTimeout": "snmp_timeout"}
query = QueryType()
mutation = MutationType()
template_type = ObjectType("PollerTemplate")
state_type = ObjectType("PollerState")
applied_type = ObjectType("PollerApplied")
oid_type = ObjectType("PollerOid")
for _name, _attr in CAMEL.items():
    template_type.set_alias(_name, _attr)
state_type.set_alias("changedAt", "changed_at")
state_type.set_alias("polledAt", "polled_at")
state_type.set_alias("rttMs", "rtt_ms")
applied_type.set_alias("templateId", "template_id")


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
                                     applied_type, oid_type))
