"""GraphQL for the tickets plugin: every page action is a field here, behind the same
permission, with field-level errors (``ok: false, errors: [{field, messages}]``)."""
from __future__ import annotations

import sqlalchemy as sa
from marshmallow import ValidationError
from sqlalchemy.orm import joinedload

from backhaul.sdk import GraphQLContribution, db
from backhaul.sdk.graphql import (
    FieldErrors,
    MutationType,
    ObjectType,
    QueryType,
    apply_filters,
    mutation_payload,
    paginate,
    parse_id,
    set_aliases,
    sort_order,
)

from . import canned, config, desk, imap, mailin, saved
from .models import (
    INBOUND_OUTCOMES,
    PRIORITIES,
    STATUSES,
    CannedReply,
    Category,
    Group,
    ImapMailbox,
    InboundAddress,
    InboundMail,
    SavedView,
    Ticket,
    TicketMessage,
)

SDL = '''
type TicketsGroup { id: ID! name: String! }
type TicketsCategory { id: ID! name: String! }

"An address mail arrives on; its tickets go to its group and are answered from it."
type TicketsInboundAddress {
  id: ID!
  address: String!
  name: String!
  group: TicketsGroup!
  category: TicketsCategory
}

type TicketsAttachment { id: ID! filename: String! contentType: String! size: Int! }

"The customer's mail (inbound), a public reply (e-mailed) or an internal note."
type TicketsMessage {
  id: ID!
  kind: String!
  at: DateTime!
  author: String!
  fromAddress: String!
  toAddress: String!
  subject: String!
  bodyText: String!
  messageId: String
  "An auto-reply or part of a mail loop: never answered."
  automatic: Boolean!
  "The notifications plugin's message carrying a reply (its delivery log)."
  notificationId: ID
  attachments: [TicketsAttachment!]!
}

type TicketsTicket {
  id: ID!
  token: String!
  subject: String!
  "new, open, pending, solved or closed"
  status: String!
  "low, normal, high or urgent"
  priority: String!
  group: TicketsGroup!
  category: TicketsCategory
  assigneeId: ID
  assigneeName: String
  accountId: ID
  contactId: ID
  requesterEmail: String!
  requesterName: String!
  "email or staff"
  source: String!
  inboundAddress: TicketsInboundAddress
  lastActivityAt: DateTime!
  closedAt: DateTime
  createdAt: DateTime!
  "Oldest first."
  messages(limit: Int = 100): [TicketsMessage!]!
}

type TicketsTicketEdge implements Edge { cursor: String! node: TicketsTicket! }
type TicketsTicketConnection implements Connection {
  edges: [TicketsTicketEdge!]!
  nodes: [TicketsTicket!]!
  pageInfo: PageInfo!
  totalCount: Int!
}

input TicketsTicketFilter {
  groupId: ID
  "a status, or \\"active\\" (new, open, pending)"
  status: String
  priority: String
  categoryId: ID
  assigneeId: ID
  accountId: ID
  contactId: ID
  "token, subject or requester (substring)"
  search: String
  "email or staff"
  source: String
  inboundAddressId: ID
  "true: only tickets nobody is assigned to; false: only assigned ones."
  unassigned: Boolean
  "Opened at or after this time."
  createdFrom: DateTime
  "Opened before this time."
  createdTo: DateTime
}

"One message the mail listener accepted, and what was done with it."
type TicketsInboundMail {
  id: ID!
  receivedAt: DateTime!
  mailFrom: String!
  rcptTo: String!
  messageId: String
  subject: String!
  size: Int!
  "ticket, threaded, reopened, held, bounce, failed or released"
  outcome: String!
  detail: String!
  ticketId: ID
}

type TicketsInboundMailEdge implements Edge { cursor: String! node: TicketsInboundMail! }
type TicketsInboundMailConnection implements Connection {
  edges: [TicketsInboundMailEdge!]!
  nodes: [TicketsInboundMail!]!
  pageInfo: PageInfo!
  totalCount: Int!
}

type TicketsGroupEdge implements Edge { cursor: String! node: TicketsGroup! }
type TicketsGroupConnection implements Connection {
  edges: [TicketsGroupEdge!]! nodes: [TicketsGroup!]! pageInfo: PageInfo! totalCount: Int!
}
type TicketsCategoryEdge implements Edge { cursor: String! node: TicketsCategory! }
type TicketsCategoryConnection implements Connection {
  edges: [TicketsCategoryEdge!]! nodes: [TicketsCategory!]! pageInfo: PageInfo! totalCount: Int!
}
type TicketsInboundAddressEdge implements Edge { cursor: String! node: TicketsInboundAddress! }
type TicketsInboundAddressConnection implements Connection {
  edges: [TicketsInboundAddressEdge!]!
  nodes: [TicketsInboundAddress!]!
  pageInfo: PageInfo!
  totalCount: Int!
}
type TicketsCannedReplyEdge implements Edge { cursor: String! node: TicketsCannedReply! }
type TicketsCannedReplyConnection implements Connection {
  edges: [TicketsCannedReplyEdge!]!
  nodes: [TicketsCannedReply!]!
  pageInfo: PageInfo!
  totalCount: Int!
}
type TicketsSavedViewEdge implements Edge { cursor: String! node: TicketsSavedView! }
type TicketsSavedViewConnection implements Connection {
  edges: [TicketsSavedViewEdge!]! nodes: [TicketsSavedView!]! pageInfo: PageInfo! totalCount: Int!
}
type TicketsImapMailboxEdge implements Edge { cursor: String! node: TicketsImapMailbox! }
type TicketsImapMailboxConnection implements Connection {
  edges: [TicketsImapMailboxEdge!]!
  nodes: [TicketsImapMailbox!]!
  pageInfo: PageInfo!
  totalCount: Int!
}

input TicketsNameFilter {
  "Part of the name (case-insensitive)."
  search: String
}
input TicketsInboundAddressFilter {
  groupId: ID
  categoryId: ID
  "Part of the address or of its name (case-insensitive)."
  search: String
}
input TicketsCannedReplyFilter {
  "The group's replies (replies for every group are not included)."
  groupId: ID
  "Part of the name or text (case-insensitive)."
  search: String
}
input TicketsSavedViewFilter {
  "true: only shared views; false: only your own."
  shared: Boolean
  "Part of the name (case-insensitive)."
  search: String
}
input TicketsImapMailboxFilter {
  enabled: Boolean
  inboundAddressId: ID
  "true: only mailboxes whose last poll failed."
  failing: Boolean
  "Part of the name, host or login (case-insensitive)."
  search: String
}
input TicketsInboundMailFilter {
  "ticket, threaded, reopened, held, bounce, failed or released"
  outcome: String
  ticketId: ID
  "Received at or after this time."
  receivedFrom: DateTime
  "Received before this time."
  receivedTo: DateTime
  "Part of the sender, recipients, subject or Message-ID (case-insensitive)."
  search: String
}

type TicketsCannedReply { id: ID! name: String! body: String! groupId: ID }

"A named set of queue filters, yours or shared with the desk."
type TicketsSavedView {
  id: ID!
  name: String!
  shared: Boolean!
  "The list's filters: group, status, priority, category, assignee, q, sort."
  filters: JSON!
}

input TicketsSavedViewInput {
  name: String!
  shared: Boolean
  groupId: ID
  "a status, or \\"active\\""
  status: String
  priority: String
  categoryId: ID
  "me, none or a staff id"
  assignee: String
  search: String
  "token, subject, status, priority or activity; - for descending"
  sort: String
}

type TicketsSavedViewPayload implements MutationPayload {
  ok: Boolean! errors: [FieldError!]! savedView: TicketsSavedView
}

type TicketsVariable { name: String! description: String! example: String! }

"A canned reply rendered for a ticket (what lands in the reply box), or why it cannot be."
type TicketsPreview { body: String error: String }

input TicketsOpenInput {
  subject: String!
  groupId: ID!
  categoryId: ID
  priority: String
  assigneeId: ID
  accountId: ID
  contactId: ID
  "The first internal note (what the caller said)."
  body: String
}

"Only the fields given change; null clears categoryId, assigneeId, accountId."
input TicketsUpdateInput {
  subject: String
  status: String
  priority: String
  groupId: ID
  categoryId: ID
  assigneeId: ID
  accountId: ID
  contactId: ID
}

input TicketsInboundAddressInput { address: String! name: String groupId: ID! categoryId: ID }
input TicketsCannedReplyInput { name: String! body: String! groupId: ID }

"A mailbox fetched over IMAP by UID (read-only); its mail counts as sent to inboundAddress."
type TicketsImapMailbox {
  "The mailbox's id."
  id: ID!
  "The mailbox's name, unique among the IMAP mailboxes."
  name: String!
  "The IMAP server's host name or IP address."
  host: String!
  "The IMAP server's TCP port."
  port: Int!
  "ssl, starttls or none"
  security: String!
  "The IMAP login name."
  username: String!
  "Whether a password is stored (it is never shown)."
  hasPassword: Boolean!
  "The IMAP folder that is fetched, e.g. INBOX."
  folder: String!
  "The inbound address the mailbox's mail counts as sent to (its group and category)."
  inboundAddress: TicketsInboundAddress!
  "Whether the periodic poll fetches this mailbox."
  enabled: Boolean!
  "The highest UID handled so far."
  lastUid: Float!
  "How many messages have been fetched from this mailbox in all."
  fetched: Int!
  "When the mailbox was last polled (UTC); null if never."
  lastPolledAt: DateTime
  "Why the last poll failed (empty when it worked)."
  lastError: String!
}
"The password is sealed at rest; leave it out to keep the stored one."
input TicketsImapMailboxInput {
  "The mailbox's name, unique, at most 100 characters."
  name: String!
  "The IMAP server's host name or IP address."
  host: String!
  "The IMAP server's TCP port, 1-65535; left out: 993 for ssl, 143 otherwise."
  port: Int
  "ssl (the default), starttls or none."
  security: String
  "The IMAP login name, at most 254 characters."
  username: String!
  "The IMAP password, write-only (never returned), sealed at rest; required for a new mailbox, left out or empty keeps the stored one."
  password: String
  "The IMAP folder to fetch, at most 200 characters; left out: INBOX."
  folder: String
  "The inbound address the mailbox receives for: its mail counts as sent there."
  inboundAddressId: ID!
  "Whether the periodic poll fetches this mailbox; left out: true."
  enabled: Boolean
}
"The result of saving or fetching an IMAP mailbox."
type TicketsImapMailboxPayload implements MutationPayload {
  "Whether the mailbox was saved (or its fetch requested)."
  ok: Boolean!
  "Why not, per input field (empty when ok)."
  errors: [FieldError!]!
  "The mailbox; null when not ok."
  imapMailbox: TicketsImapMailbox
}

type TicketsTicketPayload implements MutationPayload {
  ok: Boolean! errors: [FieldError!]! ticket: TicketsTicket
}
type TicketsMessagePayload implements MutationPayload {
  ok: Boolean!
  errors: [FieldError!]!
  message: TicketsMessage
  "Whether a reply was queued for e-mail (false: no address, or no e-mail channel)."
  emailed: Boolean!
}
type TicketsInboundMailPayload implements MutationPayload {
  ok: Boolean! errors: [FieldError!]! inboundMail: TicketsInboundMail
}
type TicketsGroupPayload implements MutationPayload {
  ok: Boolean! errors: [FieldError!]! group: TicketsGroup
}
type TicketsCategoryPayload implements MutationPayload {
  ok: Boolean! errors: [FieldError!]! category: TicketsCategory
}
type TicketsInboundAddressPayload implements MutationPayload {
  ok: Boolean! errors: [FieldError!]! inboundAddress: TicketsInboundAddress
}
type TicketsCannedReplyPayload implements MutationPayload {
  ok: Boolean! errors: [FieldError!]! cannedReply: TicketsCannedReply
}

extend type Query {
  "The ticket queue."
  ticketsTickets(filter: TicketsTicketFilter, first: Int, after: String,
                 "-createdAt (the default), createdAt, -lastActivityAt, lastActivityAt, subject, -subject, token, -token"
                 sort: String): TicketsTicketConnection!
    @requires(permission: "tickets.ticket.view")
  ticketsTicket(id: ID!): TicketsTicket @requires(permission: "tickets.ticket.view")
  "The desk's groups (queues)."
  ticketsGroups(filter: TicketsNameFilter, first: Int, after: String,
                "name (the default), -name, createdAt, -createdAt"
                sort: String): TicketsGroupConnection!
    @requires(permission: "tickets.ticket.view")
  "The ticket categories."
  ticketsCategories(filter: TicketsNameFilter, first: Int, after: String,
                    "name (the default), -name, createdAt, -createdAt"
                    sort: String): TicketsCategoryConnection!
    @requires(permission: "tickets.ticket.view")
  "The addresses mail is accepted on."
  ticketsInboundAddresses(filter: TicketsInboundAddressFilter, first: Int, after: String,
                          "address (the default), -address, name, -name"
                          sort: String): TicketsInboundAddressConnection!
    @requires(permission: "tickets.ticket.view")
  "The canned replies."
  ticketsCannedReplies(filter: TicketsCannedReplyFilter, first: Int, after: String,
                       "name (the default), -name, updatedAt, -updatedAt"
                       sort: String): TicketsCannedReplyConnection!
    @requires(permission: "tickets.ticket.view")
  "The IMAP mailboxes fetched for inbound mail."
  ticketsImapMailboxes(filter: TicketsImapMailboxFilter, first: Int, after: String,
                       "name (the default), -name, host, -host"
                       sort: String): TicketsImapMailboxConnection!
    @requires(permission: "tickets.settings.manage")
  "The variables canned replies may use."
  ticketsCannedReplyVariables: [TicketsVariable!]! @requires(permission: "tickets.ticket.view")
  "Render a saved canned reply (cannedReplyId) or an unsaved text (body) for a ticket."
  ticketsPreviewCannedReply(ticketId: ID!, cannedReplyId: ID, body: String): TicketsPreview!
    @requires(permission: "tickets.ticket.work")
  "Your saved views and the shared ones."
  ticketsSavedViews(filter: TicketsSavedViewFilter, first: Int, after: String,
                    "name (the default), -name, createdAt, -createdAt"
                    sort: String): TicketsSavedViewConnection!
    @requires(permission: "tickets.ticket.view")
  "The inbound mail log."
  ticketsInboundMail(filter: TicketsInboundMailFilter, first: Int, after: String,
                     "-receivedAt (the default), receivedAt"
                     sort: String): TicketsInboundMailConnection!
    @requires(permission: "tickets.ticket.view")
}

extend type Mutation {
  "Open a ticket by hand (a call, a visit)."
  ticketsOpenTicket(input: TicketsOpenInput!): TicketsTicketPayload!
    @requires(permission: "tickets.ticket.work")
  ticketsUpdateTicket(id: ID!, input: TicketsUpdateInput!): TicketsTicketPayload!
    @requires(permission: "tickets.ticket.work")
  "A public reply, e-mailed from the address the ticket came in on; then status (default pending)."
  ticketsReply(ticketId: ID!, body: String!, status: String = "pending"): TicketsMessagePayload!
    @requires(permission: "tickets.ticket.work")
  "An internal note (never e-mailed)."
  ticketsAddNote(ticketId: ID!, body: String!): TicketsMessagePayload!
    @requires(permission: "tickets.ticket.work")
  "Open the ticket a held (or failed) mail was waiting for."
  ticketsReleaseInboundMail(id: ID!): TicketsInboundMailPayload!
    @requires(permission: "tickets.ticket.work")
  "Save the queue's filters under a name (shared: for the whole desk)."
  ticketsSaveView(input: TicketsSavedViewInput!): TicketsSavedViewPayload!
    @requires(permission: "tickets.ticket.view")
  "Delete your view, or a shared view you saved (desk managers: any shared view)."
  ticketsDeleteView(id: ID!): TicketsSavedViewPayload!
    @requires(permission: "tickets.ticket.view")
  "Create (no id) or rename a group."
  ticketsSaveGroup(id: ID, name: String!): TicketsGroupPayload!
    @requires(permission: "tickets.settings.manage")
  ticketsSaveCategory(id: ID, name: String!): TicketsCategoryPayload!
    @requires(permission: "tickets.settings.manage")
  ticketsSaveInboundAddress(id: ID, input: TicketsInboundAddressInput!): TicketsInboundAddressPayload!
    @requires(permission: "tickets.settings.manage")
  "Create or change a canned reply; the text is checked (unknown variables, bounds)."
  ticketsSaveCannedReply(id: ID, input: TicketsCannedReplyInput!): TicketsCannedReplyPayload!
    @requires(permission: "tickets.settings.manage")
  "Create (no id) or change an IMAP mailbox; the password is sealed at rest."
  ticketsSaveImapMailbox(id: ID, input: TicketsImapMailboxInput!): TicketsImapMailboxPayload!
    @requires(permission: "tickets.settings.manage")
  "Fetch the mailbox's new mail now (a background job; the periodic poll does it each minute)."
  ticketsFetchImapMailbox(id: ID!): TicketsImapMailboxPayload!
    @requires(permission: "tickets.settings.manage")
}
'''

