"""The notifications plugin's public API: declare event types, then ``notify(...)``.

Other plugins import this module (and :mod:`.hookspecs`) only: everything else in the
package is internal. Declare the dependency in your ``META`` —
``depends_on=("notifications",)``, or ``optional_depends_on=("notifications",)`` when your
plugin works without it (``notify`` then does nothing).

The notifications plugin publishes the hook ``notification_event_types()``; a plugin that
has something to tell customers (billing: invoice issued, payment failed...) implements it and
returns :class:`EventType` objects with their variable catalogue, so that staff can write a
template per event and channel and see which variables exist::

    from backhaul.sdk import hookimpl
    from backhaul.plugins.notifications.api import EventType, Variable, notify

    @hookimpl
    def notification_event_types():
        return [EventType("billing.invoice_issued", "Invoice issued", category="billing",
                          variables=(Variable("invoice.number", "Invoice number", "INV-0042"),))]

    # later, inside the transaction that issued the invoice:
    notify("billing.invoice_issued", account.id, {"invoice": {"number": inv.number, ...}},
           attachments=[("INV-0042.pdf", pdf_bytes, "application/pdf")],
           dedupe_key=f"invoice:{inv.id}")

``notify`` is a no-op (it logs and returns ``[]``) when the notifications plugin is not
enabled, so callers never need to check.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from flask import current_app

from backhaul.sdk.accounts import PREFERENCE_CATEGORIES

log = logging.getLogger("backhaul.notifications")

#: The categories of an event type: a contact's preference categories
#: (``Contact.preferences[category][channel]``, defined once by the account kernel) plus
#: ``security``, whose messages are always essential and go to the primary contact.
CATEGORIES: tuple[str, ...] = (*PREFERENCE_CATEGORIES, "security")

#: key under ``app.extensions`` where the enabled notifications plugin registers itself
EXTENSION_KEY = "backhaul.notifications"


@dataclass(frozen=True)
class Variable:
    """One entry of an event type's variable catalogue.

    :param name: dotted path as used in templates (``"invoice.total"``).
    :param description: what it is, shown to staff next to the template editor.
    :param example: the value used when a template is validated and previewed; give a
        realistic one (a ``Money``, a ``date``, a string...).
    """

    name: str
    description: str = ""
    example: Any = "example"


@dataclass(frozen=True)
class EventType:
    """Something a plugin may notify customers about.

    :param key: ``"<plugin>.<event>"``, unique.
    :param label: shown to staff ("Invoice due soon").
    :param category: one of :data:`CATEGORIES`; decides who receives it (``billing`` goes to
        financial contacts only) and which preference a contact can opt out of.
    :param essential: essential messages (security, suspension) ignore opt-outs and carry no
        unsubscribe link.
    :param variables: the catalogue: every variable a caller of ``notify`` will pass.
    :param sample: optional ``sample(account_id) -> dict`` giving realistic values for a
        preview on a real account (the latest invoice...); missing keys fall back to the
        catalogue's examples.
    :param defaults: the templates that ship with it, per medium, until staff save theirs.
    """

    key: str
    label: str
    category: str = "service"
    essential: bool = False
    variables: tuple[Variable, ...] = ()
    description: str = ""
    sample: Callable[[int], dict] | None = field(default=None, compare=False)
    #: templates that ship with the event, per medium: ``{"email": (subject, text, html)}``;
    #: used until staff save their own (so e.g. invoices are e-mailed out of the box)
    defaults: dict[str, tuple[str, str, str | None]] = field(default_factory=dict,
                                                              compare=False)

    def __post_init__(self):
        if self.category not in CATEGORIES:
            raise ValueError(f"event type '{self.key}': category '{self.category}' is not one "
                             f"of {', '.join(CATEGORIES)}")
        if "." not in self.key:
            raise ValueError(f"event type key '{self.key}' must be '<plugin>.<event>'")
        if self.category == "security" and not self.essential:
            raise ValueError(f"event type '{self.key}': security messages must be essential")


Attachment = tuple[str, bytes, str]  # (filename, content, MIME type)


def notify(event_key: str, account_id: int, context: dict,
           attachments: Iterable[Attachment] = (), *, dedupe_key: str | None = None) -> list[int]:
    """Queue the messages for ``event_key`` to the contacts of ``account_id``.

    Call it inside your own transaction: the messages and their delivery jobs are written in
    it (nothing is sent if you roll back). Templates are rendered now, with ``context`` plus
    the account's and contact's variables. Give ``dedupe_key`` (e.g. ``"invoice:42"``) when
    your code may run twice: a second call with the same key queues nothing new.

    :returns: the ids of the messages created (empty when nothing is configured).
    """
    service = current_app.extensions.get(EXTENSION_KEY)
    if service is None:
        log.info("notify(%s) ignored: the notifications plugin is not enabled", event_key)
        return []
    return service.notify(event_key, account_id, context, attachments=tuple(attachments),
                          dedupe_key=dedupe_key)


def send_email(to: str, subject: str, body_text: str, *, account_id: int | None = None,
               contact_id: int | None = None, from_address: str | None = None,
               from_name: str = "", headers: dict | None = None,
               attachments: Iterable[Attachment] = (), source: str = "direct",
               category: str = "service", dedupe_key: str | None = None) -> int | None:
    """Queue one e-mail that a person already wrote (a ticket reply) to one address.

    No template is rendered: ``subject`` and ``body_text`` are sent as they are. It goes
    through the default e-mail channel, with retries and the delivery log like every other
    message, and is on the account's timeline when ``account_id`` is given. ``from_address``
    (and ``from_name``) replace the channel's ``From:`` header (the envelope sender stays the
    channel's own address, so SPF keeps passing); ``headers`` adds e.g. ``In-Reply-To`` and
    ``References``; give ``headers["Message-ID"]`` to choose the Message-ID.

    Call it inside your transaction (nothing is sent if you roll back). ``source`` names the
    sender in the log (``"tickets.reply"``); ``dedupe_key`` makes a second call a no-op.

    :returns: the message id, or ``None`` when no e-mail channel is enabled (or the plugin
        is not): the caller tells its user that nothing was sent.
    """
    service = current_app.extensions.get(EXTENSION_KEY)
    if service is None:
        log.info("send_email(%s) ignored: the notifications plugin is not enabled", source)
        return None
    return service.send_email(to, subject, body_text, account_id=account_id,
                              contact_id=contact_id, from_address=from_address,
                              from_name=from_name, headers=dict(headers or {}),
                              attachments=tuple(attachments), source=source,
                              category=category, dedupe_key=dedupe_key)


def publish_event(event_key: str, data: dict, *, account_id: int | None = None,
                  dedupe_key: str | None = None) -> list[int]:
    """Queue a signed JSON delivery of a domain event to every enabled webhook endpoint
    subscribed to ``event_key`` (an endpoint's ``events``: ``"*"``, exact keys, or
    ``"invoice.*"``). No template and no contact: integrators' systems receive it.

    Each delivery is a message like any other: signed per attempt (``X-Backhaul-Signature:
    t=<unix time>,v1=<HMAC-SHA256 of "t.body">`` with the endpoint's secret), retried with
    backoff, in the endpoint's delivery log. The payload is ``{"id", "event", "created_at",
    "account": {"id", "number"} | null, "data": data}``; ``id`` is the same on every retry
    (receivers dedupe on it). Call it inside your transaction; ``dedupe_key`` makes a second
    call with the same key queue nothing.

    :returns: the ids of the messages queued (``[]`` without subscribers or without the
        plugin).
    """
    service = current_app.extensions.get(EXTENSION_KEY)
    if service is None:
        log.info("publish_event(%s) ignored: the notifications plugin is not enabled",
                 event_key)
        return []
    return service.publish_event(event_key, dict(data), account_id=account_id,
                                 dedupe_key=dedupe_key)


def webhook_endpoints() -> list[dict]:
    """The configured webhook endpoints: ``[{"id", "name", "url", "events", "enabled"}]``
    (never the secret), for pages that explain what an integrator receives."""
    service = current_app.extensions.get(EXTENSION_KEY)
    return [] if service is None else service.webhook_endpoints()


class TemplateInvalid(ValueError):
    """A staff-written template that cannot be used: ``field``, ``line`` and ``message`` say
    where and why (unknown variable, syntax, over a bound)."""

    def __init__(self, field: str, line: int | None, message: str):
        self.field, self.line, self.message = field, line, message
        super().__init__(f"{field}, line {line}: {message}" if line else f"{field}: {message}")


def check_template(source: str, variables: Iterable[Variable], field: str = "body_text") -> str:
    """Check a staff-written text template the way message templates are checked on save:
    it parses, reads only the ``variables`` given (in every branch), and renders their
    examples within the bounds. Returns that example rendering; raises
    :class:`TemplateInvalid`. Works without the plugin being enabled (plain functions)."""
    from . import templates

    try:
        return templates.validate(source, variables, field)
    except templates.TemplateProblem as exc:
        raise TemplateInvalid(exc.field, exc.line, exc.message) from None


def render_template(source: str, context: dict, field: str = "body_text") -> str:
    """Render a staff-written text template in the notifications plugin's sandbox: unknown
    variables are errors, loops, time, arithmetic and output are bounded (see
    ``README``: staff templates are bounded). Raises :class:`TemplateInvalid`."""
    from . import templates

    try:
        return templates.render(source, context, field)
    except templates.TemplateProblem as exc:
        raise TemplateInvalid(exc.field, exc.line, exc.message) from None


__all__ = ["CATEGORIES", "EXTENSION_KEY", "Attachment", "EventType", "PREFERENCE_CATEGORIES",
           "TemplateInvalid", "Variable", "check_template", "notify", "publish_event",
           "render_template", "send_email", "webhook_endpoints"]
