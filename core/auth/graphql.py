"""Auth's part of the GraphQL schema: users, roles, API tokens and the signed-in staff
member's own settings — the same domain calls, behind the same permissions, as the pages
(``views_admin.py``, ``views_profile.py``), so everything in the UI is a GraphQL field.

Field errors name fields the way the schema does (camelCase).
"""
from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from marshmallow import ValidationError
from sqlalchemy.orm import selectinload

from backhaul.sdk import GraphQLContribution
from backhaul.sdk.graphql import (
    FieldErrors,
    GraphQLUserError,
    MutationType,
    ObjectType,
    QueryType,
    apply_filters,
    load,
    mutation_payload,
    paginate,
    parse_id,
    sort_order,
)

from ..db import db, utcnow
from . import roles as rolelib
from . import sessions, staff, tokens, totp, users
from .identity import current_principal, known_permissions
from .models import ApiToken, Role, RolePermission, User, UserSetting

SDL = '''
"A staff user: someone who signs in to Backhaul (customers use the portal instead)."
type StaffUser {
  "Database id; use it in updateStaffUser and the other user mutations."
  id: ID!
  "Sign-in e-mail, stored lower-case; unique."
  email: String!
  "Display name shown in lists and on the audit trail."
  name: String!
  "False: deactivated, cannot sign in and its tokens do not work."
  active: Boolean!
  "The roles granting the user's permissions."
  roles: [StaffRole!]!
  "True when the user signs in with a TOTP authenticator code as a second factor."
  twoFactor: Boolean!
  "IANA zone; null: the ISP's."
  timeZone: String
}

"A named set of permissions given to staff users."
type StaffRole {
  "Database id; use it in roleIds and the role mutations."
  id: ID!
  "Unique name shown when assigning roles."
  name: String!
  "What the role is for (free text, may be empty)."
  description: String!
  "Shipped with Backhaul (Administrator): cannot be deleted; it holds every permission."
  builtin: Boolean!
  "The permission names granted, sorted (empty for Administrator, which holds all)."
  permissions: [String!]!
}

"An API token's details (never its secret), for token lists."
type ApiTokenInfo {
  "Database id; use it to revoke the token."
  id: ID!
  "The name its owner gave it (what it is used for)."
  name: String!
  "The first characters, to recognise it (never the secret)."
  prefix: String!
  "read, custom or full"
  scope: String!
  "The permissions a custom-scope token may use (empty for read and full)."
  permissions: [String!]!
  "active, revoked or expired"
  status: String!
  "When it stops working (null: never)."
  expiresAt: DateTime
  "The e-mail of the staff user it acts as; it never exceeds that user's permissions."
  owner: String!
}

"A staff user's details, to create or to replace on update."
input StaffUserInput {
  "Sign-in e-mail; unique (compared without case)."
  email: String!
  "Display name."
  name: String!
  "Required when creating; on update, empty keeps the password."
  password: String
  "The roles to hold (all of them replace the current ones); you may only give what you hold."
  roleIds: [ID!]
  "False deactivates the user (default true)."
  active: Boolean
  "The first sign-in must change the password (e.g. it was given on paper)."
  mustChangePassword: Boolean
}

"A role's details, to create or to replace on update."
input StaffRoleInput {
  "Unique name."
  name: String!
  "What the role is for."
  description: String
  "Permission names to grant (every one must be known and held by you)."
  permissions: [String!]!
}

"A new API token of the signed-in user."
input ApiTokenInput {
  "What it is for (shown in lists)."
  name: String!
  "read (default: queries only), custom (the permissions listed) or full (all the user's)."
  scope: String
  "For scope custom: the permission names it may use (at least one)."
  permissions: [String!]
  "When it stops working (null: never); with an offset."
  expiresAt: DateTime
  "CIDR networks it may be used from."
  networks: [String!]
}

"The answer of a staff user mutation."
type StaffUserPayload implements MutationPayload {
  "True when the change was made."
  ok: Boolean!
  "Why it was refused, field by field."
  errors: [FieldError!]!
  "The user as it is now (null when refused)."
  user: StaffUser
}
"The answer of a role mutation."
type StaffRolePayload implements MutationPayload {
  "True when the change was made."
  ok: Boolean!
  "Why it was refused, field by field."
  errors: [FieldError!]!
  "The role as it is now (null when refused or deleted)."
  role: StaffRole
}
"The answer of a token mutation."
type ApiTokenPayload implements MutationPayload {
  "True when the change was made."
  ok: Boolean!
  "Why it was refused, field by field."
  errors: [FieldError!]!
  "The token's details (null when refused)."
  apiToken: ApiTokenInfo
  "The token itself: shown only in this answer (it is stored hashed)."
  token: String
}

"One staff user with its cursor."
type StaffUserEdge implements Edge {
  "Opaque position; valid as after only with the same sort."
  cursor: String!
  "The user."
  node: StaffUser!
}
"A page of staff users."
type StaffUserConnection implements Connection {
  "The users of this page with their cursors."
  edges: [StaffUserEdge!]!
  "The users of this page."
  nodes: [StaffUser!]!
  "Where this page starts and ends."
  pageInfo: PageInfo!
  "How many users match the filter."
  totalCount: Int!
}
"One role with its cursor."
type StaffRoleEdge implements Edge {
  "Opaque position; valid as after only with the same sort."
  cursor: String!
  "The role."
  node: StaffRole!
}
"A page of roles."
type StaffRoleConnection implements Connection {
  "The roles of this page with their cursors."
  edges: [StaffRoleEdge!]!
  "The roles of this page."
  nodes: [StaffRole!]!
  "Where this page starts and ends."
  pageInfo: PageInfo!
  "How many roles match the filter."
  totalCount: Int!
}
"One API token with its cursor."
type ApiTokenInfoEdge implements Edge {
  "Opaque position; valid as after only with the same sort."
  cursor: String!
  "The token's details."
  node: ApiTokenInfo!
}
"A page of API tokens."
type ApiTokenInfoConnection implements Connection {
  "The tokens of this page with their cursors."
  edges: [ApiTokenInfoEdge!]!
  "The tokens of this page."
  nodes: [ApiTokenInfo!]!
  "Where this page starts and ends."
  pageInfo: PageInfo!
  "How many tokens match the filter."
  totalCount: Int!
}

"Which staff users to list; every given field must match."
input StaffUserFilter {
  "Contained in the name or e-mail, any case."
  search: String
  "True: active users only; false: deactivated ones."
  active: Boolean
  "Users holding this role."
  roleId: ID
  "True: users with a TOTP second factor; false: without."
  twoFactor: Boolean
}
"Which roles to list; every given field must match."
input StaffRoleFilter {
  "Contained in the name or description, any case."
  search: String
  "True: the shipped roles only; false: the ISP's own."
  builtin: Boolean
  "Roles granting this permission name (Administrator always matches)."
  permission: String
}
"Which API tokens to list; every given field must match."
input ApiTokenFilter {
  "Contained in the name or the prefix, any case."
  search: String
  "active, revoked or expired (anything else is refused)."
  status: String
  "read, custom or full"
  scope: String
  "Tokens of this staff user (myApiTokens: always the signed-in user's)."
  ownerId: ID
}

extend type Query {
  "Every staff user (a signed-in session or a token of a user manager)."
  staffUsers(filter: StaffUserFilter, first: Int, after: String,
             "name, -name, email, -email, createdAt, -createdAt"
             sort: String): StaffUserConnection! @requires(permission: "auth.users.manage")
  "Every role, the built-in Administrator included (created on first use)."
  staffRoles(filter: StaffRoleFilter, first: Int, after: String,
             "name, -name, createdAt, -createdAt"
             sort: String): StaffRoleConnection! @requires(permission: "auth.roles.manage")
  "Every staff user's API tokens, newest first by default."
  apiTokens(filter: ApiTokenFilter, first: Int, after: String,
            "-createdAt, createdAt, name, -name"
            sort: String): ApiTokenInfoConnection! @requires(permission: "auth.tokens.manage")
  "The signed-in user's own API tokens."
  myApiTokens(filter: ApiTokenFilter, first: Int, after: String,
              "-createdAt, createdAt, name, -name"
              sort: String): ApiTokenInfoConnection! @public
}

extend type Mutation {
  "A new staff user (sign-in session only, never a token); password is required."
  createStaffUser(input: StaffUserInput!): StaffUserPayload! @requires(permission: "auth.users.manage")
  "Setting a password needs currentPassword: the acting administrator's own."
  updateStaffUser(id: ID!, input: StaffUserInput!, currentPassword: String): StaffUserPayload!
    @requires(permission: "auth.users.manage")
  "Deactivate (signs them out, tokens stop) or reactivate; the last administrator stays."
  setStaffUserActive(id: ID!, active: Boolean!): StaffUserPayload!
    @requires(permission: "auth.users.manage")
  "Clear a lock-out after too many failed sign-ins."
  unlockStaffUser(id: ID!): StaffUserPayload! @requires(permission: "auth.users.manage")
  "End every session of the user (their tokens keep working: revoke those apart)."
  signOutStaffUser(id: ID!): StaffUserPayload! @requires(permission: "auth.users.manage")
  "Needs currentPassword: the acting administrator's own."
  resetStaffUserTwoFactor(id: ID!, currentPassword: String!): StaffUserPayload!
    @requires(permission: "auth.users.manage")
  "A new role; you may only grant permissions you hold."
  createStaffRole(input: StaffRoleInput!): StaffRolePayload! @requires(permission: "auth.roles.manage")
  "Replace a role's name, description and permissions."
  updateStaffRole(id: ID!, input: StaffRoleInput!): StaffRolePayload!
    @requires(permission: "auth.roles.manage")
  "Delete a role (not a built-in one); its users lose what it granted."
  deleteStaffRole(id: ID!): StaffRolePayload! @requires(permission: "auth.roles.manage")
  "Revoke anyone's token."
  revokeApiToken(id: ID!): ApiTokenPayload! @requires(permission: "auth.tokens.manage")
  "A token of the signed-in user (the profile page's form)."
  createMyApiToken(input: ApiTokenInput!): ApiTokenPayload! @public
  "Revoke one of the signed-in user's own tokens."
  revokeMyApiToken(id: ID!): ApiTokenPayload! @public
  "null or empty: the ISP's time zone."
  setMyTimeZone(timeZone: String): StaffUserPayload! @public
}
'''

