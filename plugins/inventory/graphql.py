"""GraphQL for the inventory plugin: every page's action as a mutation behind the same
permission, with field-level errors (``items.3.serial``, ``quantity``...)."""
from __future__ import annotations

from decimal import Decimal

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
    load,
    load_related,
    mutation_payload,
    paginate,
    parse_id,
    set_aliases,
    sort_order,
)

from . import alerts, catalogue, csvio, stock
from . import values as V
from .models import IDENTIFIER_TYPES, Identifier, Item, ItemModel, Location, Manufacturer, Threshold

SDL = '''
"A maker of equipment in the catalogue."
type InventoryManufacturer {
  "Database id."
  id: ID!
  "Unique name, 1-100 characters."
  name: String!
}

"One field of a model: text, number, date, choice, mac, imsi, iccid or serial."
type InventoryFieldDefinition {
  "The key of the value in an item's attributes and in CSV columns (lower case, _)."
  key: String!
  "The label shown on forms."
  label: String!
  "text, number, date, choice, mac, imsi, iccid or serial."
  type: String!
  "Whether every item of the model must have a value."
  required: Boolean!
  "Identifier types (mac, imsi, iccid, serial) are always unique."
  unique: Boolean!
  "The allowed values of a choice field (empty for other types)."
  choices: [String!]!
}

"A model of equipment (or bulk material) with the fields its items carry."
type InventoryModel {
  "Database id."
  id: ID!
  "Who makes it."
  manufacturer: InventoryManufacturer!
  "The model's name, unique per manufacturer."
  name: String!
  "Manufacturer and model."
  label: String!
  "cpe, router, switch, radio, sim, general or bulk"
  category: String!
  "Bulk models: what a quantity counts (pcs, m...)."
  unit: String!
  "Free text (empty when none)."
  description: String!
  "The fields each item of the model carries, in form order."
  fields: [InventoryFieldDefinition!]!
}

"A warehouse, shelf, bin, van or technician."
type InventoryLocation {
  "Database id."
  id: ID!
  "Unique short code (labels, CSV import)."
  code: String!
  "Display name."
  name: String!
  "warehouse, shelf, bin, van or technician."
  kind: String!
  "The location it is inside; null at the top level."
  parentId: ID
  "Free text (empty when none)."
  description: String!
  "Warehouse › Shelf › Bin"
  path: String!
}

"A unique identifier an item carries (what a scan finds it by)."
type InventoryIdentifier {
  "mac, imsi, iccid, serial, or <model id>:<field key> for another unique field."
  kind: String!
  "The model field it was entered in."
  fieldKey: String!
  "The value, normalised (a MAC as aa:bb:cc:dd:ee:ff)."
  value: String!
}

"One step of an item's life."
type InventoryMovement {
  "Database id."
  id: ID!
  "receive, move, assign, install, return, retire, rma or split"
  action: String!
  "When it happened (UTC)."
  at: DateTime!
  "Who did it (a staff member, a token or the system), as recorded then."
  actor: String!
  "How much moved: 1 for a serialized item, a decimal for bulk."
  quantity: String!
  "The location it left; null when it came from a holder or from outside."
  fromLocationId: ID
  "The location it went to; null when it went to a holder or out."
  toLocationId: ID
  "The kind of holder it left (account, address, site, device); null: none."
  fromHolderType: String
  "The holder it left; null: none."
  fromHolderId: ID
  "The kind of holder it went to (account, address, site, device); null: none."
  toHolderType: String
  "The holder it went to; null: none."
  toHolderId: ID
  "The item's status after it."
  status: String!
  "The other item of a split (the part that left, or the stock it came from); null otherwise."
  relatedItemId: ID
  "What caused it, e.g. event:42 for a scheduled swap (empty when entered by hand)."
  reference: String!
  "Free text entered with it (empty when none)."
  note: String!
}

"A serialized piece of equipment or a quantity of bulk stock."
type InventoryItem {
  "Database id (#id finds it in inventoryLookup)."
  id: ID!
  "What it is."
  model: InventoryModel!
  "in_stock, assigned, installed, rma or retired"
  status: String!
  "new, used, refurbished or faulty"
  condition: String!
  "1 for a serialized item; a decimal for bulk."
  quantity: String!
  "Where it is stored; null while a holder has it (or once retired)."
  location: InventoryLocation
  "account, address, site or device (when not in a location)"
  holderType: String
  "The holder's id (with holderType); null when in a location."
  holderId: ID
  "Its unique identifiers (serial, MAC, IMSI, ICCID...)."
  identifiers: [InventoryIdentifier!]!
  "The model's other field values, by key."
  attributes: JSON!
  "Where to reach it on the network (an address or URL; empty when none)."
  managementAddress: String!
  "Free text (empty when none)."
  notes: String!
  "Every movement, oldest first (at most 500)."
  history: [InventoryMovement!]!
}

"A low-stock threshold: alert when a model's stock in a location falls below a minimum."
type InventoryThreshold {
  "Database id."
  id: ID!
  "The model watched."
  model: InventoryModel!
  "The location watched (its stock includes the locations below it)."
  location: InventoryLocation!
  "The minimum quantity (a decimal string)."
  minimum: String!
  "In-stock quantity now in the location and below it (a decimal string)."
  inStock: String!
  "When the last alert went out; null while stock is at or above the minimum."
  alertedAt: DateTime
}

"What one scanned value means for a model field: normalised, or why not."
type InventoryScanCheck {
  "Whether the value can be received (valid, and not already used when the field is unique)."
  ok: Boolean!
  "The value as scanned."
  value: String!
  "The value as it would be stored; null when it is not valid."
  normalised: String
  "Why not ok; null when ok."
  message: String
}

"A field of a model, as given when creating a model or replacing its fields."
input InventoryFieldInput {
  "The label shown on forms."
  label: String!
  "Defaults to the label in lower case with _."
  key: String
  "text, number, date, choice, mac, imsi, iccid or serial."
  type: String!
  "Whether every item must have a value (default false)."
  required: Boolean
  "Whether no two items may share a value (identifier types always are)."
  unique: Boolean
  "The allowed values of a choice field."
  choices: [String!]
}

"A model to create."
input InventoryModelInput {
  "Its manufacturer (inventoryManufacturers)."
  manufacturerId: ID!
  "The model's name, unique per manufacturer."
  name: String!
  "cpe, router, switch, radio, sim, general or bulk."
  category: String!
  "Bulk models: what a quantity counts (pcs, m...)."
  unit: String
  "Free text."
  description: String
  "The fields its items carry."
  fields: [InventoryFieldInput!]
}

"A location to create."
input InventoryLocationInput {
  "Unique short code."
  code: String!
  "Display name."
  name: String!
  "warehouse, shelf, bin, van or technician."
  kind: String!
  "The location it is inside; null: top level."
  parentId: ID
  "Free text."
  description: String
}

"Items arriving into stock."
input InventoryReceiveInput {
  "What arrives (inventoryModels)."
  modelId: ID!
  "Where it is put (inventoryLocations)."
  locationId: ID!
  """Serialized models: one object of field values per item, e.g. {serial: "X1", mac: "..."}.
  Errors name the item and the field: items.3.mac (a key with _ comes back in camelCase, as
  every error field does: gpon_sn -> gponSn)."""
  items: [JSON!]
  "Bulk models: how much arrives."
  quantity: String
  "new (default), used, refurbished or faulty."
  condition: String
  "Where to reach the items on the network (every item received)."
  managementAddress: String
}

"The result of creating or renaming a manufacturer."
type InventoryManufacturerPayload implements MutationPayload {
  "Whether it worked."
  ok: Boolean!
  "Why not, per input field (empty when ok)."
  errors: [FieldError!]!
  "The manufacturer; null when not ok."
  manufacturer: InventoryManufacturer
}
"The result of creating or changing a model."
type InventoryModelPayload implements MutationPayload {
  "Whether it worked."
  ok: Boolean!
  "Why not, per input field (empty when ok)."
  errors: [FieldError!]!
  "The model; null when not ok."
  model: InventoryModel
}
"The result of creating or changing a location."
type InventoryLocationPayload implements MutationPayload {
  "Whether it worked."
  ok: Boolean!
  "Why not, per input field (empty when ok)."
  errors: [FieldError!]!
  "The location; null when not ok."
  location: InventoryLocation
}
"The result of an action on one item."
type InventoryItemPayload implements MutationPayload {
  "Whether it worked."
  ok: Boolean!
  "Why not, per input field (empty when ok)."
  errors: [FieldError!]!
  "The item after the action (for a partial move or retire of bulk: the part acted on); null when not ok."
  item: InventoryItem
}
"The result of receiving or importing items (all of them, or none)."
type InventoryItemsPayload implements MutationPayload {
  "Whether every item was received."
  ok: Boolean!
  "Every problem, per input field (items.3.mac, csv...); empty when ok."
  errors: [FieldError!]!
  "Null when refused." items: [InventoryItem!]
}
"The result of setting a low-stock threshold."
type InventoryThresholdPayload implements MutationPayload {
  "Whether it worked."
  ok: Boolean!
  "Why not, per input field (empty when ok)."
  errors: [FieldError!]!
  "The threshold; null when not ok or when it was removed (minimum 0)."
  threshold: InventoryThreshold
}

"Which manufacturers to list."
input InventoryManufacturerFilter {
  "Part of the name, any case."
  search: String
}

"Which models to list; every given condition must hold."
input InventoryModelFilter {
  "Part of the model's or its manufacturer's name, any case."
  search: String
  "Only this manufacturer's models."
  manufacturerId: ID
  "Only this category: cpe, router, switch, radio, sim, general or bulk."
  category: String
}

"Which locations to list; every given condition must hold."
input InventoryLocationFilter {
  "Part of the code or the name, any case."
  search: String
  "Only this kind: warehouse, shelf, bin, van or technician."
  kind: String
  "Only the direct children of this location."
  parentId: ID
  "true: only top-level locations (no parent)."
  topLevel: Boolean
}

"Which items to list; every given condition must hold."
input InventoryItemFilter {
  "Only items of this model."
  modelId: ID
  "Only items in this location or any location below it."
  locationId: ID
  "Only this status: in_stock, assigned, installed, rma or retired."
  status: String
  "Only this condition: new, used, refurbished or faulty."
  condition: String
  "Only items held by this kind of holder: account, address, site or device."
  holderType: String
  "Only items held by this holder (with holderType)."
  holderId: ID
  "Only items with an identifier (serial, MAC, IMSI, ICCID...) containing this text, any case."
  search: String
}

"Which low-stock thresholds to list; every given condition must hold."
input InventoryThresholdFilter {
  "Only thresholds of this model."
  modelId: ID
  "Only thresholds of this location."
  locationId: ID
  "true: only thresholds whose low-stock alert has gone out (stock below the minimum)."
  alerted: Boolean
}

extend type Query {
  "Manufacturers in the catalogue."
  inventoryManufacturers(filter: InventoryManufacturerFilter, first: Int, after: String,
                         "name, -name, createdAt, -createdAt"
                         sort: String): InventoryManufacturerConnection!
    @requires(permission: "inventory.view")
  "Models in the catalogue, with their field definitions."
  inventoryModels(filter: InventoryModelFilter, first: Int, after: String,
                  "name, -name, createdAt, -createdAt"
                  sort: String): InventoryModelConnection! @requires(permission: "inventory.view")
  "Stock locations (warehouses, shelves, bins, vans, technicians)."
  inventoryLocations(filter: InventoryLocationFilter, first: Int, after: String,
                     "code, -code, name, -name"
                     sort: String): InventoryLocationConnection!
    @requires(permission: "inventory.view")
  "Items: serialized pieces and bulk stock."
  inventoryItems(filter: InventoryItemFilter, first: Int, after: String,
                 "id, -id, createdAt, -createdAt, updatedAt, -updatedAt"
                 sort: String): InventoryItemConnection!
    @requires(permission: "inventory.view")
  "One item, or null."
  inventoryItem(id: ID!): InventoryItem @requires(permission: "inventory.view")
  "Items carrying this value as any identifier (MAC in any spelling, serial, IMSI, ICCID)."
  inventoryLookup(value: String!): [InventoryItem!]! @requires(permission: "inventory.view")
  "Low-stock thresholds with the stock they watch."
  inventoryThresholds(filter: InventoryThresholdFilter, first: Int, after: String,
                      "id, -id"
                      sort: String): InventoryThresholdConnection!
    @requires(permission: "inventory.view")
  "Every item as CSV (the import's columns plus id, status and holder)."
  inventoryExportCsv: String! @requires(permission: "inventory.view")
  "Check scanned values for a model field as the intake screen does (nothing is written)."
  inventoryCheckScans(modelId: ID!, fieldKey: String!, values: [String!]!): [InventoryScanCheck!]!
    @requires(permission: "inventory.stock.manage")
}

extend type Mutation {
  "Add a manufacturer (name unique, 1-100 characters)."
  inventoryCreateManufacturer(name: String!): InventoryManufacturerPayload!
    @requires(permission: "inventory.catalogue.manage")
  "Add a model with its field definitions."
  inventoryCreateModel(input: InventoryModelInput!): InventoryModelPayload!
    @requires(permission: "inventory.catalogue.manage")
  "Replace a model's field definitions (types of fields in use cannot change)."
  inventoryUpdateModelFields(modelId: ID!, fields: [InventoryFieldInput!]!): InventoryModelPayload!
    @requires(permission: "inventory.catalogue.manage")
  "Add a stock location (code unique)."
  inventoryCreateLocation(input: InventoryLocationInput!): InventoryLocationPayload!
    @requires(permission: "inventory.catalogue.manage")
  "Rename, describe or move a location (parentId null: top level; omitted: unchanged)."
  inventoryUpdateLocation(locationId: ID!, name: String, description: String, parentId: ID):
    InventoryLocationPayload! @requires(permission: "inventory.catalogue.manage")
  "Rename a manufacturer (name unique)."
  inventoryRenameManufacturer(manufacturerId: ID!, name: String!): InventoryManufacturerPayload!
    @requires(permission: "inventory.catalogue.manage")
  "Rename a model, change its description or (bulk) unit."
  inventoryUpdateModel(modelId: ID!, name: String, unit: String, description: String):
    InventoryModelPayload! @requires(permission: "inventory.catalogue.manage")
  "Low-stock threshold of a model in a location (and below it); 0 removes it."
  inventorySetThreshold(modelId: ID!, locationId: ID!, minimum: String!): InventoryThresholdPayload!
    @requires(permission: "inventory.catalogue.manage")
  "Receive items into a location: all of them, or none with every problem reported."
  inventoryReceiveItems(input: InventoryReceiveInput!): InventoryItemsPayload!
    @requires(permission: "inventory.stock.manage")
  "Move an in-stock item, or part of a bulk one (quantity), to another location."
  inventoryMoveItem(itemId: ID!, locationId: ID!, quantity: String): InventoryItemPayload!
    @requires(permission: "inventory.stock.manage")
  "Assign (or install) an in-stock item to an account, address, site or device."
  inventoryAssignItem(itemId: ID!, holderType: String!, holderId: ID!, install: Boolean = false,
                      quantity: String): InventoryItemPayload!
    @requires(permission: "inventory.stock.manage")
  "Bring an assigned, installed or RMA item back into a location."
  inventoryReturnItem(itemId: ID!, locationId: ID!, condition: String): InventoryItemPayload!
    @requires(permission: "inventory.stock.manage")
  "Retire an item (or part of a bulk one), or send it out for RMA."
  inventoryRetireItem(itemId: ID!, rma: Boolean = false, quantity: String, note: String):
    InventoryItemPayload! @requires(permission: "inventory.stock.manage")
  "Management address, notes, and corrected field values ({mac: \\"...\\"}; empty clears an optional one)."
  inventoryUpdateItem(itemId: ID!, managementAddress: String, notes: String, values: JSON):
    InventoryItemPayload!
    @requires(permission: "inventory.stock.manage")
  "Receive every row of a CSV file, or nothing (errors: field csv, one message per bad row)."
  inventoryImportItems(csv: String!): InventoryItemsPayload!
    @requires(permission: "inventory.stock.manage")
}
'''