query = QueryType()
mutation = MutationType()
ticket_type = ObjectType("TicketsTicket")
message_type = ObjectType("TicketsMessage")
attachment_type = ObjectType("TicketsAttachment")
inbound_type = ObjectType("TicketsInboundMail")
address_type = ObjectType("TicketsInboundAddress")
canned_type = ObjectType("TicketsCannedReply")
variable_type = ObjectType("TicketsVariable")
view_type = ObjectType("TicketsSavedView")
mailbox_type = ObjectType("TicketsImapMailbox")
set_aliases(mailbox_type, inboundAddress="inbound_address", lastUid="last_uid",
            lastPolledAt="last_polled_at", lastError="last_error")
mailbox_type.set_field("hasPassword", lambda m, _i: bool(m.secrets))
view_type.set_field("shared", lambda v, _i: v.owner_id is None)

set_aliases(ticket_type, assigneeId="assignee_id", accountId="account_id",
            contactId="contact_id", requesterEmail="requester_email",
            requesterName="requester_name", inboundAddress="inbound_address",
            lastActivityAt="last_activity_at", closedAt="closed_at", createdAt="created_at")
set_aliases(message_type, fromAddress="from_address", toAddress="to_address",
            bodyText="body_text", messageId="message_id", notificationId="notification_id")
