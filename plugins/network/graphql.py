"""GraphQL for the network plugin: sites, devices, subnets with utilisation, assignments and
history, credentials, reconcile (and its dry run). Every mutation has field-level errors."""
from __future__ import annotations

import ipaddress

import sqlalchemy as sa
from marshmallow import ValidationError

from backhaul.sdk import GraphQLContribution, db
from backhaul.sdk.graphql import (
    FieldErrors,
    MutationType,
    ObjectType,
    QueryType,
    apply_filters,
    connection_sdl,
    mutation_payload,
    paginate,
    parse_id,
    sort_order,
)

from . import credentials, ipam
from .models import Assignment, Credential, Device, Lease, Reconcile, Site, Subnet
from .reconcile import reconcile

SDL = '''
"A building, a tower, a POP."
type NetworkSite {
  "Database id."
  id: ID!
  "Unique name, 1-100 characters."
  name: String!
  "WGS84 latitude in degrees (-90 to 90); null: not placed on the map."
  latitude: Float
  "WGS84 longitude in degrees (-180 to 180); null: not placed on the map."
  longitude: Float
}

"A managed device; its credentials are never served."
type NetworkDevice {
  "Database id."
  id: ID!
  "Unique name, 1-100 characters."
  name: String!
  "The site it stands at (networkSites); null: none set."
  siteId: ID
  "router, switch, access-server, dhcp-server, olt, radio or other."
  role: String!
  "Free text (empty when not given)."
  vendor: String!
  "The provisioning backend that manages it (its entry-point name, e.g. mikrotik, kea, juniper)."
  backend: String!
  "Host name or address the backend connects to (empty for backends that need none)."
  host: String!
  "When it was last reconciled (UTC); null: never."
  lastReconcileAt: DateTime
  "Why the last reconcile or connection test failed; null when it succeeded."
  lastError: String
  "What the device said about itself on the last connection test (identity, version...)."
  facts: JSON
}

"A prefix: a supernet or a pool."
type NetworkSubnet {
  "Database id."
  id: ID!
  "The prefix in CIDR form (10.0.0.0/24, 2001:db8::/48); unique."
  cidr: String!
  "supernet, pppoe, dhcp, static or pd (IPv6 prefix delegation)."
  kind: String!
  "The supernet it was carved from; null for a top-level prefix."
  parentId: ID
  "The device that serves the pool (a BNG, a DHCP server); null: none."
  deviceId: ID
  "Addresses held now."
  used: Int!
  "Addresses (or, for a pd pool, delegated prefixes) the pool can hand out."
  size: Int!
  "A prefix-delegation pool's delegated prefix length."
  delegatedLength: Int
}

"An address held by a data service, from when to when (the address history)."
type NetworkAssignment {
  "Database id."
  id: ID!
  "The data service (billing subscription) that held it."
  subscriptionId: ID!
  "The address, or for prefix delegation the delegated prefix (2001:db8:1:100::/56)."
  address: String!
  "When the service got it (UTC)."
  validFrom: DateTime!
  "When it was released (UTC, exclusive); null: still held."
  validTo: DateTime
}

"An address a device (a DHCP server) reports it handed to the service's equipment."
type NetworkLease {
  "The leased address."
  address: String!
  "The client's hardware address as the server reported it; null when not reported."
  mac: String
  "The host name the client sent; null when none."
  hostname: String
  "When the lease runs out (UTC); null: the server did not say."
  expiresAt: DateTime
  "When the lease was last read from the server (UTC)."
  seenAt: DateTime!
}

"A service's login and DHCP identity on its device (the password is never served here)."
type NetworkCredential {
  "The data service (billing subscription)."
  subscriptionId: ID!
  "The device it is provisioned on; null: none chosen."
  deviceId: ID
  "The PPPoE/RADIUS login; null for DHCP-only services."
  username: String
  "The equipment's hardware address (aa:bb:cc:dd:ee:ff); null: none set."
  mac: String
  "A business service's 802.1Q VLAN id on its device; null: none."
  vlan: Int
}

"One change a reconcile made (or, in a dry run, would make)."
type NetworkChange {
  "create, update or delete."
  action: String!
  "What changed on the device: the subscriber's key there (usually the login or MAC)."
  key: String!
  "What the device had (null for a create)."
  before: JSON
  "What Backhaul wants there (null for a delete)."
  after: JSON
}

"One reconcile (or dry run) of one device: what differed, what was applied, errors."
type NetworkReconcile {
  "Database id."
  id: ID!
  "The device reconciled."
  deviceId: ID!
  "When it ran (UTC)."
  at: DateTime!
  "true: only reported what would change, nothing was written to the device."
  dryRun: Boolean!
  "How many of the changes were applied (0 for a dry run)."
  applied: Int!
  "Why it failed; null when it succeeded."
  error: String
  "The differences found, each with what was there and what is wanted."
  changes: [NetworkChange!]!
}

"The result of creating a site."
type NetworkSitePayload implements MutationPayload {
  "Whether the site was created."
  ok: Boolean!
  "Why not, per input field (empty when ok)."
  errors: [FieldError!]!
  "The new site; null when not ok."
  site: NetworkSite
}
"The result of creating or testing a device."
type NetworkDevicePayload implements MutationPayload {
  "Whether it worked."
  ok: Boolean!
  "Why not, per input field (empty when ok)."
  errors: [FieldError!]!
  "The device; null when not ok."
  device: NetworkDevice
}
"The result of creating a subnet."
type NetworkSubnetPayload implements MutationPayload {
  "Whether the subnet was created."
  ok: Boolean!
  "Why not, per input field (empty when ok)."
  errors: [FieldError!]!
  "The new subnet; null when not ok."
  subnet: NetworkSubnet
}
"The result of assigning or releasing addresses."
type NetworkAssignmentPayload implements MutationPayload {
  "Whether it worked."
  ok: Boolean!
  "Why not, per input field (empty when ok)."
  errors: [FieldError!]!
  "The new assignment; null when not ok and after a release."
  assignment: NetworkAssignment
}
"The result of setting a service's credentials."
type NetworkCredentialPayload implements MutationPayload {
  "Whether the credentials were saved."
  ok: Boolean!
  "Why not, per input field (empty when ok)."
  errors: [FieldError!]!
  "The credentials as saved (no password); null when not ok."
  credential: NetworkCredential
}
"The result of a reconcile or dry run."
type NetworkReconcilePayload implements MutationPayload {
  "Whether it ran (a failed reconcile is still recorded: see reconcile.error)."
  ok: Boolean!
  "Why not, per input field (empty when ok)."
  errors: [FieldError!]!
  "The recorded reconcile; null when not ok."
  reconcile: NetworkReconcile
}
"The result of revealing a service's password."
type NetworkRevealPayload implements MutationPayload {
  "Whether the password could be shown."
  ok: Boolean!
  "Why not, per input field (empty when ok)."
  errors: [FieldError!]!
  "The password in clear text (the reveal is audited); null when not ok."
  password: String
}

"A device to create."
input NetworkDeviceInput {
  "Unique name, 1-100 characters."
  name: String!
  "The provisioning backend (entry-point name, e.g. mikrotik, kea, juniper)."
  backend: String!
  "The site it stands at."
  siteId: ID
  "router (default), switch, access-server, dhcp-server, olt, radio or other."
  role: String
  "Free text."
  vendor: String
  "Host name or address to connect to."
  host: String
  "TCP port to connect to (1-65535); null: the backend's default."
  port: Int
  "Login name on the device."
  username: String
  "Write-only: never served back."
  password: String
  "Write-only: the RADIUS shared secret."
  radiusSecret: String
  "The backend's own settings (checked against its settings schema)."
  settings: JSON
}

"Which sites to list."
input NetworkSiteFilter {
  "Part of the site's name, any case."
  search: String
}

"Which devices to list; every given condition must hold."
input NetworkDeviceFilter {
  "Part of the device's name or host, any case."
  search: String
  "Only the devices at this site."
  siteId: ID
  "Only this role: router, switch, access-server, dhcp-server, olt, radio or other."
  role: String
  "Only this vendor, as entered on the device."
  vendor: String
  "Only devices driven by this backend (its entry-point name, e.g. mikrotik, kea, juniper)."
  backend: String
  "true: only devices whose last reconcile or connection test failed; false: only the others."
  failing: Boolean
}

"Which subnets to list; every given condition must hold."
input NetworkSubnetFilter {
  "Part of the prefix as written (10.20. or 2001:db8)."
  search: String
  "Only this kind: supernet, pppoe, dhcp, static or pd."
  kind: String
  "Only the pools carved from this supernet."
  parentId: ID
  "Only the pools served by this device."
  deviceId: ID
}

"Which address assignments to list; every given condition must hold."
input NetworkAssignmentFilter {
  "Only this service's addresses (its address history)."
  subscriptionId: ID
  "Only this address or delegated prefix, exactly as stored."
  address: String
  "Only addresses of this subnet."
  subnetId: ID
  "true: only addresses still held; false: only released ones."
  current: Boolean
  "Only assignments still held at or after this time."
  heldAfter: DateTime
  "Only assignments that started before this time."
  heldBefore: DateTime
}

"Which reconciles to list; every given condition must hold."
input NetworkReconcileFilter {
  "Only this device's reconciles."
  deviceId: ID
  "true: only dry runs; false: only reconciles that applied changes."
  dryRun: Boolean
  "true: only those that ended with an error; false: only clean ones."
  failed: Boolean
  "Only those run at or after this time."
  since: DateTime
  "Only those run before this time."
  until: DateTime
}

"Which DHCP leases to list; every given condition must hold."
input NetworkLeaseFilter {
  "Only this service's leases."
  subscriptionId: ID
  "Only the leases reported by this device (a DHCP server)."
  deviceId: ID
  "Only this client hardware address (aa:bb:cc:dd:ee:ff, any case)."
  mac: String
  "Only this leased address."
  address: String
}

extend type Query {
  "Sites (buildings, towers, POPs)."
  networkSites(filter: NetworkSiteFilter, first: Int, after: String,
               "name, -name, createdAt, -createdAt"
               sort: String): NetworkSiteConnection! @requires(permission: "network.view")
  "Managed devices; their credentials are never served."
  networkDevices(filter: NetworkDeviceFilter, first: Int, after: String,
                 "name, -name, createdAt, -createdAt"
                 sort: String): NetworkDeviceConnection! @requires(permission: "network.view")
  "Prefixes (supernets and pools) with their utilisation."
  networkSubnets(filter: NetworkSubnetFilter, first: Int, after: String,
                 "cidr, -cidr, createdAt, -createdAt"
                 sort: String): NetworkSubnetConnection! @requires(permission: "network.view")
  "Who held an address at a time (abuse reports)."
  networkAddressHolder(address: String!, at: DateTime!): ID @requires(permission: "network.view")
  "The address history: which service held which address from when to when."
  networkAssignments(filter: NetworkAssignmentFilter, first: Int, after: String,
                     "-validFrom (newest first, the default), validFrom, address, -address"
                     sort: String): NetworkAssignmentConnection!
    @requires(permission: "network.view")
  "Reconciles and dry runs of devices, with what each changed."
  networkReconciles(filter: NetworkReconcileFilter, first: Int, after: String,
                    "-at (newest first, the default), at"
                    sort: String): NetworkReconcileConnection!
    @requires(permission: "network.view")
  "The leases DHCP servers reported on their last reconcile."
  networkLeases(filter: NetworkLeaseFilter, first: Int, after: String,
                "address, -address, seenAt, -seenAt"
                sort: String): NetworkLeaseConnection! @requires(permission: "network.view")
}

extend type Mutation {
  "Add a site (name unique); coordinates optional."
  networkCreateSite(name: String!, latitude: Float, longitude: Float): NetworkSitePayload!
    @requires(permission: "network.manage")
  "Add a managed device; its password and RADIUS secret are stored sealed."
  networkCreateDevice(input: NetworkDeviceInput!): NetworkDevicePayload!
    @requires(permission: "network.manage")
  "Add a prefix; kind supernet, pppoe, dhcp, static or pd (IPv6 prefix delegation, with delegatedLength)."
  networkCreateSubnet(cidr: String!, kind: String!, siteId: ID, deviceId: ID, delegatedLength: Int): NetworkSubnetPayload!
    @requires(permission: "network.manage")
  "Assign an address (the next free one without address)."
  networkAssignAddress(subscriptionId: ID!, subnetId: ID!, address: String): NetworkAssignmentPayload!
    @requires(permission: "network.manage")
  "Release every address the service holds now (they stay in the address history)."
  networkReleaseAddresses(subscriptionId: ID!): NetworkAssignmentPayload!
    @requires(permission: "network.manage")
  "Set login and DHCP identity; a missing password is generated."
  networkSetCredentials(subscriptionId: ID!, deviceId: ID, username: String, password: String,
                        mac: String, circuitId: String, remoteId: String,
                        "A business service's VLAN id (0 clears it)."
                        vlan: Int): NetworkCredentialPayload!
    @requires(permission: "network.manage")
  "Show a service's password once (recorded in the audit trail)."
  networkRevealPassword(subscriptionId: ID!): NetworkRevealPayload!
    @requires(permission: "network.credentials.reveal")
  "Log in to a device and read what it says about itself (kept in facts)."
  networkTestDevice(deviceId: ID!): NetworkDevicePayload! @requires(permission: "network.manage")
  "Reconcile a device now; with dryRun, only report what would change."
  networkReconcileDevice(deviceId: ID!, dryRun: Boolean = true): NetworkReconcilePayload!
    @requires(permission: "network.manage")
}
'''