SDL += "".join(connection_sdl(node, rows) for node, rows in (
    ("InventoryManufacturer", "manufacturers"), ("InventoryModel", "models"),
    ("InventoryLocation", "locations"), ("InventoryItem", "items"),
    ("InventoryThreshold", "thresholds")))

query = QueryType()
mutation = MutationType()
model_type = ObjectType("InventoryModel")
location_type = ObjectType("InventoryLocation")
item_type = ObjectType("InventoryItem")
movement_type = ObjectType("InventoryMovement")
threshold_type = ObjectType("InventoryThreshold")
identifier_type = ObjectType("InventoryIdentifier")

set_aliases(location_type, "parentId")
set_aliases(identifier_type, "fieldKey")
set_aliases(item_type, "holderType", "holderId", "managementAddress")
set_aliases(movement_type, "fromLocationId", "toLocationId", "fromHolderType", "fromHolderId",
            "toHolderType", "toHolderId", "relatedItemId")
set_aliases(threshold_type, "alertedAt")


def _qty(value: Decimal) -> str:
    return format(Decimal(value).normalize(), "f")


# nested objects through the request's batched loader: a page of items costs constant SQL
model_type.set_field("manufacturer", lambda m, _i: load(Manufacturer, m.manufacturer_id))
item_type.set_field("model", lambda i, _i: load(ItemModel, i.model_id))
location_type.set_field("path", lambda loc, _i: catalogue.path(loc))
item_type.set_field("quantity", lambda i, _i: _qty(i.quantity))
item_type.set_field("location", lambda i, _i: load(Location, i.location_id)
                    if i.location_id else None)