set_aliases(attachment_type, contentType="content_type")
set_aliases(inbound_type, receivedAt="received_at", mailFrom="mail_from", rcptTo="rcpt_to",
            messageId="message_id", ticketId="ticket_id")
set_aliases(canned_type, body="body_text", groupId="group_id")
variable_type.set_field("example", lambda v, _i: str(v.example))
ticket_type.set_field("assigneeName", lambda t, _i: desk.staff_name(t.assignee_id) or None)


@ticket_type.field("messages")
def resolve_messages(ticket, _info, limit=100):
    return db.session.scalars(sa.select(TicketMessage).where(
        TicketMessage.ticket_id == ticket.id).order_by(TicketMessage.id)
        .limit(max(1, min(limit or 100, 500)))).all()


def _get(model, value, field: str):
    row = db.session.get(model, parse_id(value, field))
    if row is None:
        raise FieldErrors({field: [f"There is no {model.__tablename__[8:]} {value}."]})
    return row


def _ids(data: dict, *names: str) -> dict:
    """ID arguments as ints (a field error for a malformed one); others unchanged."""
    out = dict(data)
    for name in names:
        if out.get(name) not in (None, ""):
            out[name] = parse_id(out[name], name)
    return out


def _filters(stmt, values, fields):
    """``apply_filters`` after refusing text with a NUL character (the database cannot
    compare it: it would be a server error, not an empty page)."""
    for name, value in (values or {}).items():
        if isinstance(value, str) and "\x00" in value:
            raise FieldErrors({name: ["must not contain a NUL character"]})
    return apply_filters(stmt, values, fields)


