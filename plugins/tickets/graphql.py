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
"A queue of the desk (Support, Billing...): each ticket is in one."
type TicketsGroup {
  "The group's id (groupId in filters and inputs)."
  id: ID!
  "The group's name, unique, at most 100 characters."
  name: String!
}
"What a ticket is about (Outage, Billing query...), optional on a ticket."
type TicketsCategory {
  "The category's id (categoryId in filters and inputs)."
  id: ID!
  "The category's name, unique, at most 100 characters."
  name: String!
}

"An address mail arrives on; its tickets go to its group and are answered from it."
type TicketsInboundAddress {
  "The inbound address's id (inboundAddressId in filters and inputs)."
  id: ID!
  "The e-mail address, lower case, unique, e.g. support@isp.example.net."
  address: String!
  "The display name replies are sent under (empty: none)."
  name: String!
  "The group new tickets from this address go to."
  group: TicketsGroup!
  "The category new tickets from this address get (null: none)."
  category: TicketsCategory
}

"A file attached to a received mail (its content is downloaded from the ticket page)."
type TicketsAttachment {
  "The attachment's id."
  id: ID!
  "The file name as sent, at most 255 characters."
  filename: String!
  "The MIME type as sent, e.g. image/png."
  contentType: String!
  "The size in bytes."
  size: Int!
}

"The customer's mail (inbound), a public reply (e-mailed) or an internal note."
type TicketsMessage {
  "The message's id."
  id: ID!
  "inbound (mail from the customer), reply (public, e-mailed) or note (internal)"
  kind: String!
  "When it was received or written (UTC)."
  at: DateTime!
  "Who wrote it: the staff member for replies and notes, the sender for inbound mail."
  author: String!
  "The sender's e-mail address (a reply: the inbound address it went out from)."
  fromAddress: String!
  "The recipient's e-mail address (empty for notes)."
  toAddress: String!
  "The mail's subject (empty for notes)."
  subject: String!
  "The plain-text body."
  bodyText: String!
  "The RFC 5322 Message-ID (with brackets) of the mail received or sent; null for notes."
  messageId: String
  "An auto-reply or part of a mail loop: never answered."
  automatic: Boolean!
  "The notifications plugin's message carrying a reply (its delivery log)."
  notificationId: ID
  "The files attached to a received mail (none for replies and notes)."
  attachments: [TicketsAttachment!]!
}

"A customer's request: the mails, replies and notes about one problem."
type TicketsTicket {
  "The ticket's id."
  id: ID!
  "The reference told to customers and put in subjects, e.g. TK-ABC234; unique."
  token: String!
  "The subject, at most 300 characters."
  subject: String!
  "new, open, pending, solved or closed"
  status: String!
  "low, normal, high or urgent"
  priority: String!
  "The group (queue) the ticket is in."
  group: TicketsGroup!
  "Its category (null: none)."
  category: TicketsCategory
  "The staff member it is assigned to (null: nobody)."
  assigneeId: ID
  "The assignee's name (null: nobody)."
  assigneeName: String
  "The customer account it is about (null: not linked)."
  accountId: ID
  "The account's contact who asked (null: not linked)."
  contactId: ID
  "The address replies go to: the first mail's sender, or the contact's e-mail (empty: none)."
  requesterEmail: String!
  "The requester's name (empty: unknown)."
  requesterName: String!
  "email or staff"
  source: String!
  "The address the ticket came in on, which replies are sent from (null: opened by staff)."
  inboundAddress: TicketsInboundAddress
  "When a mail, reply, note or change last touched it (UTC)."
  lastActivityAt: DateTime!
  "When it was closed (UTC); null while not closed."
  closedAt: DateTime
  "When it was opened (UTC)."
  createdAt: DateTime!
  "Oldest first."
  messages(limit: Int = 100): [TicketsMessage!]!
}