item_type.set_field("identifiers", lambda i, _i: load_related(Identifier, "item_id", i.id))
item_type.set_field("history", lambda i, _i: stock.history(i.id))
movement_type.set_field("quantity", lambda m, _i: _qty(m.quantity))
threshold_type.set_field("model", lambda t, _i: load(ItemModel, t.model_id))
threshold_type.set_field("location", lambda t, _i: load(Location, t.location_id))
threshold_type.set_field("minimum", lambda t, _i: _qty(t.minimum))
threshold_type.set_field("inStock", lambda t, _i: _qty(
    t._page_in_stock if hasattr(t, "_page_in_stock") else alerts.in_stock(t.model_id,
                                                                          t.location_id)))


def _get(model, value, field: str):
    row = db.session.get(model, parse_id(value, field))
    if row is None:
        raise FieldErrors({field: [f"There is no {model.__tablename__[10:]} {value}."]})
    return row


def _opt_id(value, field):
    return parse_id(value, field) if value not in (None, "") else None


# --------------------------------------------------------------------------------- queries
MANUFACTURER_SORTS = {"name": Manufacturer.name, "-name": Manufacturer.name.desc(),
                      "createdAt": Manufacturer.created_at,
                      "-createdAt": Manufacturer.created_at.desc()}
MODEL_SORTS = {"name": ItemModel.name, "-name": ItemModel.name.desc(),
               "createdAt": ItemModel.created_at, "-createdAt": ItemModel.created_at.desc()}
