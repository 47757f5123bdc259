"""The portal's published API, for plugins that add panels to the customer portal.

A plugin (usage, tickets...) declares ``optional_depends_on=("portal",)`` (or
``depends_on``) and implements the portal's ``portal_panels`` hook (see ``hookspecs.py``),
returning :class:`PortalPanel` objects. It is handed a :class:`PortalViewer` — who is looking
— never an ORM object, and must show only what belongs to ``viewer.account_id``.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PortalViewer:
    """The signed-in customer: a contact with portal access on one account."""

    contact_id: int
    account_id: int
    name: str
    email: str


@dataclass(frozen=True)
class PortalPanel:
    """A panel on the portal's home page.

    :param key: ``"<plugin>.<panel>"``, unique.
    :param title: the panel's heading ("Your data usage").
    :param html: the panel's body, already escaped (render it with ``render_template``;
        no inline ``<script>`` or ``style=`` attributes: the page's Content-Security-Policy
        forbids them).
    :param order: panels are shown by ascending order (billing's own panels are 10-30).
    """

    key: str
    title: str
    html: str
    order: int = 100


__all__ = ["PortalPanel", "PortalViewer"]
