"""The audit trail in GraphQL: ``auditEntries(filter, first, after)``."""
from __future__ import annotations

from backhaul.sdk import GraphQLContribution
from backhaul.sdk.graphql import ObjectType, QueryType, paginate, sort_order

from . import queries

SDL = '''
"One recorded change or event of the tamper-evident audit trail."
type AuditEntry {
  "Position in the chain (1, 2, ...)."
  seq: Int!
  at: DateTime!
  "user, token, job, plugin, system or anonymous"
  actorKind: String!
  actorId: String
  actorLabel: String!
  "create, update, delete, or a named event such as auth.login_failed"
  action: String!
  "The table (e.g. auth_user) or kind of object."
  objectType: String!
  objectId: String
  "Changed fields: {field: {before, after}} (secrets shown as ***)."
  changes: JSON
  prevHash: String!
  hash: String!
}

type AuditEntryEdge implements Edge {
  cursor: String!
  node: AuditEntry!
}

type AuditEntryConnection implements Connection {
  edges: [AuditEntryEdge!]!
  nodes: [AuditEntry!]!
  pageInfo: PageInfo!
  totalCount: Int!
}

"""
Every given filter must match. 'actor' matches the label (contains) or 'kind:id'; 'action'
may end in * (auth.*); 'from' is inclusive, 'to' exclusive.
"""
input AuditEntryFilter {
  actor: String
  actorKind: String
  objectType: String
  objectId: String
  action: String
  from: DateTime
  to: DateTime
}

extend type Query {
  "The audit trail, newest first."
  auditEntries(filter: AuditEntryFilter, first: Int, after: String,
               "-seq (newest first), seq"
               sort: String): AuditEntryConnection!
    @requires(permission: "audit.log.view")
}
'''

query = QueryType()
entry = ObjectType("AuditEntry")
for graphql_name, attribute in (("actorKind", "actor_kind"), ("actorId", "actor_id"),
                                ("actorLabel", "actor_label"), ("objectType", "object_type"),
                                ("objectId", "object_id"), ("prevHash", "prev_hash")):
    entry.set_alias(graphql_name, attribute)


@query.field("auditEntries")
def resolve_audit_entries(_obj, _info, filter=None, first=None, after=None,  # noqa: A002
                          sort=None):
    order_by = sort_order(sort, SORTS, "-seq")
    return paginate(queries.entries(filter), first, after, order_by=order_by)


SORTS = {"-seq": queries.ORDER, "seq": queries.AuditEntry.seq}


def contribution() -> GraphQLContribution:
    return GraphQLContribution(SDL, (query, entry))