def _like(value: str) -> str:
    """A case-insensitive substring pattern for ``ilike`` (wildcards in it escaped)."""
    text = " ".join(str(value).split())[:100]
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _matching(*columns):
    """A filter function: any of ``columns`` contains the search text."""
    def where(stmt, value):
        if not str(value).strip():
            return stmt
        pattern = _like(value)
        return stmt.where(sa.or_(*(c.ilike(pattern, escape="\\") for c in columns)))
    return where


def _id_is(column, name: str):
    return lambda stmt, value: stmt.where(column == parse_id(value, name))


def _one_of(column, name: str, allowed):
    def where(stmt, value):
        if value not in allowed:
            raise FieldErrors({name: [f"one of {', '.join(allowed)}"]})
        return stmt.where(column == value)
    return where


_search = _matching(Ticket.token, Ticket.subject, Ticket.requester_email, Ticket.requester_name)

TICKET_SORTS = {
    "-createdAt": Ticket.created_at.desc(), "createdAt": Ticket.created_at,
    "-lastActivityAt": Ticket.last_activity_at.desc(), "lastActivityAt": Ticket.last_activity_at,
    "subject": Ticket.subject, "-subject": Ticket.subject.desc(),
    "token": Ticket.token, "-token": Ticket.token.desc()}


