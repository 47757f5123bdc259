"""The account timeline: notes, calls, status changes and scheduled events, plus whatever
plugins add through the ``account_timeline`` hook (invoices, tickets, jobs), merged by time.

A plugin that raises is left out (and logged by the plugin facade); the rest still shows.
"""
from __future__ import annotations

from datetime import UTC

import sqlalchemy as sa
from flask import current_app

from backhaul.core.db import db
from backhaul.sdk.contributions import TimelineEntry

from .models import Account, Call, Note, ScheduledEvent, StatusChange


def _status_names() -> dict[str, str]:
    from .statuses import all_statuses

    return {s.key: s.name for s in all_statuses()}


def _own_entries(account: Account, limit: int) -> list[TimelineEntry]:
    entries: list[TimelineEntry] = []
    for note in db.session.scalars(sa.select(Note).where(Note.account_id == account.id)
                                   .order_by(Note.created_at.desc()).limit(limit)):
        entries.append(TimelineEntry(at=note.created_at, kind="note",
                                     title=f"Note ({note.category.replace('_', ' ')})",
                                     body=note.body_html, meta={"id": note.id,
                                                                "pinned": note.pinned,
                                                                "author": note.author,
                                                                "html": True}))
    for call in db.session.scalars(sa.select(Call).where(Call.account_id == account.id)
                                   .order_by(Call.at.desc()).limit(limit)):
        who = f" with {call.contact.name}" if call.contact else ""
        minutes = f" ({call.duration_seconds // 60} min)" if call.duration_seconds else ""
        entries.append(TimelineEntry(at=call.at, kind="call",
                                     title=f"{call.direction.capitalize()} call{who}{minutes}",
                                     body=call.summary, meta={"id": call.id,
                                                              "staff": call.staff}))
    names = _status_names()
    for change in db.session.scalars(sa.select(StatusChange)
                                     .where(StatusChange.account_id == account.id)
                                     .order_by(StatusChange.at.desc()).limit(limit)):
        new = names.get(change.new_status, change.new_status)
        title = (f"Status: {names.get(change.old_status, change.old_status)} → {new}"
                 if change.old_status else f"Created as {new}")
        entries.append(TimelineEntry(at=change.at, kind="status", title=title,
                                     body=f"reason: {change.reason}",
                                     meta={"reason": change.reason, "actor": change.actor}))
    for event in db.session.scalars(sa.select(ScheduledEvent)
                                    .where(ScheduledEvent.account_id == account.id)
                                    .order_by(ScheduledEvent.due_at.desc()).limit(limit)):
        at = event.finished_at or event.due_at
        entries.append(TimelineEntry(at=at, kind="scheduled_event",
                                     title=f"{_label(event.action)} ({event.status})",
                                     body=event.last_error or "",
                                     meta={"id": event.id, "status": event.status,
                                           "due_at": event.due_at.isoformat()}))
    return entries


def _label(action: str) -> str:
    types = current_app.extensions["backhaul.contributions"].scheduled_action_types
    return types[action].label if action in types else action


def build_timeline(account: Account, limit: int = 50) -> list[TimelineEntry]:
    """The newest ``limit`` entries, newest first, from the kernel and every plugin."""
    from flask import has_request_context

    from backhaul.core.auth.identity import current_principal

    # in a request: what the signed-in user or token may see; outside one (a job, the CLI)
    # the system itself reads
    principal = current_principal() if has_request_context() else None
    entries = _own_entries(account, limit)
    plugins = current_app.extensions["backhaul.plugins"]
    for plugin, item in plugins.collect("account_timeline", account=account, limit=limit):
        if isinstance(item, TimelineEntry) and item.at is not None:
            if not item.permission or (principal is not None and
                                       not principal.has_permission(item.permission)):
                continue  # undeclared or not held: not shown (issue 11, finding 2)
            at = item.at if item.at.tzinfo else item.at.replace(tzinfo=UTC)
            entries.append(TimelineEntry(at=at, kind=item.kind, title=item.title,
                                         body=item.body, url=item.url,
                                         meta={"plugin": plugin, **item.meta},
                                         permission=item.permission))
    entries.sort(key=lambda e: e.at, reverse=True)
    return entries[:limit]


