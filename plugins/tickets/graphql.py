"""GraphQL for the tickets plugin: every page action is a field here, behind the same
permission, with field-level errors (``ok: false, errors: [{field, messages}]``)."""
from __future__ import annotations

import sqlalchemy as sa
from marshmallow import ValidationError

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
)

from . import canned, config, desk, imap, mailin, saved
from .models import (
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
  "token, subject or requester (substring)"
  search: String
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
  ticketsTickets(first: Int, after: String, filter: TicketsTicketFilter): TicketsTicketConnection!
    @requires(permission: "tickets.ticket.view")
  ticketsTicket(id: ID!): TicketsTicket @requires(permission: "tickets.ticket.view")
  ticketsGroups: [TicketsGroup!]! @requires(permission: "tickets.ticket.view")
  ticketsCategories: [TicketsCategory!]! @requires(permission: "tickets.ticket.view")
  ticketsInboundAddresses: [TicketsInboundAddress!]! @requires(permission: "tickets.ticket.view")
  ticketsCannedReplies: [TicketsCannedReply!]! @requires(permission: "tickets.ticket.view")
  "The IMAP mailboxes fetched for inbound mail, by name."
  ticketsImapMailboxes: [TicketsImapMailbox!]! @requires(permission: "tickets.settings.manage")
  "The variables canned replies may use."
  ticketsCannedReplyVariables: [TicketsVariable!]! @requires(permission: "tickets.ticket.view")
  "Render a saved canned reply (cannedReplyId) or an unsaved text (body) for a ticket."
  ticketsPreviewCannedReply(ticketId: ID!, cannedReplyId: ID, body: String): TicketsPreview!
    @requires(permission: "tickets.ticket.work")
  "Your saved views and the shared ones."
  ticketsSavedViews: [TicketsSavedView!]! @requires(permission: "tickets.ticket.view")
  "The inbound mail log, newest first."
  ticketsInboundMail(first: Int, after: String, outcome: String): TicketsInboundMailConnection!
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


def _search(stmt, value: str):
    pattern = f"%{' '.join(value.split())[:100]}%"
    return stmt.where(sa.or_(Ticket.token.ilike(pattern), Ticket.subject.ilike(pattern),
                             Ticket.requester_email.ilike(pattern),
                             Ticket.requester_name.ilike(pattern)))


@query.field("ticketsTickets")
def resolve_tickets(_obj, _info, first=None, after=None, filter=None):  # noqa: A002
    def status(stmt, value):
        if value == "active":
            return stmt.where(Ticket.status.in_(("new", "open", "pending")))
        return stmt.where(Ticket.status == value)

    stmt = apply_filters(sa.select(Ticket), filter, {
        "groupId": lambda s, v: s.where(Ticket.group_id == parse_id(v, "groupId")),
        "categoryId": lambda s, v: s.where(Ticket.category_id == parse_id(v, "categoryId")),
        "assigneeId": lambda s, v: s.where(Ticket.assignee_id == parse_id(v, "assigneeId")),
        "accountId": lambda s, v: s.where(Ticket.account_id == parse_id(v, "accountId")),
        "status": status, "priority": Ticket.priority, "search": _search})
    return paginate(stmt, first, after, order_by=Ticket.id.desc())


@query.field("ticketsTicket")
def resolve_ticket(_obj, _info, id):  # noqa: A002
    return db.session.get(Ticket, parse_id(id))


def _all(model, order):
    return db.session.scalars(sa.select(model).order_by(order)).all()


query.set_field("ticketsGroups", lambda *_: _all(Group, Group.name))
query.set_field("ticketsCategories", lambda *_: _all(Category, Category.name))
query.set_field("ticketsInboundAddresses",
                lambda *_: _all(InboundAddress, InboundAddress.address))
query.set_field("ticketsCannedReplies", lambda *_: _all(CannedReply, CannedReply.name))
query.set_field("ticketsCannedReplyVariables", lambda *_: list(canned.VARIABLES))
query.set_field("ticketsSavedViews", lambda *_: saved.visible())
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
def resolve_inbound(_obj, _info, first=None, after=None, outcome=None):
    stmt = sa.select(InboundMail)
    if outcome:
        stmt = stmt.where(InboundMail.outcome == outcome)
    return paginate(stmt, first, after, order_by=InboundMail.id.desc())


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


query.set_field("ticketsImapMailboxes", lambda *_: _all(ImapMailbox, ImapMailbox.name))


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
