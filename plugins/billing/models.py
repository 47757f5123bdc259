"""Billing's tables (prefix ``billing_``). Money is integer minor units plus a currency code.

Three kinds of rows, three rules:

* **catalogue and subscriptions** (tax classes, services, packages, subscriptions, one-time
  charges, adjustments, per-account billing settings) are edited normally;
* **documents** (invoices, credit notes, their lines) are written once: a finalized document
  is never edited; only its payment status (``paid_amount``, ``status``) moves;
* **the ledger** (``billing_transaction``) and allocations are append-only: a mistake is
  corrected by a new row (a reversal, a void), never by an UPDATE or DELETE.

Unique keys make every money-moving write idempotent: an invoice per account and period
(``billing_invoice.key``), a payment per external reference (``billing_payment.key``), a
gateway attempt per invoice and attempt number (``billing_payment_attempt.idempotency_key``).
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backhaul.sdk import Money, TimestampMixin, UTCDateTime, db, utcnow

QTY = sa.Numeric(18, 6)
RATE = sa.Numeric(9, 4)
ACCOUNT_FK = "core_account.id"

INVOICE_STATUSES = ("draft", "finalized", "partially_paid", "paid", "void")
OPEN_STATUSES = ("finalized", "partially_paid")
TRANSACTION_KINDS = ("invoice", "credit_note", "void", "payment", "reversal", "refund")
PAYMENT_METHODS = ("cash", "cheque", "bank_transfer", "card", "autopay", "other")


def _in(column: str, values) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class TaxClass(TimestampMixin, db.Model):
    """A tax rate that services point at ("standard" 20 %, "reduced" 5 %, "exempt" 0 %)."""

    __tablename__ = "billing_tax_class"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(32), unique=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    rate: Mapped[Decimal] = mapped_column(RATE)  # percent: 20.0000

    __table_args__ = (sa.CheckConstraint("rate >= 0 AND rate <= 100", name="rate"),)


class Service(TimestampMixin, db.Model):
    """A sellable service of a registered service type (data, voice, general, rent...)."""

    __tablename__ = "billing_service"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200), unique=True)
    type_key: Mapped[str] = mapped_column(sa.String(64))
    params: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    price_amount: Mapped[int] = mapped_column(sa.BigInteger)
    currency: Mapped[str] = mapped_column(sa.String(3))
    frequency: Mapped[str] = mapped_column(sa.String(16), default="monthly")
    tax_class_id: Mapped[int | None] = mapped_column(sa.ForeignKey("billing_tax_class.id"))
    invoice_label: Mapped[str] = mapped_column(sa.String(200), default="")
    prorate: Mapped[bool] = mapped_column(default=True)
    active: Mapped[bool] = mapped_column(default=True)

    tax_class: Mapped[TaxClass | None] = relationship(lazy="joined")

    __table_args__ = (
        sa.CheckConstraint("price_amount >= 0", name="price"),
        sa.CheckConstraint(_in("frequency", ("monthly", "quarterly", "yearly")),
                           name="frequency"),
    )

    @property
    def price(self) -> Money:
        return Money(self.price_amount, self.currency)

    @property
    def label(self) -> str:
        return self.invoice_label or self.name


class Package(TimestampMixin, db.Model):
    """A bundle of services, priced as the package (``price``) or as the sum of its parts."""

    __tablename__ = "billing_package"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200), unique=True)
    pricing: Mapped[str] = mapped_column(sa.String(16), default="package")
    price_amount: Mapped[int | None] = mapped_column(sa.BigInteger)
    currency: Mapped[str] = mapped_column(sa.String(3))
    frequency: Mapped[str] = mapped_column(sa.String(16), default="monthly")
    tax_class_id: Mapped[int | None] = mapped_column(sa.ForeignKey("billing_tax_class.id"))
    invoice_label: Mapped[str] = mapped_column(sa.String(200), default="")
    prorate: Mapped[bool] = mapped_column(default=True)
    active: Mapped[bool] = mapped_column(default=True)

    tax_class: Mapped[TaxClass | None] = relationship(lazy="joined")
    items: Mapped[list[PackageItem]] = relationship(back_populates="package",
                                                    cascade="all, delete-orphan",
                                                    order_by="PackageItem.id")

    __table_args__ = (
        sa.CheckConstraint(_in("pricing", ("package", "sum")), name="pricing"),
        sa.CheckConstraint("pricing = 'sum' OR price_amount IS NOT NULL", name="price"),
    )

    @property
    def label(self) -> str:
        return self.invoice_label or self.name


class PackageItem(db.Model):
    __tablename__ = "billing_package_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    package_id: Mapped[int] = mapped_column(
        sa.ForeignKey("billing_package.id", ondelete="CASCADE"))
    service_id: Mapped[int] = mapped_column(sa.ForeignKey("billing_service.id"))
    quantity: Mapped[int] = mapped_column(default=1)

    package: Mapped[Package] = relationship(back_populates="items")
    service: Mapped[Service] = relationship(lazy="joined")

    __table_args__ = (sa.UniqueConstraint("package_id", "service_id"),
                      sa.CheckConstraint("quantity > 0", name="quantity"))


class BillingAccount(TimestampMixin, db.Model):
    """An account's billing settings; ``None`` fields fall back to the system defaults."""

    __tablename__ = "billing_account"

    account_id: Mapped[int] = mapped_column(sa.ForeignKey(ACCOUNT_FK), primary_key=True)
    currency: Mapped[str] = mapped_column(sa.String(3))
    billing_day: Mapped[int] = mapped_column()
    #: the start of the next period to invoice; None until something is subscribed
    next_period_start: Mapped[date | None] = mapped_column(sa.Date, index=True)
    due_days: Mapped[int | None] = mapped_column()
    grace_days: Mapped[int | None] = mapped_column()
    autopay: Mapped[bool | None] = mapped_column()
    delivery: Mapped[str | None] = mapped_column(sa.String(16))
    tax_exempt: Mapped[bool] = mapped_column(default=False)
    delinquency_excluded: Mapped[bool] = mapped_column(default=False)

    __table_args__ = (
        sa.CheckConstraint("billing_day BETWEEN 1 AND 31", name="billing_day"),
        sa.CheckConstraint("delivery IS NULL OR " + _in("delivery", ("email", "printed")),
                           name="delivery"),
    )