query = QueryType()
mutation = MutationType()
user_type = ObjectType("StaffUser")
role_type = ObjectType("StaffRole")
token_type = ObjectType("ApiTokenInfo")

user_type.set_field("active", lambda u, _i: u.is_active)
user_type.set_field("twoFactor", lambda u, _i: bool(u.totp_enabled))


@user_type.field("timeZone")
async def resolve_time_zone(user, _info):
    """Batched: a page of users reads their settings in one statement."""
    row = await load(UserSetting, user.id) if user.id is not None else None
    return (row.time_zone or None) if row is not None else None


role_type.set_field("permissions", lambda r, _i: sorted(r.permission_names))
role_type.set_field("builtin", lambda r, _i: bool(r.builtin))
token_type.set_field("status", lambda t, _i: tokens.status(t))
token_type.set_field("expiresAt", lambda t, _i: t.expires_at)
token_type.set_field("owner", lambda t, _i: t.user.email)
token_type.set_field("permissions", lambda t, _i: list(t.permissions or []))


def _interactive() -> None:
    """Users, roles and tokens are managed from a signed-in session (the web page or its
    explorer), never with an API token: a token must not mint tokens or take over accounts."""
    if current_principal().token is not None:
        raise FieldErrors({None: ["API tokens cannot manage users, roles or tokens: sign in "
                                  "to the web interface (or its GraphQL explorer)."]})


