"""The staff pages: inventory at a glance (lookup field, low stock, locations), items (list,
item page with its life and actions), models and manufacturers, locations (what a van
carries), the barcode intake screen with its JSON check, CSV import/export, and the account
panel. Every form posts to an action that has a GraphQL mutation behind the same permission
(graphql.py); the domain functions do the validation."""
from __future__ import annotations

import json

import sqlalchemy as sa
from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from marshmallow import ValidationError

from backhaul.sdk import db, permission_required
from backhaul.sdk.ui import Filter, form_errors, list_page

from . import alerts, catalogue, csvio, stock
from .models import (
    CATEGORIES,
    CONDITIONS,
    FIELD_TYPES,
    HOLDER_TYPES,
    IDENTIFIER_TYPES,
    LOCATION_KINDS,
    STATUSES,
    Item,
    ItemModel,
    Location,
    Manufacturer,
    Movement,
    Threshold,
)

bp = Blueprint("inventory", __name__, url_prefix="/inventory", template_folder="templates",
               static_folder="static", static_url_path="/static")
FIELD_ROWS = 6


def _refused(exc: ValidationError) -> str:
    db.session.rollback()
    return " ".join(f"{'' if k == '_schema' else k.replace('_', ' ') + ': '}"
                    f"{' '.join(map(str, v))}" for k, v in form_errors(exc).items())


def _int(name: str) -> int | None:
    value = request.form.get(name) or request.args.get(name)
    return int(value) if value and value.isdigit() else None


def _locations() -> list[tuple[int, str]]:
    rows = db.session.scalars(sa.select(Location)).all()
    return sorted(((loc.id, catalogue.path(loc) + f" ({loc.code})") for loc in rows),
                  key=lambda p: p[1].lower())


def _models() -> list[ItemModel]:
    return sorted(db.session.scalars(sa.select(ItemModel)).all(), key=lambda m: m.label.lower())


@bp.app_template_global("inventory_holder")
def inventory_holder(holder_type: str | None, holder_id: int | None) -> str:
    """A holder as people name it: the account's number and name, the address's line."""
    from backhaul.sdk.accounts import Account, Address

    if holder_type == "account":
        row = db.session.get(Account, holder_id)
        return f"{row.number} {row.name}" if row else f"account #{holder_id}"
    if holder_type == "address":
        row = db.session.get(Address, holder_id)
        return row.one_line if row else f"address #{holder_id}"
    return f"{holder_type} #{holder_id}" if holder_type else "—"


@bp.app_template_filter("inventory_qty")
def inventory_qty(value) -> str:
    return stock._fmt(value)


# ------------------------------------------------------------------------------ overview
@bp.get("/")
@permission_required("inventory.view")
def index():
    locations = db.session.scalars(sa.select(Location).order_by(Location.code)).all()
    counts = dict(db.session.execute(sa.select(Item.location_id, sa.func.count(Item.id)).where(
        Item.status == "in_stock").group_by(Item.location_id)).all())
    recent = db.session.scalars(sa.select(Movement).order_by(Movement.id.desc()).limit(15)).all()
    return render_template("inventory/index.html", tree=_tree(locations), counts=counts,
                           low=alerts.low_stock(), recent=recent,
                           items={i.id: i for i in db.session.scalars(sa.select(Item).where(
                               Item.id.in_({m.item_id for m in recent})))} if recent else {},
                           names={loc.id: loc.name for loc in locations},
                           kinds=LOCATION_KINDS, locations=_locations(),
                           models={m.id: m.label for m in _models()})


def _tree(locations) -> list[tuple[int, Location]]:
    """(depth, location) in tree order."""
    children: dict[int | None, list[Location]] = {}
    for loc in locations:
        children.setdefault(loc.parent_id, []).append(loc)
    out, todo = [], [(0, loc) for loc in reversed(children.get(None, []))]
    while todo:
        depth, loc = todo.pop()
        out.append((depth, loc))
        todo.extend((depth + 1, c) for c in reversed(children.get(loc.id, [])))
    return out


@bp.get("/lookup")
@permission_required("inventory.view")
def lookup():
    q = request.args.get("q", "").strip()
    found = stock.lookup(q) if q else []
    if len(found) == 1:
        return redirect(url_for(".item", item_id=found[0].id))
    return render_template("inventory/lookup.html", q=q, found=found,
                           idents=stock.identifiers(i.id for i in found))