class Subscription(TimestampMixin, db.Model):
    """A service or package line on an account, from ``start_date`` to ``end_date``."""

    __tablename__ = "billing_subscription"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey(ACCOUNT_FK), index=True)
    service_id: Mapped[int | None] = mapped_column(sa.ForeignKey("billing_service.id"))
    package_id: Mapped[int | None] = mapped_column(sa.ForeignKey("billing_package.id"))
    quantity: Mapped[int] = mapped_column(default=1)
    price_override_amount: Mapped[int | None] = mapped_column(sa.BigInteger)
    price_override_currency: Mapped[str | None] = mapped_column(sa.String(3))
    start_date: Mapped[date] = mapped_column(sa.Date)
    end_date: Mapped[date | None] = mapped_column(sa.Date)
    #: exclusive end of the service time already invoiced (see proration.py)
    billed_through: Mapped[date | None] = mapped_column(sa.Date)
    description: Mapped[str] = mapped_column(sa.String(200), default="")
    #: the subscription this one continues (a price or service change splits the line)
    previous_id: Mapped[int | None] = mapped_column(sa.ForeignKey("billing_subscription.id"))

    service: Mapped[Service | None] = relationship(lazy="joined")
    package: Mapped[Package | None] = relationship(lazy="joined")

    __table_args__ = (
        sa.CheckConstraint("(service_id IS NULL) <> (package_id IS NULL)", name="target"),
        sa.CheckConstraint("quantity > 0", name="quantity"),
        sa.CheckConstraint("end_date IS NULL OR end_date > start_date", name="dates"),
    )

    @property
    def item(self) -> Service | Package:
        return self.service or self.package

    @property
    def price_override(self) -> Money | None:
        if self.price_override_amount is None:
            return None
        return Money(self.price_override_amount, self.price_override_currency)


class Charge(TimestampMixin, db.Model):
    """A one-time charge, billed on the first invoice after ``charge_date``."""

    __tablename__ = "billing_charge"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey(ACCOUNT_FK), index=True)
    service_id: Mapped[int | None] = mapped_column(sa.ForeignKey("billing_service.id"))
    description: Mapped[str] = mapped_column(sa.String(200))
    quantity: Mapped[Decimal] = mapped_column(QTY, default=Decimal(1))
    unit_price_amount: Mapped[int] = mapped_column(sa.BigInteger)
    currency: Mapped[str] = mapped_column(sa.String(3))
    tax_class_id: Mapped[int | None] = mapped_column(sa.ForeignKey("billing_tax_class.id"))
    charge_date: Mapped[date] = mapped_column(sa.Date)
    invoice_id: Mapped[int | None] = mapped_column(sa.ForeignKey("billing_invoice.id"),
                                                   index=True)
    key: Mapped[str | None] = mapped_column(sa.String(120), unique=True)

    __table_args__ = (sa.CheckConstraint("quantity > 0", name="quantity"),)


