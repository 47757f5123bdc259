"""The plugin's one table: which Stripe customer stands for which Backhaul account."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from backhaul.sdk import TimestampMixin, db


class StripeCustomer(TimestampMixin, db.Model):
    """One Stripe customer per account and Stripe account (``stripe_account``: a tag of the
    publishable key, so a switch from test to live keys makes new customers)."""

    __tablename__ = "payments_stripe_customer"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("core_account.id"), index=True)
    stripe_account: Mapped[str] = mapped_column(sa.String(32))
    customer_id: Mapped[str] = mapped_column(sa.String(100))

    __table_args__ = (sa.UniqueConstraint("account_id", "stripe_account"),)