"One ticket of a page, with its cursor."
type TicketsTicketEdge implements Edge {
  "Opaque; pass it as after to read the page that follows."
  cursor: String!
  "The ticket."
  node: TicketsTicket!
}
"A page of tickets, with the total count."
type TicketsTicketConnection implements Connection {
  "The tickets of this page, each with its cursor."
  edges: [TicketsTicketEdge!]!
  "The tickets of this page (the edges' nodes)."
  nodes: [TicketsTicket!]!
  "Cursors of this page and whether more follow."
  pageInfo: PageInfo!
  "How many tickets match the filter, across all pages."
  totalCount: Int!
}

"Narrows ticketsTickets; every given value must match."
input TicketsTicketFilter {
  "Only tickets in this group."
  groupId: ID
  "a status, or \\"active\\" (new, open, pending)"
  status: String
  "low, normal, high or urgent"
  priority: String
  "Only tickets of this category."
  categoryId: ID
  "Only tickets assigned to this staff member."
  assigneeId: ID
  "Only tickets about this account."
  accountId: ID
  "Only tickets from this contact."
  contactId: ID
  "token, subject or requester (substring)"
  search: String
  "email or staff"
  source: String
  "Only tickets that came in on this inbound address."
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
  "The log entry's id."
  id: ID!
  "When the listener or the IMAP fetch accepted it (UTC)."
  receivedAt: DateTime!
  "The envelope sender (MAIL FROM), at most 300 characters."
  mailFrom: String!
  "The envelope recipients (RCPT TO), comma-separated."
  rcptTo: String!
  "The mail's Message-ID header (null: none)."
  messageId: String
  "The mail's subject."
  subject: String!
  "The raw mail's size in bytes."
  size: Int!
  "ticket, threaded, reopened, held, bounce, failed or released"
  outcome: String!
  "What was done or why not, for people (e.g. why it was held)."
  detail: String!
  "The ticket it opened or was added to (null: none)."
  ticketId: ID
}

"One received mail of a page, with its cursor."
type TicketsInboundMailEdge implements Edge {
  "Opaque; pass it as after to read the page that follows."
  cursor: String!
  "The received mail."
  node: TicketsInboundMail!
}
"A page of received mails, with the total count."
type TicketsInboundMailConnection implements Connection {
  "The received mails of this page, each with its cursor."
  edges: [TicketsInboundMailEdge!]!
  "The received mails of this page (the edges' nodes)."
  nodes: [TicketsInboundMail!]!
  "Cursors of this page and whether more follow."
  pageInfo: PageInfo!
  "How many received mails match the filter, across all pages."
  totalCount: Int!
}