class Adjustment(TimestampMixin, db.Model):
    """A discount or credit on an account (or one of its subscriptions)."""

    __tablename__ = "billing_adjustment"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey(ACCOUNT_FK), index=True)
    subscription_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("billing_subscription.id"))
    kind: Mapped[str] = mapped_column(sa.String(16), default="discount")
    mode: Mapped[str] = mapped_column(sa.String(16))
    amount: Mapped[int | None] = mapped_column(sa.BigInteger)
    currency: Mapped[str | None] = mapped_column(sa.String(3))
    percent: Mapped[Decimal | None] = mapped_column(RATE)
    recurring: Mapped[bool] = mapped_column(default=False)
    start_date: Mapped[date] = mapped_column(sa.Date)
    end_date: Mapped[date | None] = mapped_column(sa.Date)
    #: one-time fixed credits: what is left to apply; one-time adjustments: done when 0
    remaining: Mapped[int | None] = mapped_column(sa.BigInteger)
    exhausted: Mapped[bool] = mapped_column(default=False)
    label: Mapped[str] = mapped_column(sa.String(200), default="")

    __table_args__ = (
        sa.CheckConstraint(_in("kind", ("discount", "credit")), name="kind"),
        sa.CheckConstraint(
            "(mode = 'fixed' AND amount > 0 AND currency IS NOT NULL AND percent IS NULL) OR "
            "(mode = 'percent' AND percent > 0 AND percent <= 100 AND amount IS NULL)",
            name="mode"),
    )


class InvoiceCounter(db.Model):
    """The next number of each series; locked ``FOR UPDATE`` while numbers are taken."""

    __tablename__ = "billing_invoice_counter"

    series: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    next_number: Mapped[int] = mapped_column(sa.BigInteger, default=1)


class Invoice(TimestampMixin, db.Model):
    """An invoice or a credit note (``kind``). Drafts have no number and can change."""

    __tablename__ = "billing_invoice"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey(ACCOUNT_FK))
    kind: Mapped[str] = mapped_column(sa.String(16), default="invoice")
    series: Mapped[str] = mapped_column(sa.String(16), default="INV")
    number: Mapped[int | None] = mapped_column(sa.BigInteger)
    status: Mapped[str] = mapped_column(sa.String(16), default="draft")
    currency: Mapped[str] = mapped_column(sa.String(3))
    issue_date: Mapped[date | None] = mapped_column(sa.Date)
    due_date: Mapped[date | None] = mapped_column(sa.Date)
    period_start: Mapped[date | None] = mapped_column(sa.Date)
    period_end: Mapped[date | None] = mapped_column(sa.Date)
    subtotal_amount: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    tax_amount: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    total_amount: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    paid_amount: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    #: idempotency: "period:<account>:<start>", "late_fee:<invoice>", "reconnect:<...>"
    key: Mapped[str | None] = mapped_column(sa.String(120), unique=True)
    run_id: Mapped[int | None] = mapped_column(sa.ForeignKey("billing_run.id"), index=True)
    credited_invoice_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("billing_invoice.id"), index=True)
    finalized_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    void_reason: Mapped[str] = mapped_column(sa.String(500), default="")
    memo: Mapped[str] = mapped_column(sa.String(500), default="")

    lines: Mapped[list[InvoiceLine]] = relationship(
        back_populates="invoice", cascade="all, delete-orphan", order_by="InvoiceLine.position")

    __table_args__ = (
        sa.UniqueConstraint("series", "number"),
        sa.Index("ix_billing_invoice_account_status", "account_id", "status"),
        sa.Index("ix_billing_invoice_status_due", "status", "due_date"),
        sa.CheckConstraint(_in("status", INVOICE_STATUSES), name="status"),
        sa.CheckConstraint(_in("kind", ("invoice", "credit_note")), name="kind"),
        sa.CheckConstraint("status = 'draft' OR number IS NOT NULL", name="numbered"),
        sa.CheckConstraint("paid_amount >= 0 AND paid_amount <= total_amount", name="paid"),
    )

    def money(self, amount: int) -> Money:
        return Money(amount, self.currency)

    @property
    def total(self) -> Money:
        return self.money(self.total_amount)

    @property
    def amount_due(self) -> Money:
        if self.status not in OPEN_STATUSES:
            return self.money(0)
        return self.money(self.total_amount - self.paid_amount)

    @property
    def display_number(self) -> str:
        return f"{self.series}-{self.number:06d}" if self.number is not None else "DRAFT"


