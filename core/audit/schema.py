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
  "When it was recorded (UTC)."
  at: DateTime!
  "user, token, job, plugin, system or anonymous"
  actorKind: String!
  "The user's or token's id, the job's or plugin's name (null: system or anonymous)."
  actorId: String
  "Who, readable: an e-mail, a token name, a job name; kept as it was at the time."
  actorLabel: String!
  "create, update, delete, or a named event such as auth.login_failed"
  action: String!
  "The table (e.g. auth_user) or kind of object."
  objectType: String!
  "The primary key of the object, as text (null: an event about no single object)."
  objectId: String
  "Changed fields: {field: {before, after}} (secrets shown as ***)."
  changes: JSON
  "The previous entry's hash (hex sha256); the first entry's is a fixed value."
  prevHash: String!
  "Hex sha256 over this entry's fields and prevHash: `backhaul audit verify` checks the chain."
  hash: String!
}

"One audit entry with its cursor."
type AuditEntryEdge implements Edge {
  "Opaque position; valid as after only with the same sort."
  cursor: String!
  "The entry."
  node: AuditEntry!
}

"A page of the audit trail."
type AuditEntryConnection implements Connection {
  "The entries of this page with their cursors."
  edges: [AuditEntryEdge!]!
  "The entries of this page."
  nodes: [AuditEntry!]!
  "Where this page starts and ends."
  pageInfo: PageInfo!
  "How many entries match the filter."
  totalCount: Int!
}

"""
Every given filter must match. 'actor' matches the label (contains) or 'kind:id'; 'action'
may end in * (auth.*); 'from' is inclusive, 'to' exclusive.
"""
input AuditEntryFilter {
  "Contained in the actor's label (any case), equal to its id, or exactly kind:id (user:12)."
  actor: String
  "user, token, job, plugin, system or anonymous"
  actorKind: String
  "The table or kind of object, exactly (e.g. core_account)."
  objectType: String
  "The object's primary key as text, exactly (use with objectType)."
  objectId: String
  "Exactly, or a prefix ending in * (auth.*)."
  action: String
  "Recorded at or after this instant (inclusive)."
  from: DateTime
  "Recorded before this instant (exclusive)."
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