SDL += "".join(connection_sdl(node, rows) for node, rows in (
    ("NetworkSite", "sites"), ("NetworkDevice", "devices"), ("NetworkSubnet", "subnets"),
    ("NetworkAssignment", "address assignments"), ("NetworkReconcile", "reconciles"),
    ("NetworkLease", "leases")))

query = QueryType()
mutation = MutationType()
device_type = ObjectType("NetworkDevice")
subnet_type = ObjectType("NetworkSubnet")
assignment_type = ObjectType("NetworkAssignment")
credential_type = ObjectType("NetworkCredential")
reconcile_type = ObjectType("NetworkReconcile")
lease_type = ObjectType("NetworkLease")

for _t, _fields in ((device_type, {"siteId": "site_id", "lastReconcileAt": "last_reconcile_at",
                                   "lastError": "last_error"}),
                    (subnet_type, {"parentId": "parent_id", "deviceId": "device_id",
                                   "delegatedLength": "delegated_length"}),
                    (assignment_type, {"subscriptionId": "subscription_id",
                                       "validFrom": "valid_from", "validTo": "valid_to"}),
                    (credential_type, {"subscriptionId": "subscription_id",
                                       "deviceId": "device_id"}),
                    (reconcile_type, {"deviceId": "device_id", "dryRun": "dry_run"}),
                    (lease_type, {"expiresAt": "expires_at", "seenAt": "seen_at"})):
    for _name, _attr in _fields.items():
        _t.set_alias(_name, _attr)