# ---------------------------------------------------------------------------------- items
@bp.get("/items")
@permission_required("inventory.view")
def items():
    page = list_page(sa.select(Item), sortable={"id": Item.id, "status": Item.status},
                     filters={"status": Filter(Item.status, choices=[
                         (s, s.replace("_", " ")) for s in STATUSES]),
                              "model": Filter(Item.model_id, choices=[
                                  (str(m.id), m.label) for m in _models()])},
                     default_sort="-id")
    return render_template("inventory/items.html", page=page,
                           idents=stock.identifiers(i.id for i in page.rows),
                           names={loc.id: loc.name for loc in db.session.scalars(
                               sa.select(Location))})


@bp.get("/items/<int:item_id>")
@permission_required("inventory.view")
def item(item_id: int):
    return _item_page(db.session.get(Item, item_id) or abort(404))


def _item_page(row: Item, form: str = "", errors: dict | None = None, status: int = 200):
    """The item page; after a refused action, that form's errors beside its fields (``form``
    names it: move, assign, return, retire, edit, swap) and what was typed kept."""
    location = db.session.get(Location, row.location_id) if row.location_id else None
    return render_template("inventory/item.html", item=row, location=location,
                           form=form, errors=errors or {},
                           typed=request.form if form else {},
                           where=catalogue.path(location),
                           idents=stock.identifiers([row.id]).get(row.id, []),
                           values=stock.current_values(row),
                           history=stock.history(row.id), locations=_locations(),
                           names={loc.id: loc.name for loc in db.session.scalars(
                               sa.select(Location))},
                           holder_types=HOLDER_TYPES, conditions=CONDITIONS), status


#: what a domain error key is called in the item page's forms
FORM_NAMES = {"holder_id": "holder", "item_id": "_schema"}


def _item_action(item_id: int, work, done: str):
    row = db.session.get(Item, item_id) or abort(404)
    try:
        result = work(row)
        db.session.commit()
        if done:
            flash(done, "success")
        return redirect(url_for(".item", item_id=result.id))
    except ValidationError as exc:
        db.session.rollback()
        keys = {f["key"] for f in row.model.fields}
        errors = {}
        for key, messages in form_errors(exc).items():
            name = f"value-{key}" if key in keys else FORM_NAMES.get(key, key)
            errors.setdefault(name, []).extend(messages)
        form = request.path.rstrip("/").rsplit("/", 1)[-1]
        return _item_page(db.session.get(Item, item_id), form, errors, 422)


@bp.post("/items/<int:item_id>/move")
@permission_required("inventory.stock.manage")
def item_move(item_id: int):
    return _item_action(item_id, lambda row: stock.move(
        row, _int("location_id"), request.form.get("quantity") or None), "Moved.")


@bp.post("/items/<int:item_id>/assign")
@permission_required("inventory.stock.manage")
def item_assign(item_id: int):
    def work(row):
        holder_type = request.form.get("holder_type", "")
        holder = request.form.get("holder", "").strip()
        if holder_type == "account" and holder and not holder.isdigit():
            from backhaul.sdk.accounts import get_account_by_number

            account = get_account_by_number(holder)
            if account is None:
                raise ValidationError({"holder": [f"no account numbered {holder}"]})
            holder = account.id
        return stock.assign(row, holder_type, holder, install=bool(request.form.get("install")),
                            quantity=request.form.get("quantity") or None,
                            note=request.form.get("note", ""))
    return _item_action(item_id, work, "Handed out.")


@bp.post("/items/<int:item_id>/return")
@permission_required("inventory.stock.manage")
def item_return(item_id: int):
    return _item_action(item_id, lambda row: stock.return_item(
        row, _int("location_id"), condition=request.form.get("condition") or None,
        note=request.form.get("note", "")), "Returned to stock.")


@bp.post("/items/<int:item_id>/retire")
@permission_required("inventory.stock.manage")
def item_retire(item_id: int):
    return _item_action(item_id, lambda row: stock.retire(
        row, rma=bool(request.form.get("rma")), quantity=request.form.get("quantity") or None,
        note=request.form.get("note", "")), "Done.")


@bp.post("/items/<int:item_id>/edit")
@permission_required("inventory.stock.manage")
def item_edit(item_id: int):
    def work(row):
        values = {f["key"]: request.form.get(f"value-{f['key']}", "") for f in row.model.fields
                  if f"value-{f['key']}" in request.form}
        return stock.update_item(row, management_address=request.form.get(
            "management_address", ""), notes=request.form.get("notes", ""), values=values)
    return _item_action(item_id, work, "Saved.")