@query.field("ticketsTickets")
def resolve_tickets(_obj, _info, filter=None, first=None, after=None, sort=None):  # noqa: A002
    def status(stmt, value):
        if value == "active":
            return stmt.where(Ticket.status.in_(("new", "open", "pending")))
        return _one_of(Ticket.status, "status", ("active", *STATUSES))(stmt, value)

    def unassigned(stmt, value):
        return stmt.where(Ticket.assignee_id.is_(None) if value
                          else Ticket.assignee_id.is_not(None))

    order_by = sort_order(sort, TICKET_SORTS, "-createdAt")
    stmt = _filters(sa.select(Ticket).options(
        joinedload(Ticket.group), joinedload(Ticket.category),
        joinedload(Ticket.inbound_address)), filter, {
        "groupId": _id_is(Ticket.group_id, "groupId"),
        "categoryId": _id_is(Ticket.category_id, "categoryId"),
        "assigneeId": _id_is(Ticket.assignee_id, "assigneeId"),
        "accountId": _id_is(Ticket.account_id, "accountId"),
        "contactId": _id_is(Ticket.contact_id, "contactId"),
        "inboundAddressId": _id_is(Ticket.inbound_address_id, "inboundAddressId"),
        "status": status, "priority": _one_of(Ticket.priority, "priority", PRIORITIES),
        "source": _one_of(Ticket.source, "source", ("email", "staff")),
        "unassigned": unassigned, "search": _search,
        "createdFrom": (Ticket.created_at, "gte"), "createdTo": (Ticket.created_at, "lt")})
    return paginate(stmt, first, after, order_by=order_by)


