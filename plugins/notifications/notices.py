"""Manual and maintenance notices: a message to a selection of accounts, previewed first.

A selection combines criteria with AND (each criterion is a list matched with OR): current
tenants of buildings, current tenants of listed addresses (one per line, ``12 Main St`` or
``12 Main St #4``), account statuses, account groups. Staff see the number of accounts and
recipients, a sample and who is left out (opted out, no address) before sending; sending
expands the notice into messages in a job, idempotently (one per account, medium, contact).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from backhaul.sdk import db, enqueue, utcnow
from backhaul.sdk.accounts import (
    Account,
    AccountGroup,
    AccountStatus,
    Address,
    AddressOccupancy,
    address_key,
)

from . import authoring, routing
from .api import CATEGORIES
from .channels import TEMPLATED_MEDIA
from .delivery import QUEUE
from .messages import Content, Source, channel_for, queue_for_account
from .models import Message, Notice

NOTICE_EVENT = "notifications.notice"
SAMPLE_SIZE = 50


NO_NUL = validate.Regexp(r"^[^\x00]*$", error="must not contain a NUL character")


class NoticeSchema(Schema):
    title = fields.Str(required=True, validate=(validate.Length(min=1, max=200), NO_NUL))
    category = fields.Str(load_default="outages", validate=validate.OneOf(
        [c for c in CATEGORIES if c != "security"]))
    essential = fields.Bool(load_default=False)
    media = fields.List(fields.Str(validate=validate.OneOf(tuple(TEMPLATED_MEDIA))),
                        required=True, validate=validate.Length(min=1))
    subject = fields.Str(load_default="", validate=NO_NUL)
    body_text = fields.Str(load_default="", validate=NO_NUL)
    body_html = fields.Str(load_default="", validate=NO_NUL)
    sms_text = fields.Str(load_default="", validate=NO_NUL)
    buildings = fields.List(fields.Int(), load_default=list)
    statuses = fields.List(fields.Str(), load_default=list)
    groups = fields.List(fields.Int(), load_default=list)
    addresses = fields.Str(load_default="", validate=NO_NUL)

    @validates_schema
    def _check(self, data, **kwargs):
        if not any(data.get(k) for k in ("buildings", "statuses", "groups", "addresses")):
            raise ValidationError("choose at least one building, address, status or group",
                                  "buildings")
        errors: dict[str, list[str]] = {}
        for medium in data.get("media", []):
            body = {"subject": data.get("subject"), "body_text": data.get("body_text"),
                    "body_html": data.get("body_html")} if medium == "email" else \
                {"body_text": data.get("sms_text")}
            try:
                authoring.check(None, medium, body)
            except authoring.TemplateInvalid as exc:
                for name, messages in exc.errors.items():
                    key = "sms_text" if medium == "sms" and name == "body_text" else name
                    errors.setdefault(key, []).extend(messages)
        if errors:
            raise ValidationError(errors)


def selection_of(data: dict) -> dict:
    return {k: data.get(k) or ([] if k != "addresses" else "")
            for k in ("buildings", "statuses", "groups", "addresses")}


def _address_lines(text: str) -> list[str]:
    return [" ".join(line.split()) for line in (text or "").splitlines() if line.strip()]


def match_addresses(text: str) -> tuple[list[int], list[str]]:
    """Address ids for the lines of ``text``, and the lines that matched nothing.

    Matching uses the account kernel's address normalisation ("12 N. Main St #4b" finds
    "12 North Main Street", unit "Apt 4B"); a line without a unit matches every unit.
    """
    ids, unmatched = [], []
    for line in _address_lines(text):
        street, _, unit = line.partition("#")
        street = street.split(",")[0]
        key = address_key(street, unit, "", "", "", "")
        street_part, unit_part = key.split("|")[:2]
        if not street_part:
            unmatched.append(line)
            continue
        pattern = f"{street_part}|{unit_part}|%" if unit_part else f"{street_part}|%"
        found = list(db.session.scalars(sa.select(Address.id).where(Address.key.like(pattern))))
        if found:
            ids.extend(found)
        else:
            unmatched.append(line)
    return ids, unmatched


def accounts_stmt(selection: dict) -> tuple[sa.Select, list[str]]:
    """The accounts a selection reaches (ids), and address lines that matched nothing."""
    stmt = sa.select(Account.id)
    unmatched: list[str] = []
    current = sa.select(AddressOccupancy.account_id).where(AddressOccupancy.ended_at.is_(None))
    if selection.get("buildings"):
        in_buildings = sa.select(Address.id).where(
            Address.building_id.in_(selection["buildings"]))
        stmt = stmt.where(Account.id.in_(current.where(
            AddressOccupancy.address_id.in_(in_buildings))))
    if selection.get("addresses"):
        ids, unmatched = match_addresses(selection["addresses"])
        stmt = stmt.where(Account.id.in_(current.where(AddressOccupancy.address_id.in_(ids))))
    if selection.get("statuses"):
        stmt = stmt.where(Account.status_id.in_(sa.select(AccountStatus.id).where(
            AccountStatus.key.in_(selection["statuses"]))))
    if selection.get("groups"):
        stmt = stmt.where(Account.groups.any(AccountGroup.id.in_(selection["groups"])))
    return stmt.order_by(Account.id), unmatched


@dataclass
class RecipientPreview:
    accounts: int = 0
    recipients: dict[str, int] = field(default_factory=dict)  # by medium
    excluded: dict[str, int] = field(default_factory=dict)  # by medium
    sample: list[tuple] = field(default_factory=list)  # (account, contact, medium, address)
    unmatched_addresses: list[str] = field(default_factory=list)
    missing_channels: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.recipients.values())


def preview_recipients(selection: dict, media: list[str], category: str,
                       essential: bool) -> RecipientPreview:
    stmt, unmatched = accounts_stmt(selection)
    result = RecipientPreview(unmatched_addresses=unmatched,
                              missing_channels=[m for m in media if channel_for(m) is None])
    ids = list(db.session.scalars(stmt))
    result.accounts = len(ids)
    for start in range(0, len(ids), 500):
        accounts = db.session.scalars(sa.select(Account).where(
            Account.id.in_(ids[start:start + 500])).order_by(Account.id))
        for account in accounts:
            for medium in media:
                chosen, excluded = routing.route(account, category, essential, medium)
                result.recipients[medium] = result.recipients.get(medium, 0) + len(chosen)
                result.excluded[medium] = result.excluded.get(medium, 0) + len(excluded)
                for contact in chosen:
                    if len(result.sample) < SAMPLE_SIZE:
                        result.sample.append((account, contact, medium,
                                              routing.address_of(contact, medium)))
    return result


def create_notice(data: dict, actor: str = "") -> Notice:
    """Validate and save a draft notice (caller commits); raises ``ValidationError``."""
    loaded = NoticeSchema().load(data)
    notice = Notice(title=loaded["title"], category=loaded["category"],
                    essential=loaded["essential"], media=loaded["media"],
                    subject=loaded["subject"], body_text=loaded["body_text"],
                    body_html=loaded["body_html"] or None, sms_text=loaded["sms_text"],
                    selection=selection_of(loaded), status="draft", created_by=actor)
    db.session.add(notice)
    db.session.flush()
    return notice


def send_notice(notice: Notice) -> bool:
    """Queue the expansion job (caller commits). ``False`` if it was already sent."""
    if notice.status != "draft":
        return False
    notice.status = "sending"
    db.session.flush()
    enqueue(expand_notice, notice.id, key=f"notifications.notice:{notice.id}", queue=QUEUE)
    return True


def notice_source(notice: Notice) -> Source:
    content = {}
    for medium in notice.media:
        if medium == "email":
            content["email"] = Content(notice.subject, notice.body_text, notice.body_html)
        elif medium == "sms":
            content["sms"] = Content("", notice.sms_text, None)
    return Source(event_key=NOTICE_EVENT, category=notice.category, essential=notice.essential,
                  key=f"notice:{notice.id}", notice_id=notice.id, content=content)


def expand_notice(notice_id: int) -> int:
    """The job: one message per recipient (idempotent: a re-run adds only what is missing)."""
    notice = db.session.get(Notice, notice_id)
    if notice is None or notice.status == "sent":
        return 0
    source = notice_source(notice)
    stmt, _ = accounts_stmt(notice.selection)
    created = 0
    for account_id in list(db.session.scalars(stmt)):
        account = db.session.get(Account, account_id)
        created += len(queue_for_account(source, account, {}))
    notice.status, notice.sent_at = "sent", utcnow()
    db.session.flush()
    notice.recipient_count = _count(notice.id)
    db.session.commit()
    return created


def _count(notice_id: int) -> int:
    return db.session.scalar(sa.select(sa.func.count(Message.id))
                             .where(Message.notice_id == notice_id)) or 0