def _step_up(password: str | None) -> None:
    from .reauth import ReauthFailed, confirm_current_password

    try:
        confirm_current_password(current_principal().user, password, "currentPassword")
    except ReauthFailed as exc:
        refusal = FieldErrors({"currentPassword": [str(exc)]})
        refusal.after_rollback = exc.record  # the failure is kept though the field's work is not
        raise refusal from None


def _me() -> User:
    user = current_principal().user
    if user is None:
        raise FieldErrors({None: ["API tokens belong to a staff user: sign in as one."]})
    return user


def _get(model, value, field: str = "id"):
    row = db.session.get(model, parse_id(value, field) if isinstance(value, str) else value)
    if row is None:
        raise FieldErrors({field: [f"no {model.__name__.lower()} {value}"]})
    return row


def _refusal(exc: Exception, default: str | None = None) -> FieldErrors:
    field = getattr(exc, "field", None) or default
    return FieldErrors({_camel(field) if field else None: [str(exc)]})


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.capitalize() for p in rest)


def _domain(work):
    try:
        return work()
    except (users.UserError, rolelib.RoleError, tokens.TokenError) as exc:
        raise _refusal(exc) from None
    except ValidationError as exc:
        flat = FieldErrors.from_marshmallow(exc).errors
        raise FieldErrors({(_camel(k) if k else k): v for k, v in flat.items()}) from None


# ------------------------------------------------------------------------------ queries
USER_SORTS = {"name": (User.name, User.email), "-name": (User.name.desc(), User.email.desc()),
              "email": User.email, "-email": User.email.desc(),
              "createdAt": User.created_at, "-createdAt": User.created_at.desc()}
