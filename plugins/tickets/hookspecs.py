"""Hooks the tickets plugin publishes. Implement with ``@hookimpl(optionalhook=True)``."""
from __future__ import annotations

from backhaul.sdk import hookspec


@hookspec
def tickets_ticket_changed(app, ticket_id, account_id, change, status):
    """A ticket was opened (by staff or by an inbound mail) or its status changed. Called
    after commit (``backhaul.sdk.emit``).

    :param app: the Flask app.
    :param ticket_id: the ticket's id (read it with ``tickets.api.get_ticket``).
    :param account_id: its account's id, or ``None`` (a sender not matched to a contact).
    :param change: ``"opened"`` or ``"status_changed"``.
    :param status: the ticket's status now (``new``, ``open``, ``pending``, ``closed``...).
    """