"One group of a page, with its cursor."
type TicketsGroupEdge implements Edge {
  "Opaque; pass it as after to read the page that follows."
  cursor: String!
  "The group."
  node: TicketsGroup!
}
"A page of groups, with the total count."
type TicketsGroupConnection implements Connection {
  "The groups of this page, each with its cursor."
  edges: [TicketsGroupEdge!]!
  "The groups of this page (the edges' nodes)."
  nodes: [TicketsGroup!]!
  "Cursors of this page and whether more follow."
  pageInfo: PageInfo!
  "How many groups match the filter, across all pages."
  totalCount: Int!
}
"One category of a page, with its cursor."
type TicketsCategoryEdge implements Edge {
  "Opaque; pass it as after to read the page that follows."
  cursor: String!
  "The category."
  node: TicketsCategory!
}
"A page of categories, with the total count."
type TicketsCategoryConnection implements Connection {
  "The categories of this page, each with its cursor."
  edges: [TicketsCategoryEdge!]!
  "The categories of this page (the edges' nodes)."
  nodes: [TicketsCategory!]!
  "Cursors of this page and whether more follow."
  pageInfo: PageInfo!
  "How many categories match the filter, across all pages."
  totalCount: Int!
}
"One inbound address of a page, with its cursor."
type TicketsInboundAddressEdge implements Edge {
  "Opaque; pass it as after to read the page that follows."
  cursor: String!
  "The inbound address."
  node: TicketsInboundAddress!
}
"A page of inbound addresses, with the total count."
type TicketsInboundAddressConnection implements Connection {
  "The inbound addresses of this page, each with its cursor."
  edges: [TicketsInboundAddressEdge!]!
  "The inbound addresses of this page (the edges' nodes)."
  nodes: [TicketsInboundAddress!]!
  "Cursors of this page and whether more follow."
  pageInfo: PageInfo!
  "How many inbound addresses match the filter, across all pages."
  totalCount: Int!
}
"One canned reply of a page, with its cursor."
type TicketsCannedReplyEdge implements Edge {
  "Opaque; pass it as after to read the page that follows."
  cursor: String!
  "The canned reply."
  node: TicketsCannedReply!
}
"A page of canned replies, with the total count."
type TicketsCannedReplyConnection implements Connection {
  "The canned replies of this page, each with its cursor."
  edges: [TicketsCannedReplyEdge!]!
  "The canned replies of this page (the edges' nodes)."
  nodes: [TicketsCannedReply!]!
  "Cursors of this page and whether more follow."
  pageInfo: PageInfo!
  "How many canned replies match the filter, across all pages."
  totalCount: Int!
}
"One saved view of a page, with its cursor."
type TicketsSavedViewEdge implements Edge {
  "Opaque; pass it as after to read the page that follows."
  cursor: String!
  "The saved view."
  node: TicketsSavedView!
}
"A page of saved views, with the total count."
type TicketsSavedViewConnection implements Connection {
  "The saved views of this page, each with its cursor."
  edges: [TicketsSavedViewEdge!]!
  "The saved views of this page (the edges' nodes)."
  nodes: [TicketsSavedView!]!
  "Cursors of this page and whether more follow."
  pageInfo: PageInfo!
  "How many saved views match the filter, across all pages."
  totalCount: Int!
}
"One IMAP mailbox of a page, with its cursor."
type TicketsImapMailboxEdge implements Edge {
  "Opaque; pass it as after to read the page that follows."
  cursor: String!
  "The IMAP mailbox."
  node: TicketsImapMailbox!
}
"A page of IMAP mailboxes, with the total count."
type TicketsImapMailboxConnection implements Connection {
  "The IMAP mailboxes of this page, each with its cursor."
  edges: [TicketsImapMailboxEdge!]!
  "The IMAP mailboxes of this page (the edges' nodes)."
  nodes: [TicketsImapMailbox!]!
  "Cursors of this page and whether more follow."
  pageInfo: PageInfo!
  "How many IMAP mailboxes match the filter, across all pages."
  totalCount: Int!
}

"Narrows a list of named things."
input TicketsNameFilter {
  "Part of the name (case-insensitive)."
  search: String
}
"Narrows ticketsInboundAddresses; every given value must match."
input TicketsInboundAddressFilter {
  "Only addresses feeding this group."
  groupId: ID
  "Only addresses giving this category."
  categoryId: ID
  "Part of the address or of its name (case-insensitive)."
  search: String
}
"Narrows ticketsCannedReplies; every given value must match."
input TicketsCannedReplyFilter {
  "The group's replies (replies for every group are not included)."
  groupId: ID
  "Part of the name or text (case-insensitive)."
  search: String
}
"Narrows ticketsSavedViews; every given value must match."
input TicketsSavedViewFilter {
  "true: only shared views; false: only your own."
  shared: Boolean
  "Part of the name (case-insensitive)."
  search: String
}
"Narrows ticketsImapMailboxes; every given value must match."
input TicketsImapMailboxFilter {
  "Only mailboxes the periodic poll fetches (true) or skips (false)."
  enabled: Boolean
  "Only mailboxes whose mail counts as sent to this inbound address."
  inboundAddressId: ID
  "true: only mailboxes whose last poll failed."
  failing: Boolean
  "Part of the name, host or login (case-insensitive)."
  search: String
}
"Narrows ticketsInboundMail; every given value must match."
input TicketsInboundMailFilter {
  "ticket, threaded, reopened, held, bounce, failed or released"
  outcome: String
  "Only mail that opened or was added to this ticket."
  ticketId: ID
  "Received at or after this time."
  receivedFrom: DateTime
  "Received before this time."
  receivedTo: DateTime
  "Part of the sender, recipients, subject or Message-ID (case-insensitive)."
  search: String
}