ROLE_SORTS = {"name": Role.name, "-name": Role.name.desc(),
              "createdAt": Role.created_at, "-createdAt": Role.created_at.desc()}
TOKEN_SORTS = {"-createdAt": ApiToken.created_at.desc(), "createdAt": ApiToken.created_at,
               "name": ApiToken.name, "-name": ApiToken.name.desc()}
TOKEN_STATUSES = ("active", "revoked", "expired")


def _search(*columns):
    def where(stmt, text):
        text = text.strip()
        return stmt.where(sa.or_(*(c.icontains(text, autoescape=True) for c in columns))) \
            if text else stmt
    return where


def _has_role(stmt, value):
    role_id = parse_id(value, "roleId")
    return stmt.where(User.roles.any(Role.id == role_id))


def _has_permission(stmt, value):
    return stmt.where(sa.or_(Role.grants.any(RolePermission.permission == value.strip()),
                             Role.is_superuser.is_(True)))


def _token_status(stmt, value):
    now = utcnow()
    if value not in TOKEN_STATUSES:
        raise GraphQLUserError(f"Unknown token status '{value}'; use one of "
                               f"{', '.join(TOKEN_STATUSES)}.")
    live = ApiToken.revoked_at.is_(None)
    expired = sa.and_(ApiToken.expires_at.is_not(None), ApiToken.expires_at <= now)
    return stmt.where({"revoked": ApiToken.revoked_at.is_not(None),
                       "expired": sa.and_(live, expired),
                       "active": sa.and_(live, sa.not_(expired))}[value])


TOKEN_FILTERS = {"search": _search(ApiToken.name, ApiToken.prefix),
                 "status": _token_status, "scope": ApiToken.scope,
                 "ownerId": lambda stmt, v: stmt.where(ApiToken.user_id == parse_id(v, "ownerId"))}


@query.field("staffUsers")
def resolve_users(_obj, _info, filter=None, first=None, after=None, sort=None):  # noqa: A002
    order_by = sort_order(sort, USER_SORTS, "name")
    stmt = apply_filters(sa.select(User).options(selectinload(User.roles)), filter, {
        "search": _search(User.name, User.email), "active": User.is_active,
        "roleId": _has_role, "twoFactor": User.totp_enabled})
    return paginate(stmt, first, after, order_by=order_by)


@query.field("staffRoles")
def resolve_roles(_obj, _info, filter=None, first=None, after=None, sort=None):  # noqa: A002
    order_by = sort_order(sort, ROLE_SORTS, "name")
    rolelib.ensure_builtin_roles()
    stmt = apply_filters(sa.select(Role).options(selectinload(Role.grants)), filter, {
        "search": _search(Role.name, Role.description), "builtin": Role.builtin,
        "permission": _has_permission})
    return paginate(stmt, first, after, order_by=order_by)


@query.field("apiTokens")
def resolve_tokens(_obj, _info, filter=None, first=None, after=None, sort=None):  # noqa: A002
    order_by = sort_order(sort, TOKEN_SORTS, "-createdAt")
    return paginate(apply_filters(sa.select(ApiToken), filter, TOKEN_FILTERS), first, after,
                    order_by=order_by)


@query.field("myApiTokens")
def resolve_my_tokens(_obj, _info, filter=None, first=None, after=None, sort=None):  # noqa: A002
    order_by = sort_order(sort, TOKEN_SORTS, "-createdAt")
    user = current_principal().user
    stmt = sa.select(ApiToken).where(ApiToken.user_id == (user.id if user is not None else None))
    return paginate(apply_filters(stmt, filter, TOKEN_FILTERS), first, after, order_by=order_by)


# ------------------------------------------------------------------------------ users
def _user_data(input: dict) -> dict:  # noqa: A002
    return {"email": input["email"], "name": input["name"],
            "password": input.get("password") or None,
            "roles": [parse_id(r, "roleIds") for r in input.get("roleIds") or []],
            "is_active": input.get("active") is not False}


@mutation.field("createStaffUser")
@mutation_payload
def resolve_create_user(_obj, _info, input):  # noqa: A002
    _interactive()
    from .schemas import UserSchema
    from .views_admin import _apply_user

    user = _domain(lambda: _apply_user(None, UserSchema().load(_user_data(input))))
    if input.get("mustChangePassword"):
        staff.require_password_change(user)
    return {"user": user}


