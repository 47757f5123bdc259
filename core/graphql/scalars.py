"""Core scalars (DateTime, Date, JSON) and the Money object type, with their bindables.

DateTime is always timezone-aware: it is served in UTC (ISO 8601) and an input without an
offset is refused rather than guessed. Money is integer minor units plus a currency, never a
float; ``formatted`` is for display only.
"""
from __future__ import annotations

from datetime import UTC, date, datetime

from ariadne import ObjectType, ScalarType
from graphql import GraphQLError, value_from_ast_untyped

SCALARS_SDL = '''
"An instant in ISO 8601 with an offset, served in UTC, e.g. 2026-01-31T12:00:00+00:00."
scalar DateTime
"A calendar date, ISO 8601 (2026-01-31)."
scalar Date
"Any JSON value."
scalar JSON

"An amount of money: integer minor units (cents) and an ISO 4217 currency."
type Money {
  amount: Int!
  currency: String!
  "For display only, e.g. 12.34 USD."
  formatted: String!
}
'''

datetime_scalar = ScalarType("DateTime")
date_scalar = ScalarType("Date")
json_scalar = ScalarType("JSON")
money_type = ObjectType("Money")


@datetime_scalar.serializer
def serialize_datetime(value: datetime) -> str:
    if value.tzinfo is None:
        raise GraphQLError("internal: a naive datetime cannot be served as DateTime")
    return value.astimezone(UTC).isoformat()


@datetime_scalar.value_parser
def parse_datetime(value) -> datetime:
    if not isinstance(value, str):
        raise GraphQLError("DateTime must be an ISO 8601 string such as 2026-01-31T12:00:00Z.")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise GraphQLError(f"'{value}' is not an ISO 8601 DateTime "
                           "(e.g. 2026-01-31T12:00:00Z).") from None
    if parsed.tzinfo is None:
        raise GraphQLError(f"'{value}' has no UTC offset: add Z or +hh:mm.")
    return parsed.astimezone(UTC)


@date_scalar.serializer
def serialize_date(value: date) -> str:
    return value.isoformat()


@date_scalar.value_parser
def parse_date(value) -> date:
    if not isinstance(value, str):
        raise GraphQLError("Date must be an ISO 8601 string such as 2026-01-31.")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise GraphQLError(f"'{value}' is not an ISO 8601 Date (e.g. 2026-01-31).") from None


@json_scalar.serializer
def serialize_json(value):
    return value


@json_scalar.value_parser
def parse_json(value):
    return value


@json_scalar.literal_parser
def parse_json_literal(node, variables=None):
    return value_from_ast_untyped(node, variables)


@money_type.field("formatted")
def resolve_formatted(money, _info) -> str:
    return money.format()


BINDABLES = (datetime_scalar, date_scalar, json_scalar, money_type)