"A reply text staff insert into a ticket's reply box; it may use the variables of ticketsCannedReplyVariables."
type TicketsCannedReply {
  "The canned reply's id."
  id: ID!
  "The name staff pick it by, unique, at most 100 characters."
  name: String!
  "The text with {{ variables }}, rendered for a ticket by ticketsPreviewCannedReply."
  body: String!
  "Offered in this group only (null: in every group)."
  groupId: ID
}

"A named set of queue filters, yours or shared with the desk."
type TicketsSavedView {
  "The view's id."
  id: ID!
  "The view's name, at most 100 characters, unique per owner."
  name: String!
  "Shared with the whole desk (false: only yours)."
  shared: Boolean!
  "The list's filters: group, status, priority, category, assignee, q, sort."
  filters: JSON!
}

"A view to save: a name and the queue's filters (at most 50 views each)."
input TicketsSavedViewInput {
  "The view's name, 1-100 characters, unique among yours (or among the shared ones)."
  name: String!
  "Share with the whole desk (default false: only you see it)."
  shared: Boolean
  "Only tickets in this group."
  groupId: ID
  "a status, or \\"active\\""
  status: String
  "low, normal, high or urgent"
  priority: String
  "Only tickets of this category."
  categoryId: ID
  "me, none or a staff id"
  assignee: String
  "Token, subject or requester (substring), at most 200 characters."
  search: String
  "token, subject, status, priority or activity; - for descending"
  sort: String
}

"The result of saving or deleting a view."
type TicketsSavedViewPayload implements MutationPayload {
  "Whether it was done (false: see errors; nothing was changed)."
  ok: Boolean!
  "What is wrong, by input field (empty when ok)."
  errors: [FieldError!]!
  "The view saved; null when deleted or not ok."
  savedView: TicketsSavedView
}

"A variable a canned reply may use, e.g. {{ ticket.token }}."
type TicketsVariable {
  "The name to write between {{ and }}, e.g. ticket.token."
  name: String!
  "What it stands for."
  description: String!
  "An example value."
  example: String!
}

"A canned reply rendered for a ticket (what lands in the reply box), or why it cannot be."
type TicketsPreview {
  "The rendered text; null when it cannot be rendered."
  body: String
  "Why it cannot be rendered (an unknown variable, bad syntax); null when it can."
  error: String
}

"A ticket opened by hand; the contact defaults to the account's primary contact."
input TicketsOpenInput {
  "The subject, 1-300 characters."
  subject: String!
  "The group (queue) to put it in."
  groupId: ID!
  "Its category (left out: none)."
  categoryId: ID
  "low, normal (the default), high or urgent"
  priority: String
  "The staff member to assign it to (left out: nobody)."
  assigneeId: ID
  "The customer account it is about."
  accountId: ID
  "The account's contact who asked (left out: the primary contact)."
  contactId: ID
  "The first internal note (what the caller said)."
  body: String
}

"Only the fields given change; null clears categoryId, assigneeId, accountId."
input TicketsUpdateInput {
  "A new subject, 1-300 characters."
  subject: String
  "new, open, pending, solved or closed"
  status: String
  "low, normal, high or urgent"
  priority: String
  "Move it to this group."
  groupId: ID
  "Its category (null clears it)."
  categoryId: ID
  "Assign it to this staff member (null: nobody)."
  assigneeId: ID
  "Link it to this account (null unlinks it)."
  accountId: ID
  "Link it to this contact of the account."
  contactId: ID
}

