"""GraphQL: the delivery log, event types, templates (save with field errors), preview."""
from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from marshmallow import ValidationError
from sqlalchemy.orm import joinedload, selectinload

from backhaul.sdk import GraphQLContribution, current_actor, db
from backhaul.sdk.accounts import get_account
from backhaul.sdk.graphql import (
    FieldErrors,
    MutationType,
    ObjectType,
    QueryType,
    apply_filters,
    mutation_payload,
    paginate,
    paginate_list,
    parse_id,
    set_aliases,
    sort_order,
)
from backhaul.sdk.instances import get_instance

from . import authoring, catalogue, channel_store, delivery
from .models import ChannelConfig, Message, MessageTemplate

SDL = (Path(__file__).parent / "schema.graphql").read_text()
FIELD_NAMES = {"subject": "subject", "body_text": "bodyText", "body_html": "bodyHtml",
               "medium": "medium"}

query = QueryType()
mutation = MutationType()
message_type = ObjectType("NotificationsMessage")
log_type = ObjectType("NotificationsDeliveryLogEntry")
channel_type = ObjectType("NotificationsChannel")
template_type = ObjectType("NotificationsTemplate")
event_type = ObjectType("NotificationsEventType")
variable_type = ObjectType("NotificationsVariable")
preview_type = ObjectType("NotificationsPreview")


def _aliases(obj: ObjectType, names: str) -> None:
    set_aliases(obj, **dict(pair.split("=", 1) for pair in names.split()))


_aliases(message_type, "eventKey=event_key accountId=account_id maxAttempts=max_attempts "
                       "nextAttemptAt=next_attempt_at sentAt=sent_at providerId=provider_id "
                       "lastError=last_error createdAt=created_at")
_aliases(log_type, "durationMs=duration_ms")
_aliases(channel_type, "channelKey=channel_key isDefault=is_default "
                       "rateLimitPerMinute=rate_limit_per_minute")
_aliases(template_type, "eventKey=event_key bodyText=body_text bodyHtml=body_html "
                        "updatedAt=updated_at")
_aliases(preview_type, "bodyText=body_text bodyHtml=body_html")


@variable_type.field("example")
def resolve_example(variable, _info) -> str:
    return str(variable.example)


@preview_type.field("recipients")
def resolve_recipients(preview, _info) -> list[str]:
    return [c.email or c.phone or "" for c in preview.recipients]


def _filters(stmt, values, fields):
    """``apply_filters`` after refusing text with a NUL character (the database cannot
    compare it: it would be a server error, not an empty page)."""
    for name, value in (values or {}).items():
        if isinstance(value, str) and "\x00" in value:
            raise FieldErrors({name: ["must not contain a NUL character"]})
    return apply_filters(stmt, values, fields)


MESSAGE_SORTS = {"-createdAt": Message.created_at.desc(), "createdAt": Message.created_at}


@query.field("notificationsMessages")
def resolve_messages(_obj, _info, filter=None, first=None, after=None, sort=None):  # noqa: A002
    order_by = sort_order(sort, MESSAGE_SORTS, "-createdAt")
    stmt = _filters(sa.select(Message).options(
        selectinload(Message.log), joinedload(Message.channel)), filter, {
        "accountId": lambda s, v: s.where(Message.account_id == parse_id(v, "accountId")),
        "channelId": lambda s, v: s.where(Message.channel_id == parse_id(v, "channelId")),
        "status": Message.status, "medium": Message.medium, "eventKey": Message.event_key,
        "category": Message.category, "recipient": (Message.recipient, "icontains"),
        "createdFrom": (Message.created_at, "gte"), "createdTo": (Message.created_at, "lt")})
    return paginate(stmt, first, after, order_by=order_by)


@query.field("notificationsMessage")
def resolve_message(_obj, _info, id):
    return db.session.get(Message, parse_id(id))


def _event_type(e) -> dict:
    return {"key": e.key, "label": e.label, "category": e.category, "essential": e.essential,
            "description": e.description, "variables": catalogue.variables_of(e)}


EVENT_TYPE_SORTS = {"key": lambda t: t["key"], "-key": lambda t: t["key"],
                    "label": lambda t: t["label"].casefold(),
                    "-label": lambda t: t["label"].casefold()}


