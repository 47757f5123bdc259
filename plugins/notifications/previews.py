"""E-mail HTML shown to staff, served from its own URL under a sandbox policy.

Why not ``<iframe srcdoc>``: a srcdoc document inherits the page's Content-Security-Policy,
which forbids inline styles, and e-mail HTML is styled almost only with ``style="..."``. So
the staff pages point a sandboxed ``<iframe src>`` at a URL of ours whose response carries
:data:`SANDBOX_POLICY` instead of the app-wide policy: inline styles apply, nothing else
loads (no script, no remote image or font, no form, no plugin), the document gets an opaque
origin (``sandbox``), and only our own pages may frame it.

A sent or queued message is previewed by its id. A template being edited has not been saved,
so its rendered HTML is kept here for :data:`PREVIEW_TTL` under a random key, visible only to
the actor who rendered it (it holds a real account's data); expired rows are never served and
are purged when the next preview is stored and by a periodic job.
"""
from __future__ import annotations

import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa

from backhaul.sdk import db, utcnow

from .models import HtmlPreview

PREVIEW_TTL = timedelta(minutes=30)

#: The response policy of every preview (it replaces the app-wide policy for that response).
SANDBOX_POLICY = ("sandbox; default-src 'none'; style-src 'unsafe-inline'; "
                  "img-src data: cid:; frame-ancestors 'self'")

#: Headers of every preview response, beside its Content-Type.
PREVIEW_HEADERS = {
    "Content-Security-Policy": SANDBOX_POLICY,
    # our own pages frame it; the app-wide default is DENY (set only when absent)
    "X-Frame-Options": "SAMEORIGIN",
    "Cache-Control": "no-store",
}


def store(body_html: str, owner: str, now: datetime | None = None) -> str:
    """Keep ``body_html`` for ``owner`` (an actor, e.g. ``"user:12"``); returns its key.

    The caller commits. Expired previews are deleted on the way.
    """
    now = now or utcnow()
    purge_expired(now)
    key = secrets.token_urlsafe(32)
    db.session.add(HtmlPreview(key=key, owner=owner, body_html=body_html,
                               expires_at=now + PREVIEW_TTL))
    db.session.flush()
    return key


def load(key: str, owner: str, now: datetime | None = None) -> str | None:
    """The HTML stored under ``key`` for ``owner``; ``None`` if unknown, expired or not theirs.

    The three cases are one answer on purpose: a caller cannot learn that a key exists.
    """
    row = db.session.get(HtmlPreview, key) if len(key) <= 64 else None
    if row is None or row.owner != owner or row.expires_at <= (now or utcnow()):
        return None
    return row.body_html


def purge_expired(now: datetime | None = None) -> int:
    """Delete expired previews (caller commits); returns how many."""
    result = db.session.execute(sa.delete(HtmlPreview).where(
        HtmlPreview.expires_at <= (now or utcnow())))
    return result.rowcount or 0


def purge_job() -> int:
    """Periodic: delete expired previews (they hold account data). Idempotent."""
    count = purge_expired()
    db.session.commit()
    return count