"An address mail is accepted on and the group its tickets go to."
input TicketsInboundAddressInput {
  "A valid e-mail address, at most 254 characters, unique."
  address: String!
  "The display name replies are sent under, at most 100 characters."
  name: String
  "The group new tickets go to."
  groupId: ID!
  "The category new tickets get (left out: none)."
  categoryId: ID
}
"A canned reply; its text is checked (known variables, syntax, length)."
input TicketsCannedReplyInput {
  "The name, 1-100 characters, unique."
  name: String!
  "The text, with variables from ticketsCannedReplyVariables, e.g. {{ contact.name }}."
  body: String!
  "Offer it in this group only (left out: in every group)."
  groupId: ID
}

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

"The result of opening or changing a ticket."
type TicketsTicketPayload implements MutationPayload {
  "Whether it was done (false: see errors; nothing was changed)."
  ok: Boolean!
  "What is wrong, by input field (empty when ok)."
  errors: [FieldError!]!
  "The ticket as saved; null when not ok."
  ticket: TicketsTicket
}
"The result of a reply or a note."
type TicketsMessagePayload implements MutationPayload {
  "Whether it was done (false: see errors; nothing was changed)."
  ok: Boolean!
  "What is wrong, by input field (empty when ok)."
  errors: [FieldError!]!
  "The reply or note added; null when not ok."
  message: TicketsMessage
  "Whether a reply was queued for e-mail (false: no address, or no e-mail channel)."
  emailed: Boolean!
}
"The result of releasing a held mail."
type TicketsInboundMailPayload implements MutationPayload {
  "Whether it was done (false: see errors; nothing was changed)."
  ok: Boolean!
  "What is wrong, by input field (empty when ok)."
  errors: [FieldError!]!
  "The log entry, now released (its ticketId set); null when not ok."
  inboundMail: TicketsInboundMail
}
"The result of saving a group."
type TicketsGroupPayload implements MutationPayload {
  "Whether it was done (false: see errors; nothing was changed)."
  ok: Boolean!
  "What is wrong, by input field (empty when ok)."
  errors: [FieldError!]!
  "The group as saved; null when not ok."
  group: TicketsGroup
}
"The result of saving a category."
type TicketsCategoryPayload implements MutationPayload {
  "Whether it was done (false: see errors; nothing was changed)."
  ok: Boolean!
  "What is wrong, by input field (empty when ok)."
  errors: [FieldError!]!
  "The category as saved; null when not ok."
  category: TicketsCategory
}
"The result of saving an inbound address."
type TicketsInboundAddressPayload implements MutationPayload {
  "Whether it was done (false: see errors; nothing was changed)."
  ok: Boolean!
  "What is wrong, by input field (empty when ok)."
  errors: [FieldError!]!
  "The address as saved; null when not ok."
  inboundAddress: TicketsInboundAddress
}
"The result of saving a canned reply."
type TicketsCannedReplyPayload implements MutationPayload {
  "Whether it was done (false: see errors; nothing was changed)."
  ok: Boolean!
  "What is wrong, by input field (empty when ok)."
  errors: [FieldError!]!
  "The canned reply as saved; null when not ok."
  cannedReply: TicketsCannedReply
}

extend type Query {
  "The ticket queue."
  ticketsTickets(filter: TicketsTicketFilter, first: Int, after: String,
                 "-createdAt (the default), createdAt, -lastActivityAt, lastActivityAt, subject, -subject, token, -token"
                 sort: String): TicketsTicketConnection!
    @requires(permission: "tickets.ticket.view")
  "One ticket by id (null: no such ticket)."
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
  "Change a ticket; fields left out stay as they are."
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
  "Create (no id) or rename a category."
  ticketsSaveCategory(id: ID, name: String!): TicketsCategoryPayload!
    @requires(permission: "tickets.settings.manage")
  "Create (no id) or change an inbound address."
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