subnet_type.set_field("used", lambda s, _i: s._page_used if hasattr(s, "_page_used")
                      else ipam.utilisation(s)[0])
subnet_type.set_field("size", lambda s, _i: ipam.usable(ipaddress.ip_network(s.cidr),
                                                        s.delegated_length))


def _get(model, value, field: str):
    row = db.session.get(model, parse_id(value, field))
    if row is None:
        raise FieldErrors({field: [f"There is no {model.__tablename__[8:]} {value}."]})
    return row


def _domain(work):
    try:
        return work()
    except ValidationError as exc:
        raise FieldErrors.from_marshmallow(exc) from None


SITE_SORTS = {"name": Site.name, "-name": Site.name.desc(),
              "createdAt": Site.created_at, "-createdAt": Site.created_at.desc()}
DEVICE_SORTS = {"name": Device.name, "-name": Device.name.desc(),
                "createdAt": Device.created_at, "-createdAt": Device.created_at.desc()}
SUBNET_SORTS = {"cidr": Subnet.cidr, "-cidr": Subnet.cidr.desc(),
                "createdAt": Subnet.created_at, "-createdAt": Subnet.created_at.desc()}
ASSIGNMENT_SORTS = {"-validFrom": Assignment.valid_from.desc(), "validFrom": Assignment.valid_from,
                    "address": Assignment.address, "-address": Assignment.address.desc()}
