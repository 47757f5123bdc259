"""What staff do with templates: save (validated, with the failing line) and preview.

Used by the staff pages and by GraphQL alike. A template is checked field by field against
its event's variable catalogue (:func:`templates.validate`); every problem is reported, each
with its field and line, and nothing is saved until all are fixed. A preview renders the
template for a real account: its own data, its real recipients (after routing), and the
event's sample values (the event type's ``sample(account_id)`` if it has one, else the
catalogue's examples).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa

from backhaul.sdk import db

from . import catalogue, routing, templates
from .api import EventType
from .channels import TEMPLATED_MEDIA
from .messages import Content, Source, common_context, render_content
from .models import MessageTemplate


class TemplateInvalid(ValueError):
    """One or more fields do not validate: ``errors`` is ``{field: ["line 3: ..."]}``."""

    def __init__(self, problems: list[templates.TemplateProblem]):
        self.problems = problems
        self.errors: dict[str, list[str]] = {}
        for p in problems:
            text = f"line {p.line}: {p.message}" if p.line else p.message
            self.errors.setdefault(p.field, []).append(text)
        super().__init__("; ".join(str(p) for p in problems))


def fields_for(medium: str) -> tuple[tuple[str, bool], ...]:
    """``(field, is_html)`` pairs a template of ``medium`` has."""
    if medium == "email":
        return (("subject", False), ("body_text", False), ("body_html", True))
    return (("body_text", False),)


def check(event: EventType | None, medium: str, content: dict) -> None:
    """Validate every field of a template (or notice) body; raises :class:`TemplateInvalid`."""
    if medium not in TEMPLATED_MEDIA:
        raise TemplateInvalid([templates.TemplateProblem(
            "medium", None, f"'{medium}' takes no template (use {', '.join(TEMPLATED_MEDIA)})")])
    variables = catalogue.variables_of(event)
    problems = []
    for name, html in fields_for(medium):
        source = content.get(name) or ""
        if "\x00" in source:
            problems.append(templates.TemplateProblem(name, None, "must not contain a NUL "
                                                                  "character"))
            continue
        if not source.strip():
            if name in ("subject", "body_text"):
                problems.append(templates.TemplateProblem(name, None, "must not be empty"))
            continue
        try:
            templates.validate(source, variables, name, html=html)
        except templates.TemplateProblem as exc:
            problems.append(exc)
    if problems:
        raise TemplateInvalid(problems)


def save_template(event_key: str, medium: str, content: dict, actor: str = "",
                  enabled: bool = True) -> MessageTemplate:
    """Create or replace the template for ``event_key`` and ``medium`` (caller commits)."""
    event = catalogue.get(event_key)
    check(event, medium, content)
    row = get_template(event_key, medium) or MessageTemplate(event_key=event_key, medium=medium)
    row.subject = (content.get("subject") or "") if medium == "email" else ""
    row.body_text = content["body_text"]
    row.body_html = (content.get("body_html") or None) if medium == "email" else None
    row.enabled, row.updated_by = enabled, actor
    db.session.add(row)
    db.session.flush()
    return row


def get_template(event_key: str, medium: str) -> MessageTemplate | None:
    return db.session.scalar(sa.select(MessageTemplate).where(
        MessageTemplate.event_key == event_key, MessageTemplate.medium == medium))


@dataclass
class Preview:
    subject: str = ""
    body_text: str = ""
    body_html: str | None = None
    recipients: list = field(default_factory=list)  # contacts
    excluded: list = field(default_factory=list)  # routing.Exclusion
    error: str | None = None


def sample_context(event: EventType | None, account_id: int) -> dict:
    context = templates.example_context(event.variables if event else ())
    if event is not None and event.sample is not None:
        context = templates.merge(context, event.sample(account_id) or {})
    return context


def preview(event: EventType | None, medium: str, content: dict, account,
            category: str | None = None, essential: bool | None = None,
            context: dict | None = None) -> Preview:
    """Render ``content`` as ``account``'s first recipient would get it."""
    category = category or (event.category if event else "service")
    if essential is None:
        essential = bool(event and event.essential)
    recipients, excluded = routing.route(account, category, essential, medium)
    contact = recipients[0] if recipients else (account.primary_contact or None)
    source = Source(event_key=event.key if event else "notifications.notice",
                    category=category, essential=essential, key="preview")
    ctx = templates.merge(context if context is not None else sample_context(event, account.id),
                          common_context(account, contact, source, medium))
    result = Preview(recipients=recipients, excluded=excluded)
    try:
        rendered = render_content(Content(content.get("subject") or "",
                                          content.get("body_text") or "",
                                          content.get("body_html") or None), ctx, medium)
    except templates.TemplateProblem as exc:
        result.error = str(exc)
        return result
    result.subject, result.body_text, result.body_html = (
        rendered.subject, rendered.body_text, rendered.body_html)
    return result