@query.field("notificationsEventTypes")
def resolve_event_types(_obj, _info, filter=None, first=None, after=None,  # noqa: A002
                        sort=None):
    f = dict(filter or {})
    rows = [_event_type(e) for e in catalogue.event_types().values()]
    if f.get("category") is not None:
        rows = [t for t in rows if t["category"] == f["category"]]
    if f.get("essential") is not None:
        rows = [t for t in rows if t["essential"] is f["essential"]]
    text = " ".join((f.get("search") or "").split()).casefold()
    if text:
        rows = [t for t in rows
                if any(text in t[k].casefold() for k in ("key", "label", "description"))]
    return paginate_list(rows, first, after, sort, EVENT_TYPE_SORTS, "key")


TEMPLATE_SORTS = {
    "eventKey": (MessageTemplate.event_key, MessageTemplate.medium),
    "-eventKey": (MessageTemplate.event_key.desc(), MessageTemplate.medium.desc()),
    "updatedAt": MessageTemplate.updated_at, "-updatedAt": MessageTemplate.updated_at.desc()}


@query.field("notificationsTemplates")
def resolve_templates(_obj, _info, filter=None, first=None, after=None,  # noqa: A002
                      sort=None):
    order_by = sort_order(sort, TEMPLATE_SORTS, "eventKey")
    stmt = _filters(sa.select(MessageTemplate), filter, {
        "eventKey": MessageTemplate.event_key, "medium": MessageTemplate.medium,
        "enabled": lambda s, v: s.where(MessageTemplate.enabled.is_(bool(v)))})
    return paginate(stmt, first, after, order_by=order_by)


CHANNEL_SORTS = {"createdAt": ChannelConfig.created_at,
                 "-createdAt": ChannelConfig.created_at.desc(), "name": ChannelConfig.name, "-name": ChannelConfig.name.desc()}


@query.field("notificationsChannels")
def resolve_channels(_obj, _info, filter=None, first=None, after=None,  # noqa: A002
                     sort=None):
    order_by = sort_order(sort, CHANNEL_SORTS, "createdAt")
    stmt = _filters(sa.select(ChannelConfig), filter, {
        "medium": ChannelConfig.medium, "channelKey": ChannelConfig.channel_key,
        "enabled": lambda s, v: s.where(ChannelConfig.enabled.is_(bool(v)))})
    return paginate(stmt, first, after, order_by=order_by)


def _content(data: dict) -> dict:
    return {"subject": data.get("subject") or "", "body_text": data.get("bodyText") or "",
            "body_html": data.get("bodyHtml") or ""}


@query.field("notificationsPreview")
def resolve_preview(_obj, _info, eventKey, medium, accountId, input):  # noqa: N803
    from backhaul.sdk.graphql import GraphQLUserError

    try:
        event = catalogue.get(eventKey)
    except LookupError as exc:
        raise GraphQLUserError(str(exc)) from None
    from backhaul.sdk import may

    if not may("accounts.account.view"):  # the preview shows the account's name and contacts
        raise GraphQLUserError("Previewing for an account needs accounts.account.view.")
    account = get_account(parse_id(accountId, "accountId"))
    if account is None:
        raise GraphQLUserError(f"There is no account {accountId}.")
    content = _content(input)
    try:
        authoring.check(event, medium, content)
    except authoring.TemplateInvalid as exc:
        return authoring.Preview(error=str(exc))
    return authoring.preview(event, medium, content, account)


@mutation.field("notificationsSaveTemplate")
@mutation_payload
def resolve_save_template(_obj, _info, eventKey, medium, input):  # noqa: N803
    try:
        catalogue.get(eventKey)
    except LookupError as exc:
        raise FieldErrors({"eventKey": [str(exc)]}) from None
    try:
        row = authoring.save_template(eventKey, medium, _content(input),
                                      actor=str(current_actor()),
                                      enabled=input.get("enabled", True) is not False)
    except authoring.TemplateInvalid as exc:
        raise FieldErrors({FIELD_NAMES.get(k, k): v for k, v in exc.errors.items()}) from None
    return {"template": row}


@channel_type.field("settings")
def resolve_channel_settings(channel, _info):
    instance = get_instance(channel.instance_id)
    return instance.redacted() if instance is not None else {}