RECONCILE_SORTS = {"-at": Reconcile.at.desc(), "at": Reconcile.at}
LEASE_SORTS = {"address": Lease.address, "-address": Lease.address.desc(),
               "seenAt": Lease.seen_at, "-seenAt": Lease.seen_at.desc()}


def _text(value, field: str):
    """Text holding NUL is refused (PostgreSQL cannot compare it): a field error, not a 500."""
    if isinstance(value, str) and "\x00" in value:
        raise FieldErrors({field: ["must not contain NUL characters"]})
    return value


def _filter(values: dict | None) -> dict | None:
    for name, value in (values or {}).items():
        _text(value, f"filter.{name}")
    return values


def _id_filter(column, name: str):
    return lambda stmt, value: stmt.where(column == parse_id(value, name))


def _like(*columns):
    def where(stmt, text):
        text = text.strip()
        if not text:
            return stmt
        return stmt.where(sa.or_(*(c.icontains(text, autoescape=True) for c in columns)))
    return where


def _address(value: str) -> str:
    """An address or prefix as stored (canonical text), or a field error."""
    text = value.strip()
    try:
        return str(ipaddress.ip_network(text) if "/" in text else ipaddress.ip_address(text))
    except ValueError:
        raise FieldErrors({"address": [f"'{value[:64]}' is not an IP address or prefix"]}) \
            from None


