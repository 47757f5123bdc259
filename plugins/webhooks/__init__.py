"""Outbound webhooks for integrators: domain events as signed JSON POSTs.

Subscriptions are the notifications plugin's webhook endpoints (Notifications -> Channels ->
Webhook, or ``notificationsSaveChannel(channelKey: "webhook")``): a URL, a secret (sealed at
rest), and the event keys wanted (``"*"``, ``"invoice.*"``, ``"payment.received"``). This
plugin turns the domain events of the core and of the plugins into deliveries through
``notifications.api.publish_event``, so signing (HMAC-SHA256 over ``"<timestamp>.<body>"``),
retries with backoff and the delivery log are the webhook channel's own. Its page and the
``webhooksEventTypes`` query list the events and their payloads.
"""
from __future__ import annotations

from backhaul.sdk import GraphQLContribution, MenuItem, Permission, PluginMeta, hookimpl

from .events import money

META = PluginMeta(name="webhooks", depends_on=("notifications",),
                  optional_depends_on=("poller", "tickets"),
                  description="Domain events to integrators' webhook endpoints, signed")


def _publish(key: str, data: dict, account_id: int | None, dedupe_key: str | None) -> None:
    from backhaul.plugins.notifications.api import publish_event

    publish_event(key, data, account_id=account_id, dedupe_key=dedupe_key)


@hookimpl
def account_created(app, account_id):
    _publish("account.created", {}, account_id, f"account:{account_id}")


@hookimpl
def account_status_changed(app, account_id, old_status, new_status, reason):
    _publish("account.status_changed", {"old_status": old_status, "new_status": new_status,
                                        "reason": reason}, account_id, None)


@hookimpl
def service_changed(app, account_id, subscription_id, change):
    key = f"subscription:{subscription_id}:{change}" if change != "changed" else None
    _publish("service.changed", {"subscription_id": subscription_id, "change": change},
             account_id, key)


@hookimpl
def invoice_finalized(app, invoice_id, account_id):
    _publish("invoice.finalized", {"invoice_id": invoice_id}, account_id,
             f"invoice:{invoice_id}")


@hookimpl
def payment_received(app, payment_id, account_id, amount):
    _publish("payment.received", {"payment_id": payment_id, "amount": money(amount)},
             account_id, f"payment:{payment_id}")


@hookimpl(optionalhook=True)
def tickets_ticket_changed(app, ticket_id, account_id, change, status):
    key = f"ticket:{ticket_id}:opened" if change == "opened" else None
    _publish(f"ticket.{change}", {"ticket_id": ticket_id, "status": status}, account_id, key)


@hookimpl(optionalhook=True)
def device_state_changed(target, name, old_state, new_state, reason, at):
    _publish("device.state_changed", {"target": target, "name": name, "old_state": old_state,
                                      "new_state": new_state, "reason": reason,
                                      "at": at.isoformat()}, None,
             f"{target}:{new_state}:{at.isoformat()}")


@hookimpl
def permissions():
    return [Permission("webhooks.view", "See the webhook events and their subscribers")]


@hookimpl
def menu_items():
    return [MenuItem("Webhooks", "webhooks.index", "webhooks.view", section="Notifications",
                     order=50)]


@hookimpl
def register_blueprints(app):
    from .views import bp

    return [bp]


SDL = """
"A domain event an integrator's webhook endpoint can subscribe to."
type WebhooksEventType {
  "The key to subscribe to (or a pattern: * or invoice.*)."
  key: String!
  "What happened, in a sentence."
  description: String!
  "An example of the payload's data member."
  example: JSON!
}

"A webhook endpoint (a notifications webhook channel); never its secret."
type WebhooksEndpoint {
  "The notifications channel's id."
  id: ID!
  "The channel's name."
  name: String!
  "The address events are POSTed to."
  url: String!
  "The event keys or patterns it subscribes to (* or invoice.*); [*] when none were chosen."
  events: [String!]!
  "Whether events are sent to it."
  enabled: Boolean!
}

extend type Query {
  "The domain events sent to webhook endpoints, with example payloads. Subscribe with notificationsSaveChannel(channelKey: \\"webhook\\")."
  webhooksEventTypes: [WebhooksEventType!]! @requires(permission: "webhooks.view")
  "The webhook endpoints and the events each receives (their delivery log: notificationsMessages(filter: {medium: \\"webhook\\"}))."
  webhooksEndpoints(filter: WebhooksEndpointFilter, first: Int, after: String,
    "name, -name, url, -url (default name)"
    sort: String): WebhooksEndpointConnection! @requires(permission: "webhooks.view")
}

"One of a page of webhook endpoints, with its cursor."
type WebhooksEndpointEdge implements Edge {
  "Opaque; pass as after to get what follows this one (same sort only)."
  cursor: String!
  "The item itself."
  node: WebhooksEndpoint!
}

"A page of webhook endpoints (see the sort argument for the order)."
type WebhooksEndpointConnection implements Connection {
  "The page's items with their cursors."
  edges: [WebhooksEndpointEdge!]!
  "The page's items (edges without cursors)."
  nodes: [WebhooksEndpoint!]!
  "Whether more pages follow, and the cursors to ask for them."
  pageInfo: PageInfo!
  "How many match the filter, over all pages (counted only when asked for)."
  totalCount: Int!
}

"Which webhook endpoints to list."
input WebhooksEndpointFilter {
  "Text in the name or the URL (case-insensitive)."
  search: String
  "true: only endpoints events are sent to; false: only disabled ones."
  enabled: Boolean
  "Only endpoints subscribed to this event key (directly, through * or a prefix.* pattern)."
  event: String
}
"""


ENDPOINT_SORTS = {"name": lambda e: (e["name"].casefold(), e["id"]),
                  "-name": lambda e: (e["name"].casefold(), e["id"]),
                  "url": lambda e: (e["url"], e["id"]), "-url": lambda e: (e["url"], e["id"])}


def subscribes(patterns, event: str) -> bool:
    """Whether an endpoint's ``events`` (``*``, exact keys, ``prefix.*``) take ``event``."""
    return any(p == "*" or p == event or (p.endswith(".*") and event.startswith(p[:-1]))
               for p in patterns)


def _filtered(endpoints: list[dict], f: dict) -> list[dict]:
    search = (f.get("search") or "").strip().casefold()
    return [e for e in endpoints
            if (not search or search in e["name"].casefold() or search in e["url"].casefold())
            and (f.get("enabled") is None or e["enabled"] is f["enabled"])
            and (f.get("event") is None or subscribes(e["events"], f["event"]))]


@hookimpl
def graphql_schema():
    from backhaul.sdk.graphql import QueryType, paginate_list

    from .events import EVENTS

    query = QueryType()
    query.set_field("webhooksEventTypes", lambda *_: [
        {"key": e.key, "description": e.description, "example": e.example} for e in EVENTS])

    @query.field("webhooksEndpoints")
    def resolve_endpoints(_obj, _info, filter=None, first=None, after=None,  # noqa: A002
                          sort=None):
        from backhaul.plugins.notifications.api import webhook_endpoints

        # The notifications plugin's published list (channels, a handful): paged in memory.
        return paginate_list(_filtered(webhook_endpoints(), filter or {}), first, after, sort,
                             ENDPOINT_SORTS, "name")

    return GraphQLContribution(sdl=SDL, bindables=(query,))