@bp.post("/items/<int:item_id>/swap")
@permission_required("accounts.event.manage")
def item_swap(item_id: int):
    """Schedule "swap equipment" (the same as GraphQL ``scheduleEvent`` with action
    ``inventory.swap_equipment``): the account event's permission."""
    from .actions import schedule_swap

    def work(row):
        try:
            event = schedule_swap(row, request.form.get("replacement", ""),
                                  _int("location_id"), request.form.get("due", ""),
                                  request.form.get("condition") or None)
        except ValidationError as exc:  # the event's own names: due_at, params.<name>
            messages = form_errors(exc)
            params = messages.pop("params", {}) or {}
            renamed = {"due_at": "due", "return_location_id": "location_id",
                       "install_item_id": "replacement", "remove_item_id": "_schema"}
            raise ValidationError({renamed.get(k, k): v for k, v in
                                   {**messages, **params}.items()}) from None
        flash(f"Swap scheduled for {event.due_at:%Y-%m-%d} (event #{event.id}).", "success")
        return row
    return _item_action(item_id, work, "")


@bp.get("/export.csv")
@permission_required("inventory.view")
def export_csv():
    try:
        text = csvio.export_items()
    except ValidationError as exc:
        flash(_refused(exc), "error")
        return redirect(url_for(".items"))
    return Response(text, mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=inventory.csv"})


@bp.get("/import")
@permission_required("inventory.stock.manage")
def import_form():
    return render_template("inventory/import.html", problems=[])


@bp.post("/import")
@permission_required("inventory.stock.manage")
def import_csv():
    upload = request.files.get("file")
    text = request.form.get("csv", "")
    if upload is not None and upload.filename:
        raw = upload.read(csvio.MAX_BYTES + 1)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            return render_template("inventory/import.html",
                                   problems=["the file is not UTF-8 text"]), 422
    try:
        received = csvio.import_items(text)
        db.session.commit()
    except ValidationError as exc:
        db.session.rollback()
        return render_template("inventory/import.html",
                               problems=form_errors(exc).get("csv", [str(exc)])), 422
    flash(f"{len(received)} item(s) received.", "success")
    return redirect(url_for(".items"))


# --------------------------------------------------------------------- models, locations
@bp.get("/models")
@permission_required("inventory.view")
def models():
    counts = dict(db.session.execute(sa.select(Item.model_id, sa.func.count(Item.id)).where(
        Item.status != "retired").group_by(Item.model_id)).all())
    return render_template("inventory/models.html", models=_models(), counts=counts,
                           manufacturers=db.session.scalars(sa.select(Manufacturer).order_by(
                               Manufacturer.name)).all(), categories=CATEGORIES,
                           field_types=FIELD_TYPES, rows=range(FIELD_ROWS), errors={},
                           values={})


@bp.post("/manufacturers")
@permission_required("inventory.catalogue.manage")
def manufacturer_new():
    try:
        row = catalogue.create_manufacturer(request.form.get("name", ""))
        db.session.commit()
        flash(f"Manufacturer {row.name} added.", "success")
    except ValidationError as exc:
        flash(_refused(exc), "error")
    return redirect(url_for(".models"))


def _posted_fields() -> list[dict]:
    out = []
    for n in range(catalogue.MAX_FIELDS):
        label = request.form.get(f"field-{n}-label", "").strip()
        if not label:
            continue
        out.append({"label": label, "key": request.form.get(f"field-{n}-key", "").strip(),
                    "type": request.form.get(f"field-{n}-type", ""),
                    "required": bool(request.form.get(f"field-{n}-required")),
                    "unique": bool(request.form.get(f"field-{n}-unique")),
                    "choices": [c for c in request.form.get(f"field-{n}-choices", "").split(",")
                                if c.strip()]})
    return out


@bp.post("/models")
@permission_required("inventory.catalogue.manage")
def model_new():
    try:
        row = catalogue.create_model(_int("manufacturer_id") or 0, request.form.get("name", ""),
                                     request.form.get("category", ""), _posted_fields(),
                                     unit=request.form.get("unit", ""),
                                     description=request.form.get("description", ""))
        db.session.commit()
        flash(f"Model {row.label} added.", "success")
        return redirect(url_for(".model", model_id=row.id))
    except ValidationError as exc:
        db.session.rollback()
        return render_template(
            "inventory/models.html", models=_models(), counts={}, categories=CATEGORIES,
            manufacturers=db.session.scalars(sa.select(Manufacturer).order_by(
                Manufacturer.name)).all(), field_types=FIELD_TYPES, rows=range(FIELD_ROWS),
            errors=form_errors(exc), values=request.form), 422


@bp.get("/models/<int:model_id>")
@permission_required("inventory.view")
def model(model_id: int):
    row = db.session.get(ItemModel, model_id) or abort(404)
    by_status = dict(db.session.execute(sa.select(Item.status, sa.func.sum(Item.quantity)).where(
        Item.model_id == row.id).group_by(Item.status)).all())
    thresholds = db.session.scalars(sa.select(Threshold).where(
        Threshold.model_id == row.id)).all()
    return render_template("inventory/model.html", model=row, by_status=by_status,
                           thresholds=[(t, alerts.in_stock(row.id, t.location_id),
                                        db.session.get(Location, t.location_id))
                                       for t in thresholds],
                           locations=_locations(), field_types=FIELD_TYPES,
                           rows=range(min(max(len(row.fields) + 3, FIELD_ROWS),
                                          catalogue.MAX_FIELDS)))


@bp.post("/models/<int:model_id>/fields")
@permission_required("inventory.catalogue.manage")
def model_fields(model_id: int):
    row = db.session.get(ItemModel, model_id) or abort(404)
    try:
        catalogue.update_model_fields(row, _posted_fields())
        db.session.commit()
        flash("Fields saved.", "success")
    except ValidationError as exc:
        flash(_refused(exc), "error")
    return redirect(url_for(".model", model_id=model_id))


@bp.post("/thresholds")
@permission_required("inventory.catalogue.manage")
def threshold_set():
    model_id = _int("model_id") or 0
    try:
        alerts.set_threshold(model_id, _int("location_id") or 0, request.form.get("minimum", ""))
        db.session.commit()
        flash("Threshold saved.", "success")
    except ValidationError as exc:
        flash(_refused(exc), "error")
    return redirect(url_for(".model", model_id=model_id) if model_id else url_for(".index"))


@bp.get("/locations/<int:location_id>")
@permission_required("inventory.view")
def location(location_id: int):
    row = db.session.get(Location, location_id) or abort(404)
    below = catalogue.subtree_ids(row.id)
    held = stock.in_location(below)
    totals: dict[int, object] = {}
    for i in held:
        totals[i.model_id] = totals.get(i.model_id, 0) + i.quantity
    return render_template("inventory/location.html", location=row, path=catalogue.path(row),
                           parents=[p for p in _locations() if p[0] not in below],
                           held=held, totals=totals,
                           models={m.id: m for m in _models()},
                           idents=stock.identifiers(i.id for i in held),
                           children=db.session.scalars(sa.select(Location).where(
                               Location.parent_id == row.id).order_by(Location.code)).all(),
                           names={loc.id: loc.name for loc in db.session.scalars(
                               sa.select(Location))})


@bp.post("/locations/<int:location_id>/edit")
@permission_required("inventory.catalogue.manage")
def location_edit(location_id: int):
    row = db.session.get(Location, location_id) or abort(404)
    try:
        catalogue.update_location(row, name=request.form.get("name", ""),
                                  description=request.form.get("description", ""),
                                  parent_id=_int("parent_id"))
        db.session.commit()
        flash("Location saved.", "success")
    except ValidationError as exc:
        flash(_refused(exc), "error")
    return redirect(url_for(".location", location_id=location_id))


@bp.post("/models/<int:model_id>/edit")
@permission_required("inventory.catalogue.manage")
def model_edit(model_id: int):
    row = db.session.get(ItemModel, model_id) or abort(404)
    try:
        catalogue.update_model(row, name=request.form.get("name", ""),
                               unit=request.form.get("unit") or None,
                               description=request.form.get("description", ""))
        db.session.commit()
        flash("Model saved.", "success")
    except ValidationError as exc:
        flash(_refused(exc), "error")
    return redirect(url_for(".model", model_id=model_id))


@bp.post("/manufacturers/<int:manufacturer_id>/rename")
@permission_required("inventory.catalogue.manage")
def manufacturer_rename(manufacturer_id: int):
    row = db.session.get(Manufacturer, manufacturer_id) or abort(404)
    try:
        catalogue.rename_manufacturer(row, request.form.get("name", ""))
        db.session.commit()
        flash("Manufacturer renamed.", "success")
    except ValidationError as exc:
        flash(_refused(exc), "error")
    return redirect(url_for(".models"))


@bp.post("/locations")
@permission_required("inventory.catalogue.manage")
def location_new():
    try:
        row = catalogue.create_location(request.form.get("code", ""), request.form.get("name", ""),
                                        request.form.get("kind", ""), _int("parent_id"),
                                        request.form.get("description", ""))
        db.session.commit()
        flash(f"Location {row.code} added.", "success")
    except ValidationError as exc:
        flash(_refused(exc), "error")
    return redirect(url_for(".index"))


# --------------------------------------------------------------------------------- intake
def _scan_fields(model: ItemModel) -> list[dict]:
    """What one item takes from the scanner, in order: its required identifier fields (or
    its first identifier field when none is required)."""
    idents = [f for f in model.fields if f["type"] in IDENTIFIER_TYPES]
    required = [f for f in idents if f["required"]]
    return required or idents[:1]


def _intake_page(batch=None, errors=None, status=200, **values):
    models = _models()
    config = {str(m.id): {"bulk": m.is_bulk, "unit": m.unit, "label": m.label,
                          "fields": [{"key": f["key"], "label": f["label"], "type": f["type"]}
                                     for f in _scan_fields(m)]} for m in models}
    return render_template("inventory/intake.html", models=models, locations=_locations(),
                           conditions=CONDITIONS, config=json.dumps(config),
                           batch=json.dumps(batch or []), errors=errors or {},
                           item_errors=any(k.startswith("items.") for k in errors or {}),
                           values=values), status


@bp.get("/intake")
@permission_required("inventory.stock.manage")
def intake():
    return _intake_page(model_id=_int("model_id"), location_id=_int("location_id"))


@bp.get("/intake/check")
@permission_required("inventory.stock.manage")
def intake_check():
    """One scanned value for one field of a model: ``{ok, normalised, message}``. Reads only;
    the batch's own duplicates are the page's to flag (it holds the batch)."""
    from backhaul.sdk.graphql import FieldErrors

    from .graphql import check_scans

    row = db.session.get(ItemModel, _int("model_id") or 0)
    if row is None:
        return jsonify({"ok": False, "message": "choose a model first"}), 422
    try:
        result = check_scans(row, request.args.get("field", ""),
                             [request.args.get("value", "")[:200]])[0]
    except FieldErrors as exc:  # a field the model does not have
        return jsonify({"ok": False, "message": str(exc)}), 422
    return jsonify(result)


@bp.post("/intake")
@permission_required("inventory.stock.manage")
def intake_receive():
    model_id, location_id = _int("model_id"), _int("location_id")
    condition = request.form.get("condition") or "new"
    try:
        batch = json.loads(request.form.get("batch") or "[]")
        if not isinstance(batch, list) or not all(isinstance(e, dict) for e in batch):
            raise ValueError
        batch = [{str(k): str(v) for k, v in e.items()} for e in batch]
    except (ValueError, AttributeError):
        batch = []
    try:
        received = stock.receive(model_id or 0, location_id or 0, batch,
                                 quantity=request.form.get("quantity") or None,
                                 condition=condition, reference="intake")
        db.session.commit()
    except ValidationError as exc:
        db.session.rollback()
        return _intake_page(batch, form_errors(exc), 422, model_id=model_id,
                            location_id=location_id, condition=condition)
    where = db.session.get(Location, location_id)
    flash(f"{len(received)} item(s) received into {where.name}." if batch
          else f"{request.form.get('quantity')} received into {where.name}.", "success")
    return redirect(url_for(".intake", model_id=model_id, location_id=location_id))


# ---------------------------------------------------------------------------- the panel
def render_account_panel(account) -> str:
    held = stock.held_by("account", account.id)
    at_address = stock.held_by("address", account.address_id) if account.address_id else []
    past = db.session.scalars(sa.select(Movement).where(sa.or_(
        sa.and_(Movement.to_holder_type == "account", Movement.to_holder_id == account.id),
        sa.and_(Movement.from_holder_type == "account", Movement.from_holder_id == account.id)))
        .order_by(Movement.id.desc()).limit(20)).all()
    items = {i.id: i for i in db.session.scalars(sa.select(Item).where(
        Item.id.in_({m.item_id for m in past})))} if past else {}
    return render_template("inventory/_account_panel.html", held=held, past=past, items=items,
                           at_address=at_address,
                           idents=stock.identifiers(set(items) | {i.id for i in held + at_address}))