def _flag(when_true, when_false):
    return lambda stmt, value: stmt.where(when_true if value else when_false)


@query.field("networkSites")
def resolve_sites(_obj, _info, filter=None, first=None, after=None, sort=None):  # noqa: A002
    order_by = sort_order(sort, SITE_SORTS, "name")
    stmt = apply_filters(sa.select(Site), _filter(filter), {"search": _like(Site.name)})
    return paginate(stmt, first, after, order_by=order_by)


@query.field("networkDevices")
def resolve_devices(_obj, _info, filter=None, first=None, after=None, sort=None):  # noqa: A002
    order_by = sort_order(sort, DEVICE_SORTS, "name")
    stmt = apply_filters(sa.select(Device), _filter(filter), {
        "search": _like(Device.name, Device.host), "siteId": _id_filter(Device.site_id, "siteId"),
        "role": Device.role, "vendor": Device.vendor, "backend": Device.backend,
        "failing": _flag(Device.last_error.is_not(None), Device.last_error.is_(None))})
    return paginate(stmt, first, after, order_by=order_by)


@query.field("networkSubnets")
def resolve_subnets(_obj, _info, filter=None, first=None, after=None, sort=None):  # noqa: A002
    order_by = sort_order(sort, SUBNET_SORTS, "cidr")
    stmt = apply_filters(sa.select(Subnet), _filter(filter), {
        "search": _like(Subnet.cidr), "kind": Subnet.kind,
        "parentId": _id_filter(Subnet.parent_id, "parentId"),
        "deviceId": _id_filter(Subnet.device_id, "deviceId")})
    page = paginate(stmt, first, after, order_by=order_by)
    # the page's utilisation in one statement (not one per subnet)
    held = dict(db.session.execute(sa.select(
        Assignment.subnet_id, sa.func.count(sa.distinct(Assignment.address))).where(
        Assignment.subnet_id.in_([s.id for s in page.nodes]), Assignment.valid_to.is_(None))
        .group_by(Assignment.subnet_id)).all()) if page.nodes else {}
    for subnet in page.nodes:
        subnet._page_used = held.get(subnet.id, 0)
    return page