@query.field("ticketsTicket")
def resolve_ticket(_obj, _info, id):  # noqa: A002
    return db.session.get(Ticket, parse_id(id))


def _listing(stmt, filter, fields, first, after, sort, sorts, default):  # noqa: A002
    order_by = sort_order(sort, sorts, default)
    return paginate(_filters(stmt, filter, fields), first, after, order_by=order_by)


def _sorts(**columns) -> dict:
    """``name=Model.name`` -> ``{"name": Model.name, "-name": Model.name.desc()}``."""
    out = {}
    for key, column in columns.items():
        out[key] = column
        out["-" + key] = column.desc()
    return out


@query.field("ticketsGroups")
def resolve_groups(_obj, _info, filter=None, first=None, after=None, sort=None):  # noqa: A002
    return _listing(sa.select(Group), filter, {"search": _matching(Group.name)}, first, after,
                    sort, _sorts(name=Group.name, createdAt=Group.created_at), "name")


@query.field("ticketsCategories")
def resolve_categories(_obj, _info, filter=None, first=None, after=None,  # noqa: A002
                       sort=None):
    return _listing(sa.select(Category), filter, {"search": _matching(Category.name)}, first,
                    after, sort, _sorts(name=Category.name, createdAt=Category.created_at),
                    "name")


