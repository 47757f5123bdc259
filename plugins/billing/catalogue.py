"""The service catalogue: built-in service types, tax classes, services and packages.

Service types come through the core's ``service_types`` extension point: billing registers
the five built-in ones below; another plugin may add its own (a ``ServiceType`` subclass) and
services of that type are billed the same way.

A catalogue price change applies from the next invoice of every subscriber without a price
override; periods already invoiced are never re-rated (schedule a price change on the
subscriptions for a dated, prorated change: see ``subscriptions.py``).
"""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

import sqlalchemy as sa
from marshmallow import Schema, fields, validate

from backhaul.sdk import Money, ServiceType, db, registered

from .cycles import FREQUENCIES
from .errors import clean_text, invalid
from .models import Package, PackageItem, Service, TaxClass

_POSITIVE = validate.Range(min=1)


class NoParameters(Schema):
    """Services of this type have no parameters of their own (unknown keys are refused)."""


class DataParameters(Schema):
    download_mbps = fields.Integer(required=True, validate=_POSITIVE)
    upload_mbps = fields.Integer(required=True, validate=_POSITIVE)
    burst_download_mbps = fields.Integer(load_default=None, validate=_POSITIVE)
    burst_upload_mbps = fields.Integer(load_default=None, validate=_POSITIVE)
    #: monthly data allowance in GB; None: unlimited
    allowance_gb = fields.Integer(load_default=None, validate=validate.Range(min=0))
    #: fair usage: kbit/s (both ways) once the allowance is used, until the period ends or
    #: a top-up lifts it (applied by the usage plugin); None: no throttle
    fair_usage_kbps = fields.Integer(load_default=None, validate=validate.Range(8, 10_000_000))


class VoiceParameters(Schema):
    phone_lines = fields.Integer(load_default=1, validate=_POSITIVE)
    included_minutes = fields.Integer(load_default=None, validate=validate.Range(min=0))


class GeneralParameters(Schema):
    #: IPTV channels, or what an extra usage pack adds
    channels = fields.List(fields.String(), load_default=list)
    extra_gb = fields.Integer(load_default=None, validate=validate.Range(min=0))


class DataService(ServiceType):
    key = "data"
    label = "Data (internet access)"
    parameters_schema = DataParameters
    provisioned = True

    def describe(self, params: dict) -> str:
        text = f"{params['download_mbps']}/{params['upload_mbps']} Mbps"
        if params.get("allowance_gb") is not None:
            text += f", {params['allowance_gb']} GB"
        return text


class VoiceService(ServiceType):
    key = "voice"
    label = "Voice"
    parameters_schema = VoiceParameters
    provisioned = True

    def describe(self, params: dict) -> str:
        lines = params.get("phone_lines", 1)
        return f"Voice, {lines} line{'s' if lines != 1 else ''}"


class GeneralService(ServiceType):
    key = "general"
    label = "General (IPTV, extra usage packs...)"
    parameters_schema = GeneralParameters


class RecurringService(ServiceType):
    key = "recurring"
    label = "Recurring non-data (rent, maintenance fees...)"
    parameters_schema = NoParameters


class OneTimeService(ServiceType):
    key = "one_time"
    label = "One-time charge (installation, equipment...)"
    parameters_schema = NoParameters
    charge = "one_time"


BUILTIN_SERVICE_TYPES = (DataService, VoiceService, GeneralService, RecurringService,
                         OneTimeService)


# ------------------------------------------------------------------------------ helpers
def money(value: Money | str | int, currency: str, field: str = "price") -> Money:
    """A Money from a Money or a major-unit string; bad input names ``field``."""
    if isinstance(value, Money):
        if value.currency != currency:
            raise invalid(field, f"is in {value.currency} but must be in {currency}")
        return value
    try:
        return Money.parse(value, currency)
    except (ValueError, TypeError) as exc:
        raise invalid(field, str(exc)) from None


def _frequency(value: str) -> str:
    if value not in FREQUENCIES:
        raise invalid("frequency", f"must be one of {', '.join(FREQUENCIES)}")
    return value


def _tax_class(key: str | None) -> TaxClass | None:
    if key is None:
        return None
    tax = db.session.scalar(sa.select(TaxClass).where(TaxClass.key == key))
    if tax is None:
        raise invalid("tax_class", f"no tax class '{key}': create it first")
    return tax


def service_type(key: str) -> ServiceType:
    types = registered("service_types")
    if key not in types:
        raise invalid("type", f"unknown service type '{key}'; known: {', '.join(sorted(types))}")
    return types[key]