@mutation.field("notificationsSaveChannel")
@mutation_payload
def resolve_save_channel(_obj, _info, channelKey, input, id=None):  # noqa: N803, A002
    row = None
    if id is not None:
        row = db.session.get(ChannelConfig, parse_id(id))
        if row is None or row.channel_key != channelKey:
            raise FieldErrors({"id": [f"There is no {channelKey} channel {id}."]})
    settings = input.get("settings") or {}
    if not isinstance(settings, dict):
        raise FieldErrors({"settings": ["an object of the channel type's settings"]})
    data = {"name": input["name"], "enabled": input.get("enabled", True) is not False,
            "is_default": bool(input.get("isDefault")),
            "rate_limit_per_minute": input.get("rateLimitPerMinute") or 0,
            "settings": dict(settings)}
    try:
        saved = channel_store.save_channel(channelKey, data, row)
    except channel_store.ChannelInvalid as exc:
        errors = FieldErrors.from_marshmallow(ValidationError(exc.errors)).errors
        raise FieldErrors({CHANNEL_FIELDS.get(k, k): v for k, v in errors.items()}) from None
    return {"channel": saved}


CHANNEL_FIELDS = {"is_default": "isDefault", "rate_limit_per_minute": "rateLimitPerMinute",
                  "channel_key": "channelKey", "extension_key": "channelKey"}


@mutation.field("notificationsRetryMessage")
@mutation_payload
def resolve_retry(_obj, _info, id):
    message = db.session.get(Message, parse_id(id))
    if message is None:
        raise FieldErrors({"id": [f"There is no message {id}."]})
    if not delivery.retry_now(message):
        raise FieldErrors({"id": [f"A {message.status} message cannot be retried."]})
    return {"message": message}


@mutation.field("notificationsCancelMessage")
@mutation_payload
def resolve_cancel(_obj, _info, id):  # noqa: A002
    message = db.session.get(Message, parse_id(id))
    if message is None:
        raise FieldErrors({"id": [f"There is no message {id}."]})
    if not delivery.cancel(message):
        raise FieldErrors({"id": [f"A {message.status} message cannot be cancelled."]})
    return {"message": message}


@mutation.field("notificationsTestChannel")
@mutation_payload
def resolve_test_channel(_obj, _info, id, to=None):  # noqa: A002
    row = db.session.get(ChannelConfig, parse_id(id))
    if row is None:
        raise FieldErrors({"id": [f"There is no channel {id}."]})
    to = (to or "").strip()
    if row.medium in ("email", "sms") and not to:
        raise FieldErrors({"to": ["Enter where to send the test message."]})
    result = channel_store.send_test(row, to)
    detail = result.message + (f"; id {result.provider_id}" if result.provider_id else "")
    return {"delivered": bool(result.ok), "detail": detail}


def _notice_data(input: dict) -> dict:  # noqa: A002
    return {"title": input.get("title", ""), "category": input.get("category") or "outages",
            "essential": bool(input.get("essential")), "media": list(input.get("media") or []),
            "subject": input.get("subject") or "", "body_text": input.get("bodyText") or "",
            "body_html": input.get("bodyHtml") or "", "sms_text": input.get("smsText") or "",
            "buildings": list(input.get("buildingIds") or []),
            "statuses": list(input.get("statuses") or []),
            "groups": list(input.get("groups") or []), "addresses": input.get("addresses") or ""}


@mutation.field("notificationsDraftNotice")
@mutation_payload
def resolve_draft_notice(_obj, _info, input):  # noqa: A002
    from . import notices

    return {"notice": notices.create_notice(_notice_data(input), actor=str(current_actor()))}


@mutation.field("notificationsSendNotice")
@mutation_payload
def resolve_send_notice(_obj, _info, id):  # noqa: A002
    from . import notices
    from .models import Notice

    row = db.session.get(Notice, parse_id(id))
    if row is None:
        raise FieldErrors({"id": [f"There is no notice {id}."]})
    if not notices.send_notice(row):
        raise FieldErrors({"id": ["This notice was sent already."]})
    return {"notice": row}


#: a refused test (no such channel, no address) has no detail: "" rather than a null
test_payload_type = ObjectType("NotificationsTestPayload")
test_payload_type.set_field("detail", lambda p, _i: p.get("detail") or "")
notice_type = ObjectType("NotificationsNotice")
notice_type.set_field("recipientCount", lambda n, _i: n.recipient_count or 0)


def contribution() -> GraphQLContribution:
    return GraphQLContribution(SDL, (query, mutation, message_type, log_type, channel_type,
                                     template_type, event_type, variable_type, preview_type,
                                     notice_type, test_payload_type))