class InvoiceLine(db.Model):
    __tablename__ = "billing_invoice_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(
        sa.ForeignKey("billing_invoice.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    kind: Mapped[str] = mapped_column(sa.String(16))
    description: Mapped[str] = mapped_column(sa.String(300))
    quantity: Mapped[Decimal] = mapped_column(QTY)
    unit_price_amount: Mapped[int] = mapped_column(sa.BigInteger)
    amount: Mapped[int] = mapped_column(sa.BigInteger)
    tax_class: Mapped[str | None] = mapped_column(sa.String(32))
    tax_rate: Mapped[Decimal] = mapped_column(RATE, default=Decimal(0))
    tax_amount: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    period_start: Mapped[date | None] = mapped_column(sa.Date)
    period_end: Mapped[date | None] = mapped_column(sa.Date)
    subscription_id: Mapped[int | None] = mapped_column(sa.ForeignKey("billing_subscription.id"))
    charge_id: Mapped[int | None] = mapped_column(sa.ForeignKey("billing_charge.id"))
    adjustment_id: Mapped[int | None] = mapped_column(sa.ForeignKey("billing_adjustment.id"))
    source: Mapped[str] = mapped_column(sa.String(64), default="billing")

    invoice: Mapped[Invoice] = relationship(back_populates="lines")


class Payment(TimestampMixin, db.Model):
    """Money received (cash, cheque, transfer, card...). Reversed, never deleted."""

    __tablename__ = "billing_payment"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey(ACCOUNT_FK), index=True)
    amount: Mapped[int] = mapped_column(sa.BigInteger)
    currency: Mapped[str] = mapped_column(sa.String(3))
    method: Mapped[str] = mapped_column(sa.String(16))
    reference: Mapped[str] = mapped_column(sa.String(200), default="")
    received_on: Mapped[date] = mapped_column(sa.Date)
    status: Mapped[str] = mapped_column(sa.String(16), default="completed")
    key: Mapped[str | None] = mapped_column(sa.String(200), unique=True)
    recorded_by: Mapped[str] = mapped_column(sa.String(200), default="")
    refunded_amount: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    reversed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reversal_reason: Mapped[str] = mapped_column(sa.String(500), default="")
    memo: Mapped[str] = mapped_column(sa.String(500), default="")

    __table_args__ = (
        sa.CheckConstraint("amount > 0", name="amount"),
        sa.CheckConstraint(_in("status", ("completed", "reversed")), name="status"),
        sa.CheckConstraint(_in("method", PAYMENT_METHODS), name="method"),
        sa.CheckConstraint("refunded_amount >= 0 AND refunded_amount <= amount", name="refund"),
    )

    @property
    def money(self) -> Money:
        return Money(self.amount, self.currency)


class Allocation(db.Model):
    """Part of a payment or credit note applied to an invoice (negative: taken back)."""

    __tablename__ = "billing_allocation"

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(sa.ForeignKey("billing_invoice.id"), index=True)
    payment_id: Mapped[int | None] = mapped_column(sa.ForeignKey("billing_payment.id"),
                                                   index=True)
    credit_note_id: Mapped[int | None] = mapped_column(sa.ForeignKey("billing_invoice.id"),
                                                       index=True)
    amount: Mapped[int] = mapped_column(sa.BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        sa.CheckConstraint("(payment_id IS NULL) <> (credit_note_id IS NULL)", name="source"),
        sa.CheckConstraint("amount <> 0", name="amount"),
    )


class Transaction(db.Model):
    """One ledger row: positive = the customer owes more, negative = owes less."""

    __tablename__ = "billing_transaction"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey(ACCOUNT_FK), index=True)
    kind: Mapped[str] = mapped_column(sa.String(16))
    amount: Mapped[int] = mapped_column(sa.BigInteger)
    currency: Mapped[str] = mapped_column(sa.String(3))
    invoice_id: Mapped[int | None] = mapped_column(sa.ForeignKey("billing_invoice.id"),
                                                   index=True)
    payment_id: Mapped[int | None] = mapped_column(sa.ForeignKey("billing_payment.id"),
                                                   index=True)
    memo: Mapped[str] = mapped_column(sa.String(300), default="")
    key: Mapped[str | None] = mapped_column(sa.String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (sa.CheckConstraint(_in("kind", TRANSACTION_KINDS), name="kind"),)


class PaymentMethod(TimestampMixin, db.Model):
    """A stored payment method (a gateway's token, never card data)."""

    __tablename__ = "billing_payment_method"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey(ACCOUNT_FK), index=True)
    gateway: Mapped[str] = mapped_column(sa.String(64))
    method_ref: Mapped[str] = mapped_column(sa.String(200))
    label: Mapped[str] = mapped_column(sa.String(100), default="")
    is_default: Mapped[bool] = mapped_column(default=True)


