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

"""
A 64-bit integer (GraphQL's Int is 32-bit: 21,474,836.47 in cents). Served as a JSON number
while it is exact in IEEE doubles (|n| <= 2^53), as a decimal string beyond.
"""
scalar Long

"An amount of money: integer minor units (cents) and an ISO 4217 currency."
type Money {
  "Minor units (cents), 64-bit: a balance of any size is readable."
  amount: Long!
  "ISO 4217 code, e.g. USD."
  currency: String!
  "For display only, e.g. 12.34 USD."
  formatted: String!
}
'''

datetime_scalar = ScalarType("DateTime")
date_scalar = ScalarType("Date")
json_scalar = ScalarType("JSON")
long_scalar = ScalarType("Long")
money_type = ObjectType("Money")
_EXACT = 2 ** 53
_LONG = 2 ** 63


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


@long_scalar.serializer
def serialize_long(value) -> int | str:
    number = int(value)
    if not -_LONG <= number < _LONG:
        raise GraphQLError("internal: the number does not fit 64 bits")
    return number if -_EXACT <= number <= _EXACT else str(number)


@long_scalar.value_parser
def parse_long(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise GraphQLError("Long must be an integer or a string of digits.")
    try:
        number = int(value)
    except ValueError:
        raise GraphQLError(f"'{value}' is not an integer.") from None
    if not -_LONG <= number < _LONG:
        raise GraphQLError("Long must fit 64 bits.")
    return number


@long_scalar.literal_parser
def parse_long_literal(node, variables=None):
    return parse_long(value_from_ast_untyped(node, variables))


@money_type.field("formatted")
def resolve_formatted(money, _info) -> str:
    return money.format()


BINDABLES = (datetime_scalar, date_scalar, json_scalar, long_scalar, money_type)
