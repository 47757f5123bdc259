"""Billing settings: system-wide defaults (``[plugins.billing]``) and per-account overrides.

Money settings are written as major-unit strings ("5.00") in the default currency and parsed
into :class:`Money` once, here. An account's effective settings are its
``billing_account`` row's non-null fields over these defaults (:func:`effective`).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from backhaul.sdk import Money, current_plugin_settings

from .allocation import ORDERS

_MONEY = fields.String(load_default="0")


class BillingSettings(Schema):
    """``[plugins.billing]``. Every key has a default; see the module docstring."""

    currency = fields.String(load_default="USD", validate=validate.Regexp(r"^[A-Z]{3}$"))
    #: printed on invoices
    company_name = fields.String(load_default="Backhaul ISP")
    company_address = fields.List(fields.String(), load_default=list)
    #: VAT / GST / tax registration number printed under the address ("" = none)
    company_tax_number = fields.String(load_default="")
    company_email = fields.String(load_default="")
    company_phone = fields.String(load_default="")
    #: how to pay, printed at the foot of every invoice (lines; the invoice number is added
    #: as the payment reference)
    payment_instructions = fields.List(fields.String(), load_default=list)
    #: "anniversary" (the day of the first subscription) or a fixed day 1-31
    billing_day = fields.String(load_default="1")
    due_days = fields.Integer(load_default=14, validate=validate.Range(min=0, max=365))
    grace_days = fields.Integer(load_default=5, validate=validate.Range(min=0, max=365))
    autopay = fields.Boolean(load_default=False)
    delivery = fields.String(load_default="email", validate=validate.OneOf(["email", "printed"]))
    printed_invoice_fee = _MONEY
    #: late fee: "fixed" amount or "percent" of the amount due, once per invoice, after
    #: due date + late_fee_after_days
    late_fee_mode = fields.String(load_default="fixed",
                                  validate=validate.OneOf(["fixed", "percent"]))
    late_fee = fields.String(load_default="0")
    late_fee_after_days = fields.Integer(load_default=7, validate=validate.Range(min=0))
    reconnection_fee = _MONEY
    invoice_series = fields.String(load_default="INV", validate=validate.Regexp(r"^[A-Z]{1,8}$"))
    credit_note_series = fields.String(load_default="CN",
                                       validate=validate.Regexp(r"^[A-Z]{1,8}$"))
    allocation_order = fields.String(load_default="oldest_first",
                                     validate=validate.OneOf(list(ORDERS)))
    #: a payment may leave at most this much credit on the account ("" = no limit)
    max_overpayment = fields.String(load_default="")
    #: the status a delinquent account gets, and the one it gets back by default
    delinquent_status = fields.String(load_default="delinquent")
    restored_status = fields.String(load_default="active")
    #: ISO dates on which nobody becomes delinquent (holidays, storms...)
    delinquency_excluded_dates = fields.List(fields.Date(), load_default=list)
    #: days after a failed auto-pay attempt to try again
    dunning_schedule = fields.List(fields.Integer(validate=validate.Range(min=0)),
                                   load_default=lambda: [1, 3, 7])
    #: what a move-out does to a period billed in advance: "prorate" credits the unused
    #: days of prorated services, "none" lets the lines run to where they are billed
    move_out_credit = fields.String(load_default="prorate",
                                    validate=validate.OneOf(["prorate", "none"]))
    #: accounts per transaction in the billing run
    run_chunk_size = fields.Integer(load_default=1000, validate=validate.Range(min=1,
                                                                                max=20000))

    @validates_schema
    def _check(self, data, **_):
        day = data["billing_day"]
        if day != "anniversary" and not (day.isdigit() and 1 <= int(day) <= 31):
            raise ValidationError("use 'anniversary' or a day 1-31", "billing_day")
        for key in ("printed_invoice_fee", "reconnection_fee", "max_overpayment"):
            if data[key]:
                try:
                    Money.parse(data[key], data["currency"])
                except ValueError as exc:
                    raise ValidationError(str(exc), key) from None
        try:
            Decimal(data["late_fee"])
        except ArithmeticError:
            raise ValidationError("a number", "late_fee") from None


@dataclass(frozen=True)
class Defaults:
    currency: str
    company_name: str
    company_address: tuple[str, ...]
    billing_day: str
    due_days: int
    grace_days: int
    autopay: bool
    delivery: str
    printed_invoice_fee: Money
    late_fee_mode: str
    late_fee: Decimal
    late_fee_after_days: int
    reconnection_fee: Money
    invoice_series: str
    credit_note_series: str
    allocation_order: str
    max_overpayment: Money | None
    delinquent_status: str
    restored_status: str
    delinquency_excluded_dates: tuple[date, ...]
    dunning_schedule: tuple[int, ...]
    run_chunk_size: int
    company_tax_number: str = ""
    company_email: str = ""
    company_phone: str = ""
    payment_instructions: tuple[str, ...] = ()


def load(raw: dict | None = None) -> Defaults:
    """The validated defaults (from ``raw``, or the running app's plugin settings)."""
    if raw is not None:
        data = BillingSettings().load(raw)
    else:
        data = (current_plugin_settings("billing") if _in_app() else None) or (
            BillingSettings().load({}))
    cur = data["currency"]
    return Defaults(
        currency=cur, company_name=data["company_name"],
        company_address=tuple(data["company_address"]), billing_day=data["billing_day"], due_days=data["due_days"],
        grace_days=data["grace_days"], autopay=data["autopay"], delivery=data["delivery"],
        printed_invoice_fee=Money.parse(data["printed_invoice_fee"] or "0", cur),
        late_fee_mode=data["late_fee_mode"], late_fee=Decimal(data["late_fee"]),
        late_fee_after_days=data["late_fee_after_days"],
        reconnection_fee=Money.parse(data["reconnection_fee"] or "0", cur),
        invoice_series=data["invoice_series"], credit_note_series=data["credit_note_series"],
        allocation_order=data["allocation_order"],
        max_overpayment=Money.parse(data["max_overpayment"], cur) if data["max_overpayment"]
        else None,
        delinquent_status=data["delinquent_status"], restored_status=data["restored_status"],
        delinquency_excluded_dates=tuple(data["delinquency_excluded_dates"]),
        dunning_schedule=tuple(data["dunning_schedule"]), run_chunk_size=data["run_chunk_size"],
        company_tax_number=data.get("company_tax_number", ""),
        company_email=data.get("company_email", ""),
        company_phone=data.get("company_phone", ""),
        payment_instructions=tuple(data.get("payment_instructions") or ()))


def _in_app() -> bool:
    from flask import has_app_context

    return has_app_context()


@dataclass(frozen=True)
class Effective:
    """One account's settings after applying its overrides."""

    currency: str
    billing_day: int
    due_days: int
    grace_days: int
    autopay: bool
    delivery: str
    tax_exempt: bool
    delinquency_excluded: bool


def effective(row, defaults: Defaults) -> Effective:
    """Merge a ``BillingAccount`` row (or any object with the same fields) over ``defaults``."""
    def pick(name):
        value = getattr(row, name)
        return getattr(defaults, name) if value is None else value

    return Effective(currency=row.currency, billing_day=row.billing_day,
                     due_days=pick("due_days"), grace_days=pick("grace_days"),
                     autopay=pick("autopay"), delivery=pick("delivery"),
                     tax_exempt=bool(row.tax_exempt),
                     delinquency_excluded=bool(row.delinquency_excluded))


__all__ = ["BillingSettings", "Defaults", "Effective", "effective", "load"]