class PaymentAttempt(TimestampMixin, db.Model):
    """One charge attempt through a gateway; written (and committed) before the call."""

    __tablename__ = "billing_payment_attempt"

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(sa.ForeignKey("billing_invoice.id"), index=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey(ACCOUNT_FK), index=True)
    attempt_no: Mapped[int] = mapped_column()
    idempotency_key: Mapped[str] = mapped_column(sa.String(200), unique=True)
    gateway: Mapped[str] = mapped_column(sa.String(64))
    method_ref: Mapped[str] = mapped_column(sa.String(200))
    amount: Mapped[int] = mapped_column(sa.BigInteger)
    currency: Mapped[str] = mapped_column(sa.String(3))
    #: requested (written, gateway not answered yet), processed, pending, error, undefined,
    #: canceled
    status: Mapped[str] = mapped_column(sa.String(16), default="requested")
    reference: Mapped[str | None] = mapped_column(sa.String(200), index=True)
    message: Mapped[str] = mapped_column(sa.String(500), default="")
    payment_id: Mapped[int | None] = mapped_column(sa.ForeignKey("billing_payment.id"))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    late: Mapped[bool] = mapped_column(default=False)

    __table_args__ = (sa.UniqueConstraint("invoice_id", "attempt_no"),)


class Run(TimestampMixin, db.Model):
    """One billing run: what it billed, what failed, and where it stopped."""

    __tablename__ = "billing_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_date: Mapped[date] = mapped_column(sa.Date)
    status: Mapped[str] = mapped_column(sa.String(24), default="running")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    accounts_due: Mapped[int] = mapped_column(default=0)
    invoiced: Mapped[int] = mapped_column(default=0)
    empty: Mapped[int] = mapped_column(default=0)
    failed: Mapped[int] = mapped_column(default=0)
    triggered_by: Mapped[str] = mapped_column(sa.String(200), default="")
    error: Mapped[str | None] = mapped_column(sa.Text)

    __table_args__ = (sa.CheckConstraint(
        _in("status", ("running", "completed", "completed_with_errors", "failed")),
        name="status"),)


class RunItem(db.Model):
    """A run's account that got no invoice for a period: nothing to bill (``empty``) or
    ``failed`` (with the error). Invoiced accounts are on record through ``Invoice.run_id``;
    ``invoiced`` items are only written by older versions (kept valid)."""

    __tablename__ = "billing_run_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(sa.ForeignKey("billing_run.id", ondelete="CASCADE"),
                                        index=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey(ACCOUNT_FK), index=True)
    period_start: Mapped[date] = mapped_column(sa.Date)
    status: Mapped[str] = mapped_column(sa.String(16))
    invoice_id: Mapped[int | None] = mapped_column(sa.ForeignKey("billing_invoice.id"))
    error: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (sa.UniqueConstraint("run_id", "account_id", "period_start"),)


class Delinquency(db.Model):
    """The delinquency state machine's state for one account (see delinquency.py)."""

    __tablename__ = "billing_delinquency"

    account_id: Mapped[int] = mapped_column(sa.ForeignKey(ACCOUNT_FK), primary_key=True)
    state: Mapped[str] = mapped_column(sa.String(16), default="current")
    since: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    reason: Mapped[str] = mapped_column(sa.String(500), default="")
    previous_status: Mapped[str | None] = mapped_column(sa.String(32))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    __table_args__ = (sa.CheckConstraint(_in("state", ("current", "delinquent")),
                                         name="state"),)


__all__ = ["Adjustment", "Allocation", "BillingAccount", "Charge", "Delinquency", "Invoice",
           "InvoiceCounter", "InvoiceLine", "Package", "PackageItem", "Payment",
           "PaymentAttempt", "PaymentMethod", "Run", "RunItem", "Service", "Subscription",
           "TaxClass", "Transaction"]


class GatewayEvent(db.Model):
    """A processor's event (or a staff refund) acted on once: the row is written in the same
    transaction as its effects, so a duplicate delivery finds it and changes nothing."""

    __tablename__ = "billing_gateway_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    gateway: Mapped[str] = mapped_column(sa.String(64))
    event_id: Mapped[str] = mapped_column(sa.String(200))
    type: Mapped[str] = mapped_column(sa.String(100), default="")
    key: Mapped[str] = mapped_column(sa.String(200), default="")
    result: Mapped[str] = mapped_column(sa.String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (sa.UniqueConstraint("gateway", "event_id"),)
