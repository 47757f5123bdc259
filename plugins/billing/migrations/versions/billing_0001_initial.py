"""billing: catalogue, subscriptions, invoices, ledger, payments, runs, delinquency

Revision ID: billing_0001
Revises:
Create Date: 2026-11-25

Billing's own Alembic branch ("billing"). It references ``core_account``, hence
``depends_on = "core_0004"``. Matches ``plugins/billing/models.py`` exactly (constraint names
follow the naming convention in ``backhaul.core.db``); ``tests/plugins/billing`` compares the
migrated schema with the models.
"""
import sqlalchemy as sa
from alembic import op

revision = "billing_0001"
down_revision = None
branch_labels = ("billing",)
depends_on = "core_0004"

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table('billing_invoice_counter',
    sa.Column('series', sa.String(length=16), nullable=False),
    sa.Column('next_number', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('series', name='pk_billing_invoice_counter')
    )
    op.create_table('billing_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_date', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('started_at', TS, nullable=False),
    sa.Column('finished_at', TS, nullable=True),
    sa.Column('accounts_due', sa.Integer(), nullable=False),
    sa.Column('invoiced', sa.Integer(), nullable=False),
    sa.Column('empty', sa.Integer(), nullable=False),
    sa.Column('failed', sa.Integer(), nullable=False),
    sa.Column('triggered_by', sa.String(length=200), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('created_at', TS, nullable=False),
    sa.Column('updated_at', TS, nullable=False),
    sa.CheckConstraint("status IN ('running', 'completed', 'completed_with_errors', 'failed')", name='ck_billing_run_status'),
    sa.PrimaryKeyConstraint('id', name='pk_billing_run')
    )
    op.create_table('billing_tax_class',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('rate', sa.Numeric(precision=9, scale=4), nullable=False),
    sa.Column('created_at', TS, nullable=False),
    sa.Column('updated_at', TS, nullable=False),
    sa.CheckConstraint('rate >= 0 AND rate <= 100', name='ck_billing_tax_class_rate'),
    sa.PrimaryKeyConstraint('id', name='pk_billing_tax_class'),
    sa.UniqueConstraint('key', name='uq_billing_tax_class_key')
    )
    op.create_table('billing_package',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('pricing', sa.String(length=16), nullable=False),
    sa.Column('price_amount', sa.BigInteger(), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('frequency', sa.String(length=16), nullable=False),
    sa.Column('tax_class_id', sa.Integer(), nullable=True),
    sa.Column('invoice_label', sa.String(length=200), nullable=False),
    sa.Column('prorate', sa.Boolean(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', TS, nullable=False),
    sa.Column('updated_at', TS, nullable=False),
    sa.CheckConstraint("pricing = 'sum' OR price_amount IS NOT NULL", name='ck_billing_package_price'),
    sa.CheckConstraint("pricing IN ('package', 'sum')", name='ck_billing_package_pricing'),
    sa.ForeignKeyConstraint(['tax_class_id'], ['billing_tax_class.id'], name='fk_billing_package_tax_class_id_billing_tax_class'),
    sa.PrimaryKeyConstraint('id', name='pk_billing_package'),
    sa.UniqueConstraint('name', name='uq_billing_package_name')
    )
    op.create_table('billing_service',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('type_key', sa.String(length=64), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('price_amount', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('frequency', sa.String(length=16), nullable=False),
    sa.Column('tax_class_id', sa.Integer(), nullable=True),
    sa.Column('invoice_label', sa.String(length=200), nullable=False),
    sa.Column('prorate', sa.Boolean(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', TS, nullable=False),
    sa.Column('updated_at', TS, nullable=False),
    sa.CheckConstraint("frequency IN ('monthly', 'quarterly', 'yearly')", name='ck_billing_service_frequency'),
    sa.CheckConstraint('price_amount >= 0', name='ck_billing_service_price'),
    sa.ForeignKeyConstraint(['tax_class_id'], ['billing_tax_class.id'], name='fk_billing_service_tax_class_id_billing_tax_class'),
    sa.PrimaryKeyConstraint('id', name='pk_billing_service'),
    sa.UniqueConstraint('name', name='uq_billing_service_name')
    )
    op.create_table('billing_package_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('package_id', sa.Integer(), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.CheckConstraint('quantity > 0', name='ck_billing_package_item_quantity'),
    sa.ForeignKeyConstraint(['package_id'], ['billing_package.id'], name='fk_billing_package_item_package_id_billing_package', ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['service_id'], ['billing_service.id'], name='fk_billing_package_item_service_id_billing_service'),
    sa.PrimaryKeyConstraint('id', name='pk_billing_package_item'),
    sa.UniqueConstraint('package_id', 'service_id', name='uq_billing_package_item_package_id_service_id')
    )
    op.create_table('billing_account',
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('billing_day', sa.Integer(), nullable=False),
    sa.Column('next_period_start', sa.Date(), nullable=True),
    sa.Column('due_days', sa.Integer(), nullable=True),
    sa.Column('grace_days', sa.Integer(), nullable=True),
    sa.Column('autopay', sa.Boolean(), nullable=True),
    sa.Column('delivery', sa.String(length=16), nullable=True),
    sa.Column('tax_exempt', sa.Boolean(), nullable=False),
    sa.Column('delinquency_excluded', sa.Boolean(), nullable=False),
    sa.Column('created_at', TS, nullable=False),
    sa.Column('updated_at', TS, nullable=False),
    sa.CheckConstraint("delivery IS NULL OR delivery IN ('email', 'printed')", name='ck_billing_account_delivery'),
    sa.CheckConstraint('billing_day BETWEEN 1 AND 31', name='ck_billing_account_billing_day'),
    sa.ForeignKeyConstraint(['account_id'], ['core_account.id'], name='fk_billing_account_account_id_core_account'),
    sa.PrimaryKeyConstraint('account_id', name='pk_billing_account')
    )
    op.create_index('ix_billing_account_next_period_start', 'billing_account', ['next_period_start'], unique=False)
    op.create_table('billing_delinquency',
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('since', TS, nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('previous_status', sa.String(length=32), nullable=True),
    sa.Column('updated_at', TS, nullable=False),
    sa.CheckConstraint("state IN ('current', 'delinquent')", name='ck_billing_delinquency_state'),
    sa.ForeignKeyConstraint(['account_id'], ['core_account.id'], name='fk_billing_delinquency_account_id_core_account'),
    sa.PrimaryKeyConstraint('account_id', name='pk_billing_delinquency')
    )
    op.create_table('billing_invoice',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('series', sa.String(length=16), nullable=False),
    sa.Column('number', sa.BigInteger(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('issue_date', sa.Date(), nullable=True),
    sa.Column('due_date', sa.Date(), nullable=True),
    sa.Column('period_start', sa.Date(), nullable=True),
    sa.Column('period_end', sa.Date(), nullable=True),
    sa.Column('subtotal_amount', sa.BigInteger(), nullable=False),
    sa.Column('tax_amount', sa.BigInteger(), nullable=False),
    sa.Column('total_amount', sa.BigInteger(), nullable=False),
    sa.Column('paid_amount', sa.BigInteger(), nullable=False),
    sa.Column('key', sa.String(length=120), nullable=True),
    sa.Column('run_id', sa.Integer(), nullable=True),
    sa.Column('credited_invoice_id', sa.Integer(), nullable=True),
    sa.Column('finalized_at', TS, nullable=True),
    sa.Column('voided_at', TS, nullable=True),
    sa.Column('void_reason', sa.String(length=500), nullable=False),
    sa.Column('memo', sa.String(length=500), nullable=False),
    sa.Column('created_at', TS, nullable=False),
    sa.Column('updated_at', TS, nullable=False),
    sa.CheckConstraint("kind IN ('invoice', 'credit_note')", name='ck_billing_invoice_kind'),
    sa.CheckConstraint("status = 'draft' OR number IS NOT NULL", name='ck_billing_invoice_numbered'),
    sa.CheckConstraint("status IN ('draft', 'finalized', 'partially_paid', 'paid', 'void')", name='ck_billing_invoice_status'),
    sa.CheckConstraint('paid_amount >= 0 AND paid_amount <= total_amount', name='ck_billing_invoice_paid'),
    sa.ForeignKeyConstraint(['account_id'], ['core_account.id'], name='fk_billing_invoice_account_id_core_account'),
    sa.ForeignKeyConstraint(['credited_invoice_id'], ['billing_invoice.id'], name='fk_billing_invoice_credited_invoice_id_billing_invoice'),
    sa.ForeignKeyConstraint(['run_id'], ['billing_run.id'], name='fk_billing_invoice_run_id_billing_run'),
    sa.PrimaryKeyConstraint('id', name='pk_billing_invoice'),
    sa.UniqueConstraint('key', name='uq_billing_invoice_key'),
    sa.UniqueConstraint('series', 'number', name='uq_billing_invoice_series_number')
    )
    op.create_index('ix_billing_invoice_account_status', 'billing_invoice', ['account_id', 'status'], unique=False)
    op.create_index('ix_billing_invoice_credited_invoice_id', 'billing_invoice', ['credited_invoice_id'], unique=False)
    op.create_index('ix_billing_invoice_run_id', 'billing_invoice', ['run_id'], unique=False)
    op.create_index('ix_billing_invoice_status_due', 'billing_invoice', ['status', 'due_date'], unique=False)
    op.create_table('billing_payment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('method', sa.String(length=16), nullable=False),
    sa.Column('reference', sa.String(length=200), nullable=False),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=True),
    sa.Column('recorded_by', sa.String(length=200), nullable=False),
    sa.Column('refunded_amount', sa.BigInteger(), nullable=False),
    sa.Column('reversed_at', TS, nullable=True),
    sa.Column('reversal_reason', sa.String(length=500), nullable=False),
    sa.Column('memo', sa.String(length=500), nullable=False),
    sa.Column('created_at', TS, nullable=False),
    sa.Column('updated_at', TS, nullable=False),
    sa.CheckConstraint("method IN ('cash', 'cheque', 'bank_transfer', 'card', 'autopay', 'other')", name='ck_billing_payment_method'),
    sa.CheckConstraint("status IN ('completed', 'reversed')", name='ck_billing_payment_status'),
    sa.CheckConstraint('amount > 0', name='ck_billing_payment_amount'),
    sa.CheckConstraint('refunded_amount >= 0 AND refunded_amount <= amount', name='ck_billing_payment_refund'),
    sa.ForeignKeyConstraint(['account_id'], ['core_account.id'], name='fk_billing_payment_account_id_core_account'),
    sa.PrimaryKeyConstraint('id', name='pk_billing_payment'),
    sa.UniqueConstraint('key', name='uq_billing_payment_key')
    )
    op.create_index('ix_billing_payment_account_id', 'billing_payment', ['account_id'], unique=False)
    op.create_table('billing_payment_method',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('gateway', sa.String(length=64), nullable=False),
    sa.Column('method_ref', sa.String(length=200), nullable=False),
    sa.Column('label', sa.String(length=100), nullable=False),
    sa.Column('is_default', sa.Boolean(), nullable=False),
    sa.Column('created_at', TS, nullable=False),
    sa.Column('updated_at', TS, nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['core_account.id'], name='fk_billing_payment_method_account_id_core_account'),
    sa.PrimaryKeyConstraint('id', name='pk_billing_payment_method')
    )
    op.create_index('ix_billing_payment_method_account_id', 'billing_payment_method', ['account_id'], unique=False)
    op.create_table('billing_subscription',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=True),
    sa.Column('package_id', sa.Integer(), nullable=True),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('price_override_amount', sa.BigInteger(), nullable=True),
    sa.Column('price_override_currency', sa.String(length=3), nullable=True),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.Column('billed_through', sa.Date(), nullable=True),
    sa.Column('description', sa.String(length=200), nullable=False),
    sa.Column('previous_id', sa.Integer(), nullable=True),
    sa.Column('created_at', TS, nullable=False),
    sa.Column('updated_at', TS, nullable=False),
    sa.CheckConstraint('(service_id IS NULL) <> (package_id IS NULL)', name='ck_billing_subscription_target'),
    sa.CheckConstraint('end_date IS NULL OR end_date > start_date', name='ck_billing_subscription_dates'),
    sa.CheckConstraint('quantity > 0', name='ck_billing_subscription_quantity'),
    sa.ForeignKeyConstraint(['account_id'], ['core_account.id'], name='fk_billing_subscription_account_id_core_account'),
    sa.ForeignKeyConstraint(['package_id'], ['billing_package.id'], name='fk_billing_subscription_package_id_billing_package'),
    sa.ForeignKeyConstraint(['previous_id'], ['billing_subscription.id'], name='fk_billing_subscription_previous_id_billing_subscription'),
    sa.ForeignKeyConstraint(['service_id'], ['billing_service.id'], name='fk_billing_subscription_service_id_billing_service'),
    sa.PrimaryKeyConstraint('id', name='pk_billing_subscription')
    )
    op.create_index('ix_billing_subscription_account_id', 'billing_subscription', ['account_id'], unique=False)
    op.create_table('billing_adjustment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('subscription_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('mode', sa.String(length=16), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=True),
    sa.Column('percent', sa.Numeric(precision=9, scale=4), nullable=True),
    sa.Column('recurring', sa.Boolean(), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.Column('remaining', sa.BigInteger(), nullable=True),
    sa.Column('exhausted', sa.Boolean(), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.Column('created_at', TS, nullable=False),
    sa.Column('updated_at', TS, nullable=False),
    sa.CheckConstraint("(mode = 'fixed' AND amount > 0 AND currency IS NOT NULL AND percent IS NULL) OR (mode = 'percent' AND percent > 0 AND percent <= 100 AND amount IS NULL)", name='ck_billing_adjustment_mode'),
    sa.CheckConstraint("kind IN ('discount', 'credit')", name='ck_billing_adjustment_kind'),
    sa.ForeignKeyConstraint(['account_id'], ['core_account.id'], name='fk_billing_adjustment_account_id_core_account'),
    sa.ForeignKeyConstraint(['subscription_id'], ['billing_subscription.id'], name='fk_billing_adjustment_subscription_id_billing_subscription'),
    sa.PrimaryKeyConstraint('id', name='pk_billing_adjustment')
    )
    op.create_index('ix_billing_adjustment_account_id', 'billing_adjustment', ['account_id'], unique=False)
    op.create_table('billing_allocation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=False),
    sa.Column('payment_id', sa.Integer(), nullable=True),
    sa.Column('credit_note_id', sa.Integer(), nullable=True),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('created_at', TS, nullable=False),
    sa.CheckConstraint('(payment_id IS NULL) <> (credit_note_id IS NULL)', name='ck_billing_allocation_source'),
    sa.CheckConstraint('amount <> 0', name='ck_billing_allocation_amount'),
    sa.ForeignKeyConstraint(['credit_note_id'], ['billing_invoice.id'], name='fk_billing_allocation_credit_note_id_billing_invoice'),
    sa.ForeignKeyConstraint(['invoice_id'], ['billing_invoice.id'], name='fk_billing_allocation_invoice_id_billing_invoice'),
    sa.ForeignKeyConstraint(['payment_id'], ['billing_payment.id'], name='fk_billing_allocation_payment_id_billing_payment'),
    sa.PrimaryKeyConstraint('id', name='pk_billing_allocation')
    )
    op.create_index('ix_billing_allocation_credit_note_id', 'billing_allocation', ['credit_note_id'], unique=False)
    op.create_index('ix_billing_allocation_invoice_id', 'billing_allocation', ['invoice_id'], unique=False)
    op.create_index('ix_billing_allocation_payment_id', 'billing_allocation', ['payment_id'], unique=False)
    op.create_table('billing_charge',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=True),
    sa.Column('description', sa.String(length=200), nullable=False),
    sa.Column('quantity', sa.Numeric(precision=18, scale=6), nullable=False),
    sa.Column('unit_price_amount', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('tax_class_id', sa.Integer(), nullable=True),
    sa.Column('charge_date', sa.Date(), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=True),
    sa.Column('key', sa.String(length=120), nullable=True),
    sa.Column('created_at', TS, nullable=False),
    sa.Column('updated_at', TS, nullable=False),
    sa.CheckConstraint('quantity > 0', name='ck_billing_charge_quantity'),
    sa.ForeignKeyConstraint(['account_id'], ['core_account.id'], name='fk_billing_charge_account_id_core_account'),
    sa.ForeignKeyConstraint(['invoice_id'], ['billing_invoice.id'], name='fk_billing_charge_invoice_id_billing_invoice'),
    sa.ForeignKeyConstraint(['service_id'], ['billing_service.id'], name='fk_billing_charge_service_id_billing_service'),
    sa.ForeignKeyConstraint(['tax_class_id'], ['billing_tax_class.id'], name='fk_billing_charge_tax_class_id_billing_tax_class'),
    sa.PrimaryKeyConstraint('id', name='pk_billing_charge'),
    sa.UniqueConstraint('key', name='uq_billing_charge_key')
    )
    op.create_index('ix_billing_charge_account_id', 'billing_charge', ['account_id'], unique=False)
    op.create_index('ix_billing_charge_invoice_id', 'billing_charge', ['invoice_id'], unique=False)
    op.create_table('billing_payment_attempt',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('attempt_no', sa.Integer(), nullable=False),
    sa.Column('idempotency_key', sa.String(length=200), nullable=False),
    sa.Column('gateway', sa.String(length=64), nullable=False),
    sa.Column('method_ref', sa.String(length=200), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('reference', sa.String(length=200), nullable=True),
    sa.Column('message', sa.String(length=500), nullable=False),
    sa.Column('payment_id', sa.Integer(), nullable=True),
    sa.Column('answered_at', TS, nullable=True),
    sa.Column('late', sa.Boolean(), nullable=False),
    sa.Column('created_at', TS, nullable=False),
    sa.Column('updated_at', TS, nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['core_account.id'], name='fk_billing_payment_attempt_account_id_core_account'),
    sa.ForeignKeyConstraint(['invoice_id'], ['billing_invoice.id'], name='fk_billing_payment_attempt_invoice_id_billing_invoice'),
    sa.ForeignKeyConstraint(['payment_id'], ['billing_payment.id'], name='fk_billing_payment_attempt_payment_id_billing_payment'),
    sa.PrimaryKeyConstraint('id', name='pk_billing_payment_attempt'),
    sa.UniqueConstraint('idempotency_key', name='uq_billing_payment_attempt_idempotency_key'),
    sa.UniqueConstraint('invoice_id', 'attempt_no', name='uq_billing_payment_attempt_invoice_id_attempt_no')
    )
    op.create_index('ix_billing_payment_attempt_account_id', 'billing_payment_attempt', ['account_id'], unique=False)
    op.create_index('ix_billing_payment_attempt_invoice_id', 'billing_payment_attempt', ['invoice_id'], unique=False)
    op.create_index('ix_billing_payment_attempt_reference', 'billing_payment_attempt', ['reference'], unique=False)
    op.create_table('billing_run_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('created_at', TS, nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['core_account.id'], name='fk_billing_run_item_account_id_core_account'),
    sa.ForeignKeyConstraint(['invoice_id'], ['billing_invoice.id'], name='fk_billing_run_item_invoice_id_billing_invoice'),
    sa.ForeignKeyConstraint(['run_id'], ['billing_run.id'], name='fk_billing_run_item_run_id_billing_run', ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name='pk_billing_run_item'),
    sa.UniqueConstraint('run_id', 'account_id', 'period_start', name='uq_billing_run_item_run_id_account_id_period_start')
    )
    op.create_index('ix_billing_run_item_account_id', 'billing_run_item', ['account_id'], unique=False)
    op.create_index('ix_billing_run_item_run_id', 'billing_run_item', ['run_id'], unique=False)
    op.create_table('billing_transaction',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=True),
    sa.Column('payment_id', sa.Integer(), nullable=True),
    sa.Column('memo', sa.String(length=300), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=True),
    sa.Column('created_at', TS, nullable=False),
    sa.CheckConstraint("kind IN ('invoice', 'credit_note', 'void', 'payment', 'reversal', 'refund')", name='ck_billing_transaction_kind'),
    sa.ForeignKeyConstraint(['account_id'], ['core_account.id'], name='fk_billing_transaction_account_id_core_account'),
    sa.ForeignKeyConstraint(['invoice_id'], ['billing_invoice.id'], name='fk_billing_transaction_invoice_id_billing_invoice'),
    sa.ForeignKeyConstraint(['payment_id'], ['billing_payment.id'], name='fk_billing_transaction_payment_id_billing_payment'),
    sa.PrimaryKeyConstraint('id', name='pk_billing_transaction'),
    sa.UniqueConstraint('key', name='uq_billing_transaction_key')
    )
    op.create_index('ix_billing_transaction_account_id', 'billing_transaction', ['account_id'], unique=False)
    op.create_index('ix_billing_transaction_invoice_id', 'billing_transaction', ['invoice_id'], unique=False)
    op.create_index('ix_billing_transaction_payment_id', 'billing_transaction', ['payment_id'], unique=False)
    op.create_table('billing_invoice_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('description', sa.String(length=300), nullable=False),
    sa.Column('quantity', sa.Numeric(precision=18, scale=6), nullable=False),
    sa.Column('unit_price_amount', sa.BigInteger(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('tax_class', sa.String(length=32), nullable=True),
    sa.Column('tax_rate', sa.Numeric(precision=9, scale=4), nullable=False),
    sa.Column('tax_amount', sa.BigInteger(), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=True),
    sa.Column('period_end', sa.Date(), nullable=True),
    sa.Column('subscription_id', sa.Integer(), nullable=True),
    sa.Column('charge_id', sa.Integer(), nullable=True),
    sa.Column('adjustment_id', sa.Integer(), nullable=True),
    sa.Column('source', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['adjustment_id'], ['billing_adjustment.id'], name='fk_billing_invoice_line_adjustment_id_billing_adjustment'),
    sa.ForeignKeyConstraint(['charge_id'], ['billing_charge.id'], name='fk_billing_invoice_line_charge_id_billing_charge'),
    sa.ForeignKeyConstraint(['invoice_id'], ['billing_invoice.id'], name='fk_billing_invoice_line_invoice_id_billing_invoice', ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['subscription_id'], ['billing_subscription.id'], name='fk_billing_invoice_line_subscription_id_billing_subscription'),
    sa.PrimaryKeyConstraint('id', name='pk_billing_invoice_line')
    )
    op.create_index('ix_billing_invoice_line_invoice_id', 'billing_invoice_line', ['invoice_id'], unique=False)


def downgrade() -> None:
    op.drop_table("billing_invoice_line")
    op.drop_table("billing_transaction")
    op.drop_table("billing_run_item")
    op.drop_table("billing_payment_attempt")
    op.drop_table("billing_charge")
    op.drop_table("billing_allocation")
    op.drop_table("billing_adjustment")
    op.drop_table("billing_subscription")
    op.drop_table("billing_payment_method")
    op.drop_table("billing_payment")
    op.drop_table("billing_invoice")
    op.drop_table("billing_delinquency")
    op.drop_table("billing_account")
    op.drop_table("billing_package_item")
    op.drop_table("billing_service")
    op.drop_table("billing_package")
    op.drop_table("billing_tax_class")
    op.drop_table("billing_run")
    op.drop_table("billing_invoice_counter")