@query.field("ticketsInboundAddresses")
def resolve_inbound_addresses(_obj, _info, filter=None, first=None, after=None,  # noqa: A002
                              sort=None):
    return _listing(sa.select(InboundAddress).options(
        joinedload(InboundAddress.group), joinedload(InboundAddress.category)), filter, {
        "groupId": _id_is(InboundAddress.group_id, "groupId"),
        "categoryId": _id_is(InboundAddress.category_id, "categoryId"),
        "search": _matching(InboundAddress.address, InboundAddress.name)},
        first, after, sort, _sorts(address=InboundAddress.address, name=InboundAddress.name),
        "address")


@query.field("ticketsCannedReplies")
def resolve_canned_replies(_obj, _info, filter=None, first=None, after=None,  # noqa: A002
                           sort=None):
    return _listing(sa.select(CannedReply), filter, {
        "groupId": _id_is(CannedReply.group_id, "groupId"),
        "search": _matching(CannedReply.name, CannedReply.body_text)},
        first, after, sort, _sorts(name=CannedReply.name, updatedAt=CannedReply.updated_at),
        "name")


query.set_field("ticketsCannedReplyVariables", lambda *_: list(canned.VARIABLES))


@query.field("ticketsSavedViews")
def resolve_saved_views(_obj, _info, filter=None, first=None, after=None,  # noqa: A002
                        sort=None):
    me = desk.actor_user_id() or -1
    return _listing(saved.visible_select(), filter, {
        "shared": lambda s, v: s.where(SavedView.owner_id.is_(None) if v
                                       else SavedView.owner_id == me),
        "search": _matching(SavedView.name)},
        first, after, sort, _sorts(name=SavedView.name, createdAt=SavedView.created_at),
        "name")


VIEW_KEYS = {"groupId": "group", "status": "status", "priority": "priority",
             "categoryId": "category", "assignee": "assignee", "search": "q", "sort": "sort"}


@mutation.field("ticketsSaveView")
@mutation_payload
def resolve_save_view(_obj, _info, input):  # noqa: A002
    filters = {key: input.get(field) for field, key in VIEW_KEYS.items()}
    try:
        view = saved.save(input.get("name"), filters, shared=bool(input.get("shared")))
    except ValidationError as exc:
        named = {k: v for k, v in exc.normalized_messages().items()}
        back = {key: field for field, key in VIEW_KEYS.items()}
        raise FieldErrors({back.get(k, k): v for k, v in named.items()}) from None
    return {"savedView": view}


@mutation.field("ticketsDeleteView")
@mutation_payload
def resolve_delete_view(_obj, _info, id):  # noqa: A002
    view = _get(SavedView, id, "id")
    saved.delete(view)
    return {"savedView": None}


@query.field("ticketsPreviewCannedReply")
def resolve_preview(_obj, _info, ticketId, cannedReplyId=None, body=None):  # noqa: N803
    ticket = _get(Ticket, ticketId, "ticketId")
    if cannedReplyId is not None:
        source = _get(CannedReply, cannedReplyId, "cannedReplyId").body_text
    elif body is not None:
        source = body
    else:
        raise FieldErrors({"cannedReplyId": ["give cannedReplyId or body"]})
    try:
        if body is not None and cannedReplyId is None:
            canned.check(source)
        return {"body": canned.render(source, ticket), "error": None}
    except ValidationError as exc:
        return {"body": None, "error": " ".join(exc.normalized_messages().get("body", []))}


@query.field("ticketsInboundMail")
def resolve_inbound(_obj, _info, filter=None, first=None, after=None, sort=None):  # noqa: A002
    return _listing(sa.select(InboundMail), filter, {
        "outcome": _one_of(InboundMail.outcome, "outcome", INBOUND_OUTCOMES),
        "ticketId": _id_is(InboundMail.ticket_id, "ticketId"),
        "receivedFrom": (InboundMail.received_at, "gte"),
        "receivedTo": (InboundMail.received_at, "lt"),
        "search": _matching(InboundMail.mail_from, InboundMail.rcpt_to, InboundMail.subject,
                            InboundMail.message_id)},
        first, after, sort, {"-receivedAt": InboundMail.received_at.desc(),
                             "receivedAt": InboundMail.received_at}, "-receivedAt")


