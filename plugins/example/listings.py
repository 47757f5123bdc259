"""What the example plugin adds to core pages: search results, timeline entries, a panel.

Search and timeline hooks run per request for every plugin: keep them to one indexed query.
"""
from __future__ import annotations

from flask import url_for
from markupsafe import escape

from backhaul.sdk import SearchResult, TimelineEntry, user_may

from . import greetings


def search(query: str, user, limit: int) -> list[SearchResult]:
    if not user_may(user, "example.greetings.view"):
        return []  # only what this user may see
    return [SearchResult(title=g.message, url=url_for("example.index"), kind="Greeting",
                         subtitle=f"to {g.name}", score=0.5)
            for g in greetings.find(query, limit)]


def timeline(account, limit: int) -> list[TimelineEntry]:
    return [TimelineEntry(at=g.created_at, kind="greeting", title=g.message,
                          body="delivered" if g.delivered else "not delivered yet",
                          permission="example.greetings.view")
            for g in greetings.for_account(account.id, limit)]


def render_panel(account) -> str:
    """The account panel's HTML (trusted output: escape what comes from data)."""
    recent = greetings.for_account(account.id, 3)
    if not recent:
        return "<p>No greetings for this account.</p>"
    items = "".join(f"<li>{escape(g.message)}</li>" for g in recent)
    return f"<ul>{items}</ul>"