LOCATION_SORTS = {"code": Location.code, "-code": Location.code.desc(),
                  "name": Location.name, "-name": Location.name.desc()}
ITEM_SORTS = {"id": Item.id, "-id": Item.id.desc(),
              "createdAt": Item.created_at, "-createdAt": Item.created_at.desc(),
              "updatedAt": Item.updated_at, "-updatedAt": Item.updated_at.desc()}
THRESHOLD_SORTS = {"id": Threshold.id, "-id": Threshold.id.desc()}


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


@query.field("inventoryManufacturers")
def resolve_manufacturers(_obj, _info, filter=None, first=None, after=None,  # noqa: A002
                          sort=None):
    order_by = sort_order(sort, MANUFACTURER_SORTS, "name")
    stmt = apply_filters(sa.select(Manufacturer), _filter(filter), {"search": _like(Manufacturer.name)})
    return paginate(stmt, first, after, order_by=order_by)


@query.field("inventoryModels")
def resolve_models(_obj, _info, filter=None, first=None, after=None, sort=None):  # noqa: A002
    order_by = sort_order(sort, MODEL_SORTS, "name")

    def search(stmt, text):
        text = text.strip()
        if not text:
            return stmt
        makers = sa.select(Manufacturer.id).where(
            Manufacturer.name.icontains(text, autoescape=True))
        return stmt.where(sa.or_(ItemModel.name.icontains(text, autoescape=True),
                                 ItemModel.manufacturer_id.in_(makers)))

    stmt = apply_filters(sa.select(ItemModel), _filter(filter), {
        "search": search, "category": ItemModel.category,
        "manufacturerId": _id_filter(ItemModel.manufacturer_id, "manufacturerId")})
    return paginate(stmt, first, after, order_by=order_by)


