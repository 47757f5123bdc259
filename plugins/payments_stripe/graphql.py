"""GraphQL: ``stripeAccount`` (redacted) and ``stripeSaveAccount`` (field errors)."""
from __future__ import annotations

from pathlib import Path

from flask import url_for

from backhaul.sdk import GraphQLContribution
from backhaul.sdk.graphql import FieldErrors, MutationType, ObjectType, QueryType, mutation_payload
from backhaul.sdk.instances import InstanceInvalid

from . import account

SDL = (Path(__file__).parent / "schema.graphql").read_text()
NAMES = {"publishable_key": "publishableKey", "secret_key": "secretKey",
         "webhook_secret": "webhookSecret", "api_base": "apiBase"}
query, mutation, account_type = QueryType(), MutationType(), ObjectType("StripeAccount")


def _view(instance) -> dict | None:
    if instance is None:
        return None
    s = instance.settings
    return {"id": instance.id, "enabled": instance.enabled,
            "publishableKey": s.get("publishable_key", ""), "apiBase": s.get("api_base", ""),
            "hasSecretKey": instance.has_secret("secret_key"),
            "hasWebhookSecret": instance.has_secret("webhook_secret"),
            "webhookUrl": url_for("billing.gateway_webhook", key="stripe", _external=True)}


@query.field("stripeAccount")
def resolve_account(_obj, _info):
    return _view(account.current())


@mutation.field("stripeSaveAccount")
@mutation_payload
def resolve_save(_obj, _info, input):  # noqa: A002
    settings = {name: input.get(gql) for name, gql in NAMES.items() if input.get(gql)
                is not None}
    try:
        saved = account.save(settings, enabled=input.get("enabled", True) is not False)
    except InstanceInvalid as exc:
        errors = {}
        for key, value in account.field_errors(exc).items():
            field = key.removeprefix("settings.")
            errors[NAMES.get(field, field)] = value
        raise FieldErrors(errors) from None
    return {"account": _view(saved)}


def contribution() -> GraphQLContribution:
    return GraphQLContribution(SDL, (query, mutation, account_type))
