"""The hook the notifications plugin publishes for other plugins (pluggy ``add_hookspecs``)."""
from __future__ import annotations

from backhaul.sdk import hookspec


@hookspec
def notification_event_types():
    """Declare the events this plugin notifies customers about, with their variables.

    Called once per app, the first time the notifications plugin needs its catalogue (a
    template is edited, a message is sent). Keys are ``<plugin>.<event>`` and must be unique
    across plugins: a duplicate is ignored and logged with the second plugin's name.

    Variables every event has without declaring them: ``account.number``, ``account.name``,
    ``account.status``, ``contact.name``, ``contact.email``, ``company.name`` and
    ``unsubscribe_url`` (empty for essential messages).

    :returns: a list of ``backhaul.plugins.notifications.api.EventType``.
    """
