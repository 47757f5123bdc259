"""Issue 21's coverage audit: every list of entities on ``Query`` is a connection with
``first``/``after``, a ``filter``, a ``sort`` and ``totalCount``.

Walks the live schema of an app with every installed plugin. When the audit was written
(2026-12-04) only ``accounts`` met the rule; the same day every other list field became a
connection or a reviewed exemption (``EXEMPT``: computed views, enumerations defined in code,
lookups by a scanned value — each with its reason). A new list field that is neither fails
here. ``GAPS`` stays for a pinned gap, if one is ever needed: it may only shrink.
"""
from __future__ import annotations

from graphql import get_named_type, get_nullable_type, is_list_type, is_object_type

REQUIRED_ARGS = ("first", "after", "filter", "sort")

GAPS: set[str] = set()  # every gap is closed (2026-12-04); keep it that way

#: Reviewed exemptions: list fields that are not entities (computed views, code-defined
#: enumerations, lookups by a scanned code). Each says why it need not be a connection.
EXEMPT: dict[str, str] = {
    "ticketsCannedReplyVariables": "the fixed set of variables defined in the tickets "
                                   "plugin's code (canned.VARIABLES), not stored rows",
    "schedulingMap": "a computed summary: buildings and addresses with their ticket and job "
                     "counts, busiest first, bounded by its limit argument",
    "billingServiceTypes": "the service types plugins register in code (internet, voice, "
                           "...): a handful, no table rows",
    "billingSuspensionPreview": "a computed preview of what the nightly delinquency job "
                                "would do on a day, not stored rows",
    "webhooksEventTypes": "the domain events defined in the webhooks plugin's code (eight): "
                          "a fixed enumeration with example payloads",
    "scheduledActionTypes": "code-defined enumeration: the action types the enabled plugins "
                            "register at start-up (a handful), no table rows",
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
