"""Issue 21's coverage audit: every list of entities on ``Query`` is a connection with
``first``/``after``, a ``filter``, a ``sort`` and ``totalCount``.

Walks the live schema of an app with every installed plugin. When the audit was written
(2026-12-04) only ``accounts`` met the rule; the other list fields are pinned in ``GAPS``
below, which may only shrink: a new list field that is not a full connection fails here, and
a gap that is closed must leave the set. (Some gaps are short, fixed enumerations — service
types, action types — that may deserve a reviewed exemption rather than a connection.)
"""
from __future__ import annotations

from graphql import get_named_type, get_nullable_type, is_list_type, is_object_type

REQUIRED_ARGS = ("first", "after", "filter", "sort")

GAPS = {
    "plugins", "staffUsers", "staffRoles", "apiTokens", "myApiTokens", "auditEntries",
    "accountStatuses", "contacts", "addresses", "buildings", "notes", "calls",
    "scheduledEvents", "scheduledActionTypes", "notificationsMessages",
    "notificationsEventTypes", "notificationsTemplates", "notificationsChannels",
    "billingServiceTypes", "billingTaxClasses", "billingServices", "billingPackages",
    "billingInvoices", "billingTransactions", "billingRuns", "billingSuspensionPreview",
    "ticketsTickets", "ticketsGroups",
    "ticketsCategories", "ticketsInboundAddresses", "ticketsCannedReplies",
    "ticketsCannedReplyVariables", "ticketsSavedViews", "ticketsInboundMail", "schedulingMap",
    "schedulingJobs", "schedulingJobTypes", "schedulingTechnicians",
    # merged the same day from branches written beside this audit (issues 16, 17, 19, 20, 21)
    "portalContacts", "reportsReports",
    "ticketsImapMailboxes", "webhooksEndpoints", "webhooksEventTypes",
}

#: Reviewed exemptions: list fields that are not entities (computed views, code-defined
#: enumerations, lookups by a scanned code). Each says why it need not be a connection.
EXEMPT: dict[str, str] = {
    "inventoryLookup": "a lookup by one scanned identifier value: the few items carrying it",
    "inventoryCheckScans": "a computed preview of the values in the request (at most one "
                           "intake batch); nothing stored is listed",
    "usageSummary": "a computed summary: one row per data service of one account, summed "
                    "from the rollups for one month",
    "usageTop": "a computed ranking: the top N (at most 500) services of a month by summed "
                "rollups, not stored rows",
    "usageMonthly": "a computed summary: one service's daily rollups summed per calendar "
                    "month, at most 36 rows",
}


def not_full_connections(schema) -> set[str]:
    out = set()
    for name, field in schema.query_type.fields.items():
        named = get_named_type(field.type)
        if not is_object_type(named):
            continue
        if not (is_list_type(get_nullable_type(field.type)) or named.name.endswith("Connection")):
            continue
        full = named.name.endswith("Connection") and "totalCount" in named.fields \
            and all(arg in field.args for arg in REQUIRED_ARGS)
        if not full:
            out.add(name)
    return out


def test_every_entity_list_is_a_full_connection(make_app):
    schema = make_app().extensions["backhaul.graphql"].schema
    found = not_full_connections(schema)
    assert not set(EXEMPT) & GAPS, "a field is either exempt (with its reason) or a gap"
    assert all(len(why) > 20 for why in EXEMPT.values()), "say why in EXEMPT"
    new = sorted(found - GAPS - set(EXEMPT))
    assert not new, (f"make these connections with first/after, filter, sort and totalCount "
                     f"(see Query.accounts): {new}")
    closed = sorted(GAPS - found - {n for n in GAPS if n not in schema.query_type.fields})
    assert not closed, f"closed gaps: remove them from GAPS: {closed}"
    assert "accounts" not in found  # the model the others should follow