@mutation.field("ticketsOpenTicket")
@mutation_payload
def resolve_open(_obj, _info, input):  # noqa: A002
    data = _ids(input, "groupId", "categoryId", "assigneeId", "accountId", "contactId")
    return {"ticket": desk.open_ticket(data)}


@mutation.field("ticketsUpdateTicket")
@mutation_payload
def resolve_update(_obj, _info, id, input):  # noqa: A002
    ticket = _get(Ticket, id, "id")
    data = _ids(input, "groupId", "categoryId", "assigneeId", "accountId", "contactId")
    return {"ticket": desk.update_ticket(ticket, data)}


@mutation.field("ticketsReply")
@mutation_payload
def resolve_reply(_obj, _info, ticketId, body, status="pending"):  # noqa: N803
    ticket = _get(Ticket, ticketId, "ticketId")
    msg = desk.reply(ticket, body, status or None)
    return {"message": msg, "emailed": msg.notification_id is not None}


@mutation.field("ticketsAddNote")
@mutation_payload
def resolve_note(_obj, _info, ticketId, body):  # noqa: N803
    ticket = _get(Ticket, ticketId, "ticketId")
    msg = desk.add_note(ticket, body)
    db.session.flush()
    return {"message": msg, "emailed": False}


@mutation.field("ticketsReleaseInboundMail")
@mutation_payload
def resolve_release(_obj, _info, id):  # noqa: A002
    mail = _get(InboundMail, id, "id")
    return {"inboundMail": mailin.release(mail)}


@mutation.field("ticketsSaveGroup")
@mutation_payload
def resolve_save_group(_obj, _info, name, id=None):  # noqa: A002
    row = _get(Group, id, "id") if id else None
    return {"group": config.save_group(name, row)}


@mutation.field("ticketsSaveCategory")
@mutation_payload
def resolve_save_category(_obj, _info, name, id=None):  # noqa: A002
    row = _get(Category, id, "id") if id else None
    return {"category": config.save_category(name, row)}


@mutation.field("ticketsSaveInboundAddress")
@mutation_payload
def resolve_save_address(_obj, _info, input, id=None):  # noqa: A002
    row = _get(InboundAddress, id, "id") if id else None
    return {"inboundAddress": config.save_inbound_address(_ids(input, "groupId", "categoryId"),
                                                          row)}


@mutation.field("ticketsSaveCannedReply")
@mutation_payload
def resolve_save_canned(_obj, _info, input, id=None):  # noqa: A002
    row = _get(CannedReply, id, "id") if id else None
    return {"cannedReply": canned.save(_ids(input, "groupId"), row)}


@query.field("ticketsImapMailboxes")
def resolve_mailboxes(_obj, _info, filter=None, first=None, after=None,  # noqa: A002
                      sort=None):
    return _listing(sa.select(ImapMailbox).options(joinedload(ImapMailbox.inbound_address)),
                    filter, {
        "enabled": lambda s, v: s.where(ImapMailbox.enabled.is_(bool(v))),
        "inboundAddressId": _id_is(ImapMailbox.inbound_address_id, "inboundAddressId"),
        "failing": lambda s, v: s.where(ImapMailbox.last_error != "" if v
                                        else ImapMailbox.last_error == ""),
        "search": _matching(ImapMailbox.name, ImapMailbox.host, ImapMailbox.username)},
        first, after, sort, _sorts(name=ImapMailbox.name, host=ImapMailbox.host), "name")


@mutation.field("ticketsSaveImapMailbox")
@mutation_payload
def resolve_save_mailbox(_obj, _info, input, id=None):  # noqa: A002
    row = _get(ImapMailbox, id, "id") if id else None
    return {"imapMailbox": imap.save_mailbox(_ids(input, "inboundAddressId"), row)}


@mutation.field("ticketsFetchImapMailbox")
@mutation_payload
def resolve_fetch_mailbox(_obj, _info, id):  # noqa: A002
    row = _get(ImapMailbox, id, "id")
    imap.request_fetch(row)
    return {"imapMailbox": row}


def contribution() -> GraphQLContribution:
    return GraphQLContribution(SDL, (query, mutation, ticket_type, message_type,
                                     attachment_type, inbound_type, address_type, canned_type,
                                     variable_type, view_type, mailbox_type))
