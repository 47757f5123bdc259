"""Editing the catalogue from the staff UI and GraphQL: services of any type, packages.

A service type's parameters come from its marshmallow ``parameters_schema`` (see
``parameters.py``): :func:`params_from_form` turns the generated form's ``params.<name>``
inputs into the dict the schema validates, so a plugin's own service type gets its form
without writing one. Changes are audited automatically (model updates); retiring keeps the
service on existing subscriptions but refuses new ones.
"""
from __future__ import annotations

from collections.abc import Mapping

import sqlalchemy as sa

from backhaul.sdk import audit, db

from .catalogue import _frequency, _tax_class, money, service_type
from .errors import clean_text, invalid
from .models import Package, PackageItem, Service
from .parameters import describe_schema


def params_from_form(type_key: str, form: Mapping[str, str], prefix: str = "params.") -> dict:
    """The parameter dict of a service type from form inputs named ``params.<name>``.

    Empty inputs are left out (the schema's default applies, or "required" is reported);
    numbers stay strings for the schema to parse, so its messages name the field.
    """
    out: dict = {}
    for spec in describe_schema(service_type(type_key).parameters_schema):
        key = prefix + spec["name"]
        if spec["type"] == "boolean":
            out[spec["name"]] = form.get(key) in ("y", "on", "true", "1")
            continue
        raw = (form.get(key) or "").strip()
        if raw == "":
            continue
        if spec["type"] == "list":
            out[spec["name"]] = [part.strip() for part in raw.replace("\n", ",").split(",")
                                 if part.strip()]
        else:
            out[spec["name"]] = raw
    return out


def _name(name: str, ignore: int | None, model) -> str:
    name = clean_text("name", name, max_length=200)
    query = sa.select(model.id).where(model.name == name)
    if ignore is not None:
        query = query.where(model.id != ignore)
    if db.session.scalar(query):
        raise invalid("name", f"'{name}' already exists")
    return name


def update_service(service: Service, *, name: str | None = None, price=None,
                   params: dict | None = None, frequency: str | None = None,
                   tax_class: str | None | bool = False, invoice_label: str | None = None,
                   prorate: bool | None = None) -> Service:
    """Change a service; ``None`` keeps a field (``tax_class=None`` clears it; ``False``
    keeps it). Its type never changes: retire it and create another."""
    stype = service_type(service.type_key)
    changes: dict = {}
    if name is not None:
        changes["name"] = _name(name, service.id, Service)
    if price is not None:
        amount = money(price, service.currency)
        if amount.amount < 0:
            raise invalid("price", "must not be negative (use an adjustment for a discount)")
        changes["price_amount"] = amount.amount
    if params is not None:
        changes["params"] = stype.validate_parameters(params)
    if frequency is not None:
        changes["frequency"] = _frequency(frequency)
    if tax_class is not False:
        changes["tax_class"] = _tax_class(tax_class or None)
    if invoice_label is not None:
        changes["invoice_label"] = invoice_label.strip()
    if prorate is not None:
        changes["prorate"] = bool(prorate)
    for key, value in changes.items():
        setattr(service, key, value)
    db.session.flush()
    return service


def retire_service(service: Service, retired: bool = True) -> Service:
    """Retired services stay on existing subscriptions; nobody new can subscribe."""
    service.active = not retired
    db.session.flush()
    audit.record("billing.service_retired" if retired else "billing.service_reinstated",
                 "billing_service", service.id, {"name": service.name})
    return service


def package_items(pairs: list[tuple[int | str, int | str]]) -> list[tuple[Service, int]]:
    """``[(service_id, quantity)]`` -> ``[(Service, int)]``; bad lines name their index."""
    items = []
    for index, (service_id, quantity) in enumerate(pairs):
        service = db.session.get(Service, int(service_id)) if str(service_id).isdigit() \
            else None
        if service is None:
            raise invalid(f"items.{index}.serviceId", f"no service with id {service_id}")
        try:
            qty = int(quantity)
        except (TypeError, ValueError):
            raise invalid(f"items.{index}.quantity", "must be a whole number") from None
        items.append((service, qty))
    return items


def update_package(package: Package, *, name: str | None = None, price=None,
                   items: list[tuple[Service, int]] | None = None,
                   invoice_label: str | None = None, active: bool | None = None) -> Package:
    """Rename, re-price, change the parts of, or retire (``active=False``) a package."""
    if name is not None:
        package.name = _name(name, package.id, Package)
    if price is not None and price != "":
        if package.pricing != "package":
            raise invalid("price", "this package is priced as the sum of its parts")
        amount = money(price, package.currency)
        if amount.amount < 0:
            raise invalid("price", "must not be negative")
        package.price_amount = amount.amount
    if items is not None:
        if not items:
            raise invalid("items", "a package needs at least one service")
        for index, (service, quantity) in enumerate(items):
            if quantity <= 0:
                raise invalid(f"items.{index}.quantity", "must be at least 1")
            if service.currency != package.currency:
                raise invalid(f"items.{index}.serviceId",
                              f"'{service.name}' is priced in {service.currency}")
        wanted = {s.id: (s, q) for s, q in items}
        for item in list(package.items):
            if item.service_id in wanted:
                item.quantity = wanted.pop(item.service_id)[1]
            else:
                package.items.remove(item)
        db.session.flush()  # deletes before inserts (one row per service)
        package.items.extend(PackageItem(service=s, quantity=q) for s, q in wanted.values())
    if invoice_label is not None:
        package.invoice_label = invoice_label.strip()
    if active is not None:
        package.active = bool(active)
    db.session.flush()
    return package


__all__ = ["package_items", "params_from_form", "retire_service", "update_package",
           "update_service"]