@query.field("networkAddressHolder")
def resolve_holder(_obj, _info, address, at):
    try:
        return ipam.holder_of(address, at)
    except ValueError:
        raise FieldErrors({"address": [f"'{address}' is not an IP address"]}) from None


@query.field("networkAssignments")
def resolve_assignments(_obj, _info, filter=None, first=None, after=None,  # noqa: A002
                        sort=None):
    order_by = sort_order(sort, ASSIGNMENT_SORTS, "-validFrom")
    stmt = apply_filters(sa.select(Assignment), _filter(filter), {
        "subscriptionId": _id_filter(Assignment.subscription_id, "subscriptionId"),
        "address": lambda stmt, value: stmt.where(Assignment.address == _address(value)),
        "subnetId": _id_filter(Assignment.subnet_id, "subnetId"),
        "current": _flag(Assignment.valid_to.is_(None), Assignment.valid_to.is_not(None)),
        "heldAfter": lambda stmt, at: stmt.where(sa.or_(Assignment.valid_to.is_(None),
                                                        Assignment.valid_to > at)),
        "heldBefore": (Assignment.valid_from, "lt")})
    return paginate(stmt, first, after, order_by=order_by)


@query.field("networkReconciles")
def resolve_reconciles(_obj, _info, filter=None, first=None, after=None,  # noqa: A002
                       sort=None):
    order_by = sort_order(sort, RECONCILE_SORTS, "-at")
    stmt = apply_filters(sa.select(Reconcile), _filter(filter), {
        "deviceId": _id_filter(Reconcile.device_id, "deviceId"),
        "dryRun": lambda stmt, value: stmt.where(Reconcile.dry_run.is_(bool(value))),
        "failed": _flag(Reconcile.error.is_not(None), Reconcile.error.is_(None)),
        "since": (Reconcile.at, "gte"), "until": (Reconcile.at, "lt")})
    return paginate(stmt, first, after, order_by=order_by)


@mutation.field("networkCreateSite")
@mutation_payload
def resolve_create_site(_obj, _info, name, latitude=None, longitude=None):
    name = (name or "").strip()
    if not name or len(name) > 100 or "\x00" in name:
        raise FieldErrors({"name": ["1-100 characters"]})
    if latitude is not None and not -90 <= latitude <= 90:
        raise FieldErrors({"latitude": ["between -90 and 90"]})
    if longitude is not None and not -180 <= longitude <= 180:
        raise FieldErrors({"longitude": ["between -180 and 180"]})
    if db.session.scalar(sa.select(Site.id).where(Site.name == name)):
        raise FieldErrors({"name": [f"a site named '{name}' exists"]})
    site = Site(name=name, latitude=latitude, longitude=longitude)
    db.session.add(site)
    db.session.flush()
    return {"site": site}


@mutation.field("networkCreateDevice")
@mutation_payload
def resolve_create_device(_obj, _info, input):  # noqa: A002
    from .devices import create_device

    site_id = parse_id(input["siteId"], "siteId") if input.get("siteId") else None
    return {"device": _domain(lambda: create_device(
        name=input.get("name"), backend=input.get("backend"), site_id=site_id,
        role=input.get("role"), vendor=input.get("vendor"), host=input.get("host"),
        port=input.get("port"), username=input.get("username"),
        password=input.get("password"), radius_secret=input.get("radiusSecret"),
        settings=input.get("settings")))}


