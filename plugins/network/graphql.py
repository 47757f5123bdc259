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
    mutation_payload,
    parse_id,
)

from . import credentials, ipam
from .models import Assignment, Credential, Device, Site, Subnet
from .reconcile import reconcile

SDL = '''
"A building, a tower, a POP."
type NetworkSite { id: ID! name: String! latitude: Float longitude: Float }

"A managed device; its credentials are never served."
type NetworkDevice {
  id: ID!
  name: String!
  siteId: ID
  role: String!
  vendor: String!
  backend: String!
  host: String!
  lastReconcileAt: DateTime
  lastError: String
  "What the device said about itself on the last connection test (identity, version...)."
  facts: JSON
}

"A prefix: a supernet or a pool."
type NetworkSubnet {
  id: ID!
  cidr: String!
  kind: String!
  parentId: ID
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
  id: ID!
  subscriptionId: ID!
  address: String!
  validFrom: DateTime!
  validTo: DateTime
}

"An address a device (a DHCP server) reports it handed to the service's equipment."
type NetworkLease { address: String! mac: String hostname: String expiresAt: DateTime seenAt: DateTime! }

type NetworkCredential {
  subscriptionId: ID!
  deviceId: ID
  username: String
  mac: String
  vlan: Int
}

"One change a reconcile made (or, in a dry run, would make)."
type NetworkChange { action: String! key: String! before: JSON after: JSON }

type NetworkReconcile {
  id: ID!
  deviceId: ID!
  at: DateTime!
  dryRun: Boolean!
  applied: Int!
  error: String
  changes: [NetworkChange!]!
}

type NetworkSitePayload implements MutationPayload { ok: Boolean! errors: [FieldError!]! site: NetworkSite }
type NetworkDevicePayload implements MutationPayload { ok: Boolean! errors: [FieldError!]! device: NetworkDevice }
type NetworkSubnetPayload implements MutationPayload { ok: Boolean! errors: [FieldError!]! subnet: NetworkSubnet }
type NetworkAssignmentPayload implements MutationPayload { ok: Boolean! errors: [FieldError!]! assignment: NetworkAssignment }
type NetworkCredentialPayload implements MutationPayload {
  ok: Boolean! errors: [FieldError!]! credential: NetworkCredential
}
type NetworkReconcilePayload implements MutationPayload {
  ok: Boolean! errors: [FieldError!]! reconcile: NetworkReconcile
}
type NetworkRevealPayload implements MutationPayload { ok: Boolean! errors: [FieldError!]! password: String }

input NetworkDeviceInput {
  name: String!
  backend: String!
  siteId: ID
  role: String
  vendor: String
  host: String
  port: Int
  username: String
  "Write-only: never served back."
  password: String
  "Write-only: the RADIUS shared secret."
  radiusSecret: String
  settings: JSON
}

extend type Query {
  networkSites: [NetworkSite!]! @requires(permission: "network.view")
  networkDevices: [NetworkDevice!]! @requires(permission: "network.view")
  networkSubnets: [NetworkSubnet!]! @requires(permission: "network.view")
  "Who held an address at a time (abuse reports)."
  networkAddressHolder(address: String!, at: DateTime!): ID @requires(permission: "network.view")
  networkAssignments(subscriptionId: ID!, limit: Int = 50): [NetworkAssignment!]!
    @requires(permission: "network.view")
  networkReconciles(deviceId: ID!, limit: Int = 20): [NetworkReconcile!]!
    @requires(permission: "network.view")
  "The leases the service's DHCP server reported on its last reconcile."
  networkLeases(subscriptionId: ID!): [NetworkLease!]! @requires(permission: "network.view")
}

extend type Mutation {
  networkCreateSite(name: String!, latitude: Float, longitude: Float): NetworkSitePayload!
    @requires(permission: "network.manage")
  networkCreateDevice(input: NetworkDeviceInput!): NetworkDevicePayload!
    @requires(permission: "network.manage")
  "Add a prefix; kind supernet, pppoe, dhcp, static or pd (IPv6 prefix delegation, with delegatedLength)."
  networkCreateSubnet(cidr: String!, kind: String!, siteId: ID, deviceId: ID, delegatedLength: Int): NetworkSubnetPayload!
    @requires(permission: "network.manage")
  "Assign an address (the next free one without address)."
  networkAssignAddress(subscriptionId: ID!, subnetId: ID!, address: String): NetworkAssignmentPayload!
    @requires(permission: "network.manage")
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
subnet_type.set_field("used", lambda s, _i: ipam.utilisation(s)[0])
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


@query.field("networkSites")
def resolve_sites(*_):
    return db.session.scalars(sa.select(Site).order_by(Site.name)).all()


@query.field("networkDevices")
def resolve_devices(*_):
    return db.session.scalars(sa.select(Device).order_by(Device.name)).all()


@query.field("networkSubnets")
def resolve_subnets(*_):
    return db.session.scalars(sa.select(Subnet).order_by(Subnet.cidr)).all()


@query.field("networkAddressHolder")
def resolve_holder(_obj, _info, address, at):
    try:
        return ipam.holder_of(address, at)
    except ValueError:
        raise FieldErrors({"address": [f"'{address}' is not an IP address"]}) from None


@query.field("networkAssignments")
def resolve_assignments(_obj, _info, subscriptionId, limit=50):  # noqa: N803
    return db.session.scalars(sa.select(Assignment).where(
        Assignment.subscription_id == parse_id(subscriptionId, "subscriptionId"))
        .order_by(Assignment.valid_from.desc()).limit(max(1, min(limit or 50, 200)))).all()


@query.field("networkReconciles")
def resolve_reconciles(_obj, _info, deviceId, limit=20):  # noqa: N803
    from .models import Reconcile

    return db.session.scalars(sa.select(Reconcile).where(
        Reconcile.device_id == parse_id(deviceId, "deviceId"))
        .order_by(Reconcile.id.desc()).limit(max(1, min(limit or 20, 100)))).all()


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
def resolve_leases(_obj, _info, subscriptionId):  # noqa: N803
    from .models import Lease

    return db.session.scalars(sa.select(Lease).where(
        Lease.subscription_id == parse_id(subscriptionId, "subscriptionId"))
        .order_by(Lease.id).limit(50)).all()


def contribution() -> GraphQLContribution:
    return GraphQLContribution(SDL, (query, mutation, device_type, subnet_type,
                                     assignment_type, credential_type, reconcile_type, lease_type))