@query.field("inventoryLocations")
def resolve_locations(_obj, _info, filter=None, first=None, after=None,  # noqa: A002
                      sort=None):
    order_by = sort_order(sort, LOCATION_SORTS, "code")
    stmt = apply_filters(sa.select(Location), _filter(filter), {
        "search": _like(Location.code, Location.name), "kind": Location.kind,
        "parentId": _id_filter(Location.parent_id, "parentId"),
        "topLevel": lambda stmt, top: stmt.where(Location.parent_id.is_(None) if top
                                                 else Location.parent_id.is_not(None))})
    return paginate(stmt, first, after, order_by=order_by)


@query.field("inventoryItems")
def resolve_items(_obj, _info, filter=None, first=None, after=None, sort=None):  # noqa: A002
    order_by = sort_order(sort, ITEM_SORTS, "id")

    def in_location(stmt, value):
        return stmt.where(Item.location_id.in_(catalogue.subtree_ids(
            parse_id(value, "locationId"))))

    def search(stmt, text):
        text = text.strip()
        if not text:
            return stmt
        return stmt.where(Item.id.in_(sa.select(Identifier.item_id).where(
            Identifier.value.icontains(text, autoescape=True))))

    stmt = apply_filters(sa.select(Item), _filter(filter), {
        "modelId": _id_filter(Item.model_id, "modelId"), "locationId": in_location,
        "status": Item.status, "condition": Item.condition, "holderType": Item.holder_type,
        "holderId": _id_filter(Item.holder_id, "holderId"), "search": search})
    return paginate(stmt, first, after, order_by=order_by)