@mutation.field("networkCreateSubnet")
@mutation_payload
def resolve_create_subnet(_obj, _info, cidr, kind, siteId=None, deviceId=None,  # noqa: N803
                          delegatedLength=None):  # noqa: N803
    return {"subnet": _domain(lambda: ipam.create_subnet(
        cidr, kind, site_id=parse_id(siteId, "siteId") if siteId else None,
        device_id=parse_id(deviceId, "deviceId") if deviceId else None,
        delegated_length=delegatedLength))}


@mutation.field("networkAssignAddress")
@mutation_payload
def resolve_assign(_obj, _info, subscriptionId, subnetId, address=None):  # noqa: N803
    subnet = _get(Subnet, subnetId, "subnetId")
    return {"assignment": _domain(lambda: ipam.assign(
        parse_id(subscriptionId, "subscriptionId"), subnet, address))}


@mutation.field("networkReleaseAddresses")
@mutation_payload
def resolve_release(_obj, _info, subscriptionId):  # noqa: N803
    ipam.release(parse_id(subscriptionId, "subscriptionId"))
    return {"assignment": None}


@mutation.field("networkSetCredentials")
@mutation_payload
def resolve_set_credentials(_obj, _info, subscriptionId, deviceId=None, username=None,  # noqa: N803
                            password=None, mac=None, circuitId=None, remoteId=None,  # noqa: N803
                            vlan=None):
    if deviceId:
        _get(Device, deviceId, "deviceId")
    return {"credential": _domain(lambda: credentials.set_credentials(
        parse_id(subscriptionId, "subscriptionId"), username=username, password=password,
        mac=mac, device_id=parse_id(deviceId, "deviceId") if deviceId else None,
        circuit_id=circuitId, remote_id=remoteId, vlan=vlan))}


@mutation.field("networkRevealPassword")
@mutation_payload
def resolve_reveal(_obj, _info, subscriptionId):  # noqa: N803
    row = db.session.scalar(sa.select(Credential).where(
        Credential.subscription_id == parse_id(subscriptionId, "subscriptionId")))
    if row is None:
        raise FieldErrors({"subscriptionId": ["this service has no credentials"]})
    return {"password": credentials.reveal(row)}


@mutation.field("networkReconcileDevice")
@mutation_payload
def resolve_reconcile(_obj, _info, deviceId, dryRun=True):  # noqa: N803
    device = _get(Device, deviceId, "deviceId")
    return {"reconcile": reconcile(device.id, dry_run=bool(dryRun)).record}


@mutation.field("networkTestDevice")
@mutation_payload
def resolve_test_device(_obj, _info, deviceId):  # noqa: N803
    from .reconcile import test_connection

    device = _get(Device, deviceId, "deviceId")
    ok, message = test_connection(device.id)
    if not ok:
        db.session.commit()  # the reason is kept on the device
        raise FieldErrors({"deviceId": [f"the device did not answer: {message}"]})
    return {"device": device}


@query.field("networkLeases")
def resolve_leases(_obj, _info, filter=None, first=None, after=None, sort=None):  # noqa: A002
    order_by = sort_order(sort, LEASE_SORTS, "address")
    stmt = apply_filters(sa.select(Lease), _filter(filter), {
        "subscriptionId": _id_filter(Lease.subscription_id, "subscriptionId"),
        "deviceId": _id_filter(Lease.device_id, "deviceId"),
        "mac": lambda stmt, value: stmt.where(sa.func.lower(Lease.mac) == value.strip().lower()),
        "address": lambda stmt, value: stmt.where(Lease.address == _address(value))})
    return paginate(stmt, first, after, order_by=order_by)


def contribution() -> GraphQLContribution:
    return GraphQLContribution(SDL, (query, mutation, device_type, subnet_type,
                                     assignment_type, credential_type, reconcile_type, lease_type))
