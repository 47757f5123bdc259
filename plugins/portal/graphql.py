"""GraphQL for the portal's staff side, behind the same permissions as its pages:
``portalBranding`` / ``portalUpdateBranding`` (``portal.settings.manage``) and
``portalContacts`` / ``portalSendPasswordLink`` (``portal.access.manage``)."""
from __future__ import annotations

import base64
import binascii

import sqlalchemy as sa

from backhaul.sdk import GraphQLContribution, current_actor
from backhaul.sdk.accounts import Contact
from backhaul.sdk.graphql import (
    FieldErrors,
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

from . import branding
from .models import Login
from .views_staff import send_link_for

SDL = '''
"The customer portal's branding: each ISP's portal looks like its own."
type PortalBranding {
  "The ISP's name as the portal shows it."
  name: String!
  "A short line under the name (empty: none)."
  tagline: String!
  "Main colour, #rrggbb."
  primaryColour: String!
  "Accent colour, #rrggbb."
  accentColour: String!
  "E-mail address customers are told to write to for help (empty: none)."
  supportEmail: String!
  "Phone number customers are told to call for help (empty: none)."
  supportPhone: String!
  "Web address of the ISP's help pages (empty: none)."
  supportUrl: String!
  "Whether a logo image is stored (the image itself is served by the portal, not here)."
  hasLogo: Boolean!
  "Customers may not turn auto-pay off."
  autopayLocked: Boolean!
}

"The customer portal's branding, replacing the stored one (the logo is kept unless changed)."
input PortalBrandingInput {
  "The ISP's name as the portal shows it, 1 to 100 characters."
  name: String!
  "A short line under the name, at most 200 characters."
  tagline: String = ""
  "#rrggbb"
  primaryColour: String!
  "#rrggbb"
  accentColour: String!
  "Support e-mail address shown to customers, at most 254 characters (empty: none)."
  supportEmail: String = ""
  "Support phone number shown to customers, at most 30 characters (empty: none)."
  supportPhone: String = ""
  "Web address of the ISP's help pages, starting with https:// or http://, at most 300 characters (empty: none)."
  supportUrl: String = ""
  "Customers may not turn auto-pay off."
  autopayLocked: Boolean = false
  "A PNG, JPEG, GIF or WebP image, base64 (at most 256 KB); omit to keep the current logo."
  logoBase64: String
  "Remove the current logo."
  removeLogo: Boolean = false
}

"The result of saving the portal's branding."
type PortalBrandingPayload implements MutationPayload {
  "Whether the branding was saved."
  ok: Boolean!
  "Why not, per input field (empty when ok)."
  errors: [FieldError!]!
  "The branding as saved; null when not ok."
  branding: PortalBranding
}

"A contact with portal access."
type PortalContact {
  "The contact's id."
  id: ID!
  "The contact's name."
  name: String!
  "The contact's e-mail address, where password links are sent; null if none."
  email: String
  "A password has been set (through an e-mailed link)."
  hasPassword: Boolean!
  "When the contact last signed in to the portal (UTC); null if never."
  lastLoginAt: DateTime
}

"One of a page of portal contacts, with its cursor."
type PortalContactEdge implements Edge {
  "Opaque; pass as after to get what follows this one (same sort only)."
  cursor: String!
  "The item itself."
  node: PortalContact!
}

"A page of contacts with portal access (see the sort argument for the order)."
type PortalContactConnection implements Connection {
  "The page's items with their cursors."
  edges: [PortalContactEdge!]!
  "The page's items (edges without cursors)."
  nodes: [PortalContact!]!
  "Whether more pages follow, and the cursors to ask for them."
  pageInfo: PageInfo!
  "How many match the filter, over all pages (counted only when asked for)."
  totalCount: Int!
}

"Which portal contacts to list."
input PortalContactFilter {
  "Only this account's contacts."
  accountId: ID
  "Text in the name or the e-mail address (case-insensitive)."
  search: String
  "true: only contacts who set a password; false: only those who have not yet."
  hasPassword: Boolean
  "Only contacts who signed in to the portal at or after this instant."
  signedInSince: DateTime
}

"The result of sending a portal password link."
type PortalLinkPayload implements MutationPayload {
  "Whether a new link was made (the contact needs portal access and an e-mail address)."
  ok: Boolean!
  "Why not, per input field (empty when ok)."
  errors: [FieldError!]!
  "Whether the e-mail was queued (false: no e-mail channel is enabled)."
  emailed: Boolean!
}

extend type Query {
  "The customer portal's branding (the defaults until it is saved)."
  portalBranding: PortalBranding! @requires(permission: "portal.settings.manage")
  "Contacts with portal access (every account's, or one account's with filter.accountId)."
  portalContacts(filter: PortalContactFilter, first: Int, after: String,
    "name, -name, createdAt, -createdAt (default createdAt: the order access was given in)"
    sort: String): PortalContactConnection! @requires(permission: "portal.access.manage")
}

extend type Mutation {
  "Save the customer portal's branding and, optionally, a new logo or none."
  portalUpdateBranding(input: PortalBrandingInput!): PortalBrandingPayload!
    @requires(permission: "portal.settings.manage")
  "E-mail the contact a link to set (or reset) their portal password; earlier links stop working."
  portalSendPasswordLink(contactId: ID!): PortalLinkPayload!
    @requires(permission: "portal.access.manage")
}
'''

query = QueryType()
mutation = MutationType()
contact_type = ObjectType("PortalContact")


def _brand_out(brand: branding.Brand) -> dict:
    return {"name": brand.name, "tagline": brand.tagline,
            "primaryColour": brand.primary_colour, "accentColour": brand.accent_colour,
            "supportEmail": brand.support_email, "supportPhone": brand.support_phone,
            "supportUrl": brand.support_url, "hasLogo": brand.has_logo,
            "autopayLocked": brand.autopay_locked}


@query.field("portalBranding")
def resolve_branding(_obj, _info):
    return _brand_out(branding.current())


CONTACT_SORTS = {"name": (Contact.name, Contact.id), "-name": (Contact.name.desc(), Contact.id),
                 "createdAt": (Contact.created_at, Contact.id),
                 "-createdAt": (Contact.created_at.desc(), Contact.id.desc())}
_has_password = sa.select(Login.contact_id).where(Login.password_hash.is_not(None))


@query.field("portalContacts")
def resolve_contacts(_obj, _info, filter=None, first=None, after=None, sort=None):  # noqa: A002
    order_by = sort_order(sort, CONTACT_SORTS, "createdAt")
    stmt = apply_filters(sa.select(Contact).where(Contact.portal_access.is_(True)), filter, {
        "accountId": lambda st, v: st.where(Contact.account_id == parse_id(v, "accountId")),
        "search": lambda st, v: st.where(sa.or_(Contact.name.icontains(v.strip(), autoescape=True),
                                                Contact.email.icontains(v.strip(),
                                                                        autoescape=True))),
        "hasPassword": lambda st, v: st.where(Contact.id.in_(_has_password) if v
                                              else Contact.id.not_in(_has_password)),
        "signedInSince": lambda st, v: st.where(Contact.id.in_(
            sa.select(Login.contact_id).where(Login.last_login_at >= v))),
    })
    return paginate(stmt, first, after, order_by=order_by)


# A page of contacts loads their logins in one statement (the batched loader).
@contact_type.field("hasPassword")
async def resolve_has_password(contact, _info):
    login = await load(Login, contact.id)
    return bool(login and login.password_hash)


@contact_type.field("lastLoginAt")
async def resolve_last_login(contact, _info):
    login = await load(Login, contact.id)
    return login.last_login_at if login else None


@mutation.field("portalUpdateBranding")
@mutation_payload
def resolve_update_branding(_obj, _info, input):  # noqa: A002
    names = {"primaryColour": "primary_colour", "accentColour": "accent_colour",
             "supportEmail": "support_email", "supportPhone": "support_phone",
             "supportUrl": "support_url", "autopayLocked": "autopay_locked"}
    data = {names.get(k, k): v for k, v in input.items()
            if k not in ("logoBase64", "removeLogo")}
    logo_bytes = None
    if input.get("logoBase64"):
        if len(input["logoBase64"]) > branding.MAX_LOGO_BYTES * 4 // 3 + 8:
            raise FieldErrors({"logo": [f"The logo is over {branding.MAX_LOGO_BYTES // 1024} "
                                        "KB: use a smaller image."]})
        try:
            logo_bytes = base64.b64decode(input["logoBase64"], validate=True)
        except (binascii.Error, ValueError):
            raise FieldErrors({"logoBase64": ["Not valid base64."]}) from None
    branding.save(data, logo_bytes=logo_bytes, remove_logo=bool(input.get("removeLogo")),
                  actor=str(current_actor()))
    return {"branding": _brand_out(branding.current())}


@mutation.field("portalSendPasswordLink")
@mutation_payload
def resolve_send_link(_obj, _info, contactId):  # noqa: N803
    return {"emailed": send_link_for(parse_id(contactId, "contactId")) is not None}


def contribution() -> GraphQLContribution:
    return GraphQLContribution(SDL, (query, mutation, contact_type))