def tax_rates() -> dict[str, Decimal]:
    return dict(db.session.execute(sa.select(TaxClass.key, TaxClass.rate)).all())


# ------------------------------------------------------------------------------ writes
def create_tax_class(key: str, name: str, rate: str | Decimal) -> TaxClass:
    try:
        value = Decimal(str(rate))
    except InvalidOperation:
        raise invalid("rate", "must be a percentage such as 20 or 7.5") from None
    if not 0 <= value <= 100:
        raise invalid("rate", "must be between 0 and 100 (percent)")
    if db.session.scalar(sa.select(TaxClass.id).where(TaxClass.key == key)):
        raise invalid("key", f"tax class '{key}' already exists")
    tax = TaxClass(key=key, name=name, rate=value)
    db.session.add(tax)
    db.session.flush()
    return tax


def create_service(name: str, type: str, price: Money | str, *, currency: str,
                   frequency: str = "monthly", tax_class: str | None = None,
                   invoice_label: str = "", prorate: bool = True,
                   params: dict | None = None) -> Service:
    """Validate and add a service. Raises ``ValidationError`` naming the bad field."""
    name = clean_text("name", name, max_length=200)
    invoice_label = clean_text("invoice_label", invoice_label, max_length=200, required=False)
    stype = service_type(type)
    params = stype.validate_parameters(params or {})
    amount = money(price, currency)
    if amount.amount < 0:
        raise invalid("price", "must not be negative (use an adjustment for a discount)")
    if db.session.scalar(sa.select(Service.id).where(Service.name == name)):
        raise invalid("name", f"a service named '{name}' already exists")
    service = Service(name=name, type_key=stype.key, params=params, price_amount=amount.amount,
                      currency=currency, frequency=_frequency(frequency),
                      tax_class=_tax_class(tax_class), invoice_label=invoice_label,
                      prorate=prorate)
    db.session.add(service)
    db.session.flush()
    return service


def set_service_price(service: Service, price: Money | str) -> Service:
    """Change the catalogue price (applies from every subscriber's next invoice)."""
    amount = money(price, service.currency)
    if amount.amount < 0:
        raise invalid("price", "must not be negative")
    service.price_amount = amount.amount
    db.session.flush()
    return service


def is_one_time(service: Service) -> bool:
    stype = registered("service_types").get(service.type_key)
    return stype is not None and stype.charge == "one_time"


def create_package(name: str, items: list[tuple[Service, int]], *, currency: str,
                   pricing: str = "package", price: Money | str | None = None,
                   frequency: str = "monthly", tax_class: str | None = None,
                   invoice_label: str = "", prorate: bool = True) -> Package:
    """A bundle. ``pricing="sum"`` bills each component at its own price (and tax class)."""
    name = clean_text("name", name, max_length=200)
    if pricing not in ("package", "sum"):
        raise invalid("pricing", "must be 'package' (one price) or 'sum' (sum of the parts)")
    if not items:
        raise invalid("items", "a package needs at least one service")
    for service, quantity in items:
        if quantity <= 0:
            raise invalid("items", f"quantity of '{service.name}' must be positive")
        if service.currency != currency:
            raise invalid("items", f"'{service.name}' is priced in {service.currency}, the "
                                   f"package in {currency}")
        if is_one_time(service):
            raise invalid("items", f"'{service.name}' is a one-time charge: add it as a charge")
        if pricing == "sum" and service.frequency != frequency:
            raise invalid("items", f"'{service.name}' is billed {service.frequency} but the "
                                   f"package {frequency}: use one frequency for all parts")
    amount = None
    if pricing == "package":
        if price is None:
            raise invalid("price", "a package priced as a whole needs a price")
        amount = money(price, currency).amount
        if amount < 0:
            raise invalid("price", "must not be negative")
    if db.session.scalar(sa.select(Package.id).where(Package.name == name)):
        raise invalid("name", f"a package named '{name}' already exists")
    package = Package(name=name, pricing=pricing, price_amount=amount, currency=currency,
                      frequency=_frequency(frequency), tax_class=_tax_class(tax_class),
                      invoice_label=invoice_label, prorate=prorate,
                      items=[PackageItem(service=s, quantity=q) for s, q in items])
    db.session.add(package)
    db.session.flush()
    return package


__all__ = ["BUILTIN_SERVICE_TYPES", "create_package", "create_service", "create_tax_class",
           "is_one_time", "money", "service_type", "set_service_price", "tax_rates"]