@mutation.field("updateStaffUser")
@mutation_payload
def resolve_update_user(_obj, _info, id, input, currentPassword=None):  # noqa: A002, N803
    _interactive()
    if input.get("password"):
        _step_up(currentPassword)
    from .schemas import UserSchema
    from .views_admin import _apply_user

    user = _get(User, id)
    _domain(lambda: _apply_user(user, UserSchema().load(_user_data(input))))
    if input.get("mustChangePassword") is not None:
        staff.require_password_change(user, bool(input["mustChangePassword"]))
    return {"user": user}


def _user_action(id, action):  # noqa: A002
    from .views_admin import _manageable

    user = _get(User, id)
    _domain(lambda: (_manageable(user), action(user)))
    return {"user": user}


@mutation.field("setStaffUserActive")
@mutation_payload
def resolve_set_active(_obj, _info, id, active):  # noqa: A002
    _interactive()
    def act(user):
        if not active:
            rolelib.check_keeps_an_administrator(user, False, user.roles)
        users.set_active(user, bool(active))
    return _user_action(id, act)


@mutation.field("unlockStaffUser")
@mutation_payload
def resolve_unlock(_obj, _info, id):  # noqa: A002
    _interactive()
    from .throttle import unlock

    return _user_action(id, unlock)


@mutation.field("signOutStaffUser")
@mutation_payload
def resolve_sign_out(_obj, _info, id):  # noqa: A002
    _interactive()
    return _user_action(id, lambda u: sessions.revoke_all(u, "signed out by admin"))


@mutation.field("resetStaffUserTwoFactor")
@mutation_payload
def resolve_reset_totp(_obj, _info, id, currentPassword):  # noqa: A002, N803
    _interactive()
    _step_up(currentPassword)
    return _user_action(id, totp.disable)


# ------------------------------------------------------------------------------ roles
def _role_data(input: dict) -> dict:  # noqa: A002
    from .schemas import RoleSchema

    return RoleSchema().load({"name": input["name"], "description": input.get("description")
                              or "", "permissions": list(input.get("permissions") or [])})


@mutation.field("createStaffRole")
@mutation_payload
def resolve_create_role(_obj, _info, input):  # noqa: A002
    _interactive()
    from .views_admin import apply_role

    return {"role": _domain(lambda: apply_role(None, _role_data(input)))}


@mutation.field("updateStaffRole")
@mutation_payload
def resolve_update_role(_obj, _info, id, input):  # noqa: A002
    _interactive()
    from .views_admin import apply_role

    role = _get(Role, id)
    return {"role": _domain(lambda: apply_role(role, _role_data(input)))}


@mutation.field("deleteStaffRole")
@mutation_payload
def resolve_delete_role(_obj, _info, id):  # noqa: A002
    _interactive()
    from .views_admin import _granter

    role = _get(Role, id)

    def work():
        held, is_super = _granter()
        rolelib.check_may_assign([role], held, is_super, known_permissions())
        rolelib.delete_role(role)
    _domain(work)
    return {"role": None}


# ------------------------------------------------------------------------------ tokens
@mutation.field("revokeApiToken")
@mutation_payload
def resolve_revoke(_obj, _info, id):  # noqa: A002
    _interactive()
    row = _get(ApiToken, id)
    tokens.revoke(row)
    return {"apiToken": row}


@mutation.field("createMyApiToken")
@mutation_payload
def resolve_create_my_token(_obj, _info, input):  # noqa: A002
    _interactive()
    user = _me()
    expires = input.get("expiresAt")
    if isinstance(expires, datetime) and expires.tzinfo is None:
        expires = expires.replace(tzinfo=UTC)
    plaintext, row = _domain(lambda: tokens.create(
        user, input["name"], input.get("scope") or "read", input.get("permissions") or (),
        known_permissions(), expires_at=expires, networks=input.get("networks") or None))
    return {"apiToken": row, "token": plaintext}


@mutation.field("revokeMyApiToken")
@mutation_payload
def resolve_revoke_my_token(_obj, _info, id):  # noqa: A002
    _interactive()
    row = _get(ApiToken, id)
    if row.user_id != _me().id:
        raise FieldErrors({"id": ["not one of your tokens"]})
    tokens.revoke(row)
    return {"apiToken": row}


@mutation.field("setMyTimeZone")
@mutation_payload
def resolve_set_time_zone(_obj, _info, timeZone=None):  # noqa: N803
    user = _me()
    _domain(lambda: staff.set_time_zone(user, timeZone))
    return {"user": user}


def contribution() -> GraphQLContribution:
    return GraphQLContribution(SDL, (query, mutation, user_type, role_type, token_type))


__all__ = ["contribution"]
