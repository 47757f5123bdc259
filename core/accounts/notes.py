"""Account notes: Markdown written by staff, stored with its sanitised HTML, pinnable.

The HTML is rendered once when the note is saved (Markdown -> HTML -> nh3 allow-list), so
pages never render untrusted Markdown on the fly and a ``<script>`` in a note is inert.
Pinned notes (gate codes, dogs, where the CPE is) sit at the top of the account dashboard.
"""
from __future__ import annotations

import nh3
import sqlalchemy as sa
from markdown_it import MarkdownIt

from backhaul.core.actor import current_actor
from backhaul.core.db import db, utcnow

from .models import Account, Note
from .schemas import NoteSchema

ALLOWED_TAGS = {"p", "br", "strong", "em", "b", "i", "code", "pre", "blockquote", "ul", "ol",
                "li", "a", "h3", "h4", "h5", "h6", "hr", "table", "thead", "tbody", "tr", "th",
                "td", "del"}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}


#: CommonMark with tables and strikethrough, raw HTML off. markdown-it-py's parser is linear
#: on hostile input: a 20,000-character note of ``[`` took 36.5 s (and then failed) with
#: Python-Markdown; it takes a fraction of a second here (issue 11, finding 4).
_MARKDOWN = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])


def render_markdown(body: str) -> str:
    """Markdown to HTML that is safe to show: an allow-list of tags, no scripts or styles."""
    html = _MARKDOWN.render(body or "")
    return nh3.clean(html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES,
                     url_schemes={"http", "https", "mailto", "tel"},
                     link_rel="noopener noreferrer nofollow")


def add_note(account: Account, data: dict) -> Note:
    loaded = NoteSchema().load(data)
    note = Note(account_id=account.id, category=loaded["category"], body=loaded["body"],
                body_html=render_markdown(loaded["body"]), pinned=loaded["pinned"],
                pinned_at=utcnow() if loaded["pinned"] else None, author=str(current_actor()))
    db.session.add(note)
    db.session.flush()
    return note


def update_note(note: Note, data: dict) -> Note:
    loaded = NoteSchema(partial=True).load(data)
    if "body" in loaded:
        note.body, note.body_html = loaded["body"], render_markdown(loaded["body"])
    if "category" in loaded:
        note.category = loaded["category"]
    if "pinned" in loaded:
        set_pinned(note, loaded["pinned"])
    db.session.flush()
    return note


def set_pinned(note: Note, pinned: bool = True) -> Note:
    if note.pinned != pinned:
        note.pinned, note.pinned_at = pinned, utcnow() if pinned else None
        db.session.flush()
    return note


def delete_note(note: Note) -> None:
    db.session.delete(note)
    db.session.flush()


def pinned_notes(account: Account) -> list[Note]:
    return list(db.session.scalars(sa.select(Note).where(Note.account_id == account.id,
                                                         Note.pinned.is_(True))
                                   .order_by(Note.pinned_at.desc(), Note.id.desc())))


def notes_for(account: Account, category: str | None = None) -> list[Note]:
    stmt = sa.select(Note).where(Note.account_id == account.id)
    if category:
        stmt = stmt.where(Note.category == category)
    return list(db.session.scalars(stmt.order_by(Note.created_at.desc(), Note.id.desc())))