@query.field("inventoryItem")
def resolve_item(_obj, _info, id):  # noqa: A002
    return db.session.get(Item, parse_id(id, "id"))


@query.field("inventoryLookup")
def resolve_lookup(_obj, _info, value):
    return stock.lookup(_text(value, "value"))


@query.field("inventoryThresholds")
def resolve_thresholds(_obj, _info, filter=None, first=None, after=None,  # noqa: A002
                       sort=None):
    order_by = sort_order(sort, THRESHOLD_SORTS, "id")
    stmt = apply_filters(sa.select(Threshold), _filter(filter), {
        "modelId": _id_filter(Threshold.model_id, "modelId"),
        "locationId": _id_filter(Threshold.location_id, "locationId"),
        "alerted": lambda stmt, on: stmt.where(Threshold.alerted_at.is_not(None) if on
                                               else Threshold.alerted_at.is_(None))})
    page = paginate(stmt, first, after, order_by=order_by)
    _page_in_stock(page.nodes)
    return page


def _page_in_stock(thresholds) -> None:
    """Each threshold's in-stock quantity (its location and below) in two statements for the
    page, as alerts.in_stock counts it one threshold at a time."""
    if not thresholds:
        return
    children: dict[int | None, list[int]] = {}
    for lid, parent in db.session.execute(sa.select(Location.id, Location.parent_id)):
        children.setdefault(parent, []).append(lid)
    stock_of = {(m, loc): q for m, loc, q in db.session.execute(
        sa.select(Item.model_id, Item.location_id, sa.func.sum(Item.quantity)).where(
            Item.status == "in_stock", Item.location_id.is_not(None),
            Item.model_id.in_({t.model_id for t in thresholds}))
        .group_by(Item.model_id, Item.location_id))}
    for threshold in thresholds:
        below, todo = set(), [threshold.location_id]
        while todo:
            current = todo.pop()
            if current not in below:
                below.add(current)
                todo += children.get(current, [])
        threshold._page_in_stock = sum((stock_of.get((threshold.model_id, loc), Decimal(0))
                                        for loc in below), Decimal(0))


@query.field("inventoryExportCsv")
def resolve_export(*_):
    try:
        return csvio.export_items()
    except ValidationError as exc:
        raise FieldErrors.from_marshmallow(exc) from None


def check_scans(model: ItemModel, field_key: str, values: list[str],
                batch: list[str] = ()) -> list[dict]:
    """The intake screen's check: each value normalised or refused; values already used
    by an item, or earlier in ``batch`` + ``values``, are refused too."""
    field = next((f for f in model.fields if f["key"] == field_key), None)
    if field is None:
        raise FieldErrors({"fieldKey": [f"{model.name} has no field '{field_key}'"]})
    if len(values) > stock.MAX_BATCH:
        raise FieldErrors({"values": [f"at most {stock.MAX_BATCH} values"]})
    kind = field["type"] if field["type"] in IDENTIFIER_TYPES else f"{model.id}:{field_key}"
    out, clean = [], []
    for raw in values:
        try:
            clean.append(V.normalise(field, raw))
            out.append({"ok": True, "value": raw, "normalised": clean[-1], "message": None})
        except ValueError as exc:
            clean.append(None)
            out.append({"ok": False, "value": raw, "normalised": None, "message": str(exc)})
    used = stock.taken([(kind, c) for c in clean if c]) if field["unique"] else {}
    seen = set()
    for c in batch:
        try:
            seen.add(V.normalise(field, c))
        except ValueError:
            pass
    for result, c in zip(out, clean, strict=True):
        if c is None or not field["unique"]:
            continue
        if (kind, c) in used:
            result.update(ok=False, message=f"{c} is already item #{used[(kind, c)]}")
        elif c in seen:
            result.update(ok=False, message=f"{c} is already in this batch (a double scan?)")
        seen.add(c)
    return out


@query.field("inventoryCheckScans")
def resolve_check_scans(_obj, _info, modelId, fieldKey, values):  # noqa: N803
    return check_scans(_get(ItemModel, modelId, "modelId"), fieldKey, values)


# ------------------------------------------------------------------------------- mutations
@mutation.field("inventoryCreateManufacturer")
@mutation_payload
def resolve_create_manufacturer(_obj, _info, name):
    return {"manufacturer": catalogue.create_manufacturer(name)}


@mutation.field("inventoryCreateModel")
@mutation_payload
def resolve_create_model(_obj, _info, input):  # noqa: A002
    return {"model": catalogue.create_model(
        parse_id(input["manufacturerId"], "manufacturerId"), input["name"], input["category"],
        input.get("fields") or [], unit=input.get("unit") or "",
        description=input.get("description") or "")}


@mutation.field("inventoryUpdateModelFields")
@mutation_payload
def resolve_update_fields(_obj, _info, modelId, fields):  # noqa: N803
    return {"model": catalogue.update_model_fields(_get(ItemModel, modelId, "modelId"), fields)}


@mutation.field("inventoryCreateLocation")
@mutation_payload
def resolve_create_location(_obj, _info, input):  # noqa: A002
    return {"location": catalogue.create_location(
        input["code"], input["name"], input["kind"], _opt_id(input.get("parentId"), "parentId"),
        input.get("description") or "")}


@mutation.field("inventoryUpdateLocation")
@mutation_payload
def resolve_update_location(_obj, _info, locationId, **changes):  # noqa: N803
    location = _get(Location, locationId, "locationId")
    parent = changes.get("parentId", "")
    return {"location": catalogue.update_location(
        location, name=changes.get("name"), description=changes.get("description"),
        parent_id="" if parent == "" else _opt_id(parent, "parentId"))}


@mutation.field("inventoryRenameManufacturer")
@mutation_payload
def resolve_rename_manufacturer(_obj, _info, manufacturerId, name):  # noqa: N803
    return {"manufacturer": catalogue.rename_manufacturer(
        _get(Manufacturer, manufacturerId, "manufacturerId"), name)}


@mutation.field("inventoryUpdateModel")
@mutation_payload
def resolve_update_model(_obj, _info, modelId, name=None, unit=None, description=None):  # noqa: N803
    return {"model": catalogue.update_model(_get(ItemModel, modelId, "modelId"), name=name,
                                            unit=unit, description=description)}


@mutation.field("inventorySetThreshold")
@mutation_payload
def resolve_set_threshold(_obj, _info, modelId, locationId, minimum):  # noqa: N803
    return {"threshold": alerts.set_threshold(parse_id(modelId, "modelId"),
                                              parse_id(locationId, "locationId"), minimum)}


@mutation.field("inventoryReceiveItems")
@mutation_payload
def resolve_receive(_obj, _info, input):  # noqa: A002
    entries = input.get("items") or []
    if any(not isinstance(e, dict) for e in entries):
        raise FieldErrors({"items": ["each item is an object of field values"]})
    return {"items": stock.receive(
        parse_id(input["modelId"], "modelId"), parse_id(input["locationId"], "locationId"),
        entries, quantity=input.get("quantity"), condition=input.get("condition") or "new",
        management_address=input.get("managementAddress") or "")}


@mutation.field("inventoryMoveItem")
@mutation_payload
def resolve_move(_obj, _info, itemId, locationId, quantity=None):  # noqa: N803
    return {"item": stock.move(_get(Item, itemId, "itemId"),
                               parse_id(locationId, "locationId"), quantity)}


@mutation.field("inventoryAssignItem")
@mutation_payload
def resolve_assign(_obj, _info, itemId, holderType, holderId, install=False,  # noqa: N803
                   quantity=None):
    return {"item": stock.assign(_get(Item, itemId, "itemId"), holderType,
                                 parse_id(holderId, "holderId"), install=bool(install),
                                 quantity=quantity)}


@mutation.field("inventoryReturnItem")
@mutation_payload
def resolve_return(_obj, _info, itemId, locationId, condition=None):  # noqa: N803
    return {"item": stock.return_item(_get(Item, itemId, "itemId"),
                                      parse_id(locationId, "locationId"), condition=condition)}


@mutation.field("inventoryRetireItem")
@mutation_payload
def resolve_retire(_obj, _info, itemId, rma=False, quantity=None, note=None):  # noqa: N803
    return {"item": stock.retire(_get(Item, itemId, "itemId"), rma=bool(rma),
                                 quantity=quantity, note=note or "")}


@mutation.field("inventoryUpdateItem")
@mutation_payload
def resolve_update_item(_obj, _info, itemId, managementAddress=None, notes=None,  # noqa: N803
                        values=None):
    if values is not None and not isinstance(values, dict):
        raise FieldErrors({"values": ["an object of field values"]})
    item = _get(Item, itemId, "itemId")
    keys = {f["key"] for f in item.model.fields}
    try:
        return {"item": stock.update_item(item, management_address=managementAddress,
                                          notes=notes, values=values)}
    except ValidationError as exc:  # a model field's error is named values.<key>
        raise FieldErrors({f"values.{k}" if k in keys else k: v
                           for k, v in exc.normalized_messages().items()}) from None


@mutation.field("inventoryImportItems")
@mutation_payload
def resolve_import(_obj, _info, csv):
    return {"items": csvio.import_items(csv)}


def contribution() -> GraphQLContribution:
    return GraphQLContribution(SDL, (query, mutation, model_type, location_type, item_type,
                                     movement_type, threshold_type, identifier_type))

