"""tickets: groups, categories, inbound addresses, tickets, messages, attachments, inbound
mail, canned replies, saved views

Revision ID: tickets_0001
Revises:
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op

revision = "tickets_0001"
down_revision = None
branch_labels = ("tickets",)
depends_on = "core_0004"

TS = sa.DateTime(timezone=True)


def _stamps():
    return [sa.Column("created_at", TS, nullable=False), sa.Column("updated_at", TS, nullable=False)]


def _fk(table, column, target, ondelete=None):
    return sa.ForeignKeyConstraint([column], [f"{target}.id"], ondelete=ondelete,
                                   name=f"fk_{table}_{column}_{target}")


def upgrade() -> None:
    for table in ("tickets_group", "tickets_category"):
        op.create_table(
            table,
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("name", sa.String(100), nullable=False),
            *_stamps(),
            sa.PrimaryKeyConstraint("id", name=f"pk_{table}"),
            sa.UniqueConstraint("name", name=f"uq_{table}_name"),
        )
    t = "tickets_inbound_address"
    op.create_table(
        t,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(254), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=True),
        *_stamps(),
        _fk(t, "group_id", "tickets_group"),
        _fk(t, "category_id", "tickets_category"),
        sa.PrimaryKeyConstraint("id", name=f"pk_{t}"),
        sa.UniqueConstraint("address", name=f"uq_{t}_address"),
    )
    t = "tickets_ticket"
    op.create_table(
        t,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(16), nullable=False),
        sa.Column("subject", sa.String(300), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("priority", sa.String(16), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=True),
        sa.Column("assignee_id", sa.Integer(), nullable=True),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("requester_email", sa.String(254), nullable=False),
        sa.Column("requester_name", sa.String(200), nullable=False),
        sa.Column("inbound_address_id", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("last_activity_at", TS, nullable=False),
        sa.Column("closed_at", TS, nullable=True),
        *_stamps(),
        _fk(t, "group_id", "tickets_group"),
        _fk(t, "category_id", "tickets_category"),
        _fk(t, "assignee_id", "auth_user", "SET NULL"),
        _fk(t, "account_id", "core_account", "SET NULL"),
        _fk(t, "contact_id", "core_contact", "SET NULL"),
        _fk(t, "inbound_address_id", "tickets_inbound_address"),
        sa.PrimaryKeyConstraint("id", name=f"pk_{t}"),
        sa.UniqueConstraint("token", name=f"uq_{t}_token"),
        sa.CheckConstraint("status IN ('new', 'open', 'pending', 'solved', 'closed')",
                           name=f"ck_{t}_status"),
        sa.CheckConstraint("priority IN ('low', 'normal', 'high', 'urgent')",
                           name=f"ck_{t}_priority"),
    )
    for column in ("status", "group_id", "assignee_id", "account_id", "last_activity_at"):
        op.create_index(f"ix_{t}_{column}", t, [column])
    t = "tickets_inbound_mail"
    op.create_table(
        t,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("received_at", TS, nullable=False),
        sa.Column("mail_from", sa.String(300), nullable=False),
        sa.Column("rcpt_to", sa.String(1000), nullable=False),
        sa.Column("message_id", sa.String(300), nullable=True),
        sa.Column("subject", sa.String(300), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("raw", sa.LargeBinary(), nullable=False),
        _fk(t, "ticket_id", "tickets_ticket", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=f"pk_{t}"),
        sa.CheckConstraint("outcome IN ('ticket', 'threaded', 'reopened', 'held', 'bounce', "
                           "'failed', 'released')", name=f"ck_{t}_outcome"),
    )
    for column in ("received_at", "message_id", "ticket_id"):
        op.create_index(f"ix_{t}_{column}", t, [column])
    t = "tickets_message"
    op.create_table(
        t,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("author", sa.String(300), nullable=False),
        sa.Column("from_address", sa.String(254), nullable=False),
        sa.Column("to_address", sa.String(254), nullable=False),
        sa.Column("subject", sa.String(300), nullable=False),
        sa.Column("body_text", sa.Text(), nullable=False),
        sa.Column("message_id", sa.String(300), nullable=True),
        sa.Column("automatic", sa.Boolean(), nullable=False),
        sa.Column("notification_id", sa.Integer(), nullable=True),
        sa.Column("inbound_mail_id", sa.Integer(), nullable=True),
        _fk(t, "ticket_id", "tickets_ticket", "CASCADE"),
        _fk(t, "inbound_mail_id", "tickets_inbound_mail", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=f"pk_{t}"),
        sa.CheckConstraint("kind IN ('inbound', 'reply', 'note')", name=f"ck_{t}_kind"),
    )
    op.create_index(f"ix_{t}_ticket_id", t, ["ticket_id"])
    op.create_index(f"ix_{t}_message_id", t, ["message_id"])
    t = "tickets_attachment"
    op.create_table(
        t,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("content_type", sa.String(100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        _fk(t, "message_id", "tickets_message", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=f"pk_{t}"),
    )
    op.create_index(f"ix_{t}_message_id", t, ["message_id"])
    t = "tickets_canned_reply"
    op.create_table(
        t,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("body_text", sa.Text(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=True),
        *_stamps(),
        _fk(t, "group_id", "tickets_group"),
        sa.PrimaryKeyConstraint("id", name=f"pk_{t}"),
        sa.UniqueConstraint("name", name=f"uq_{t}_name"),
    )
    t = "tickets_saved_view"
    op.create_table(
        t,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("filters", sa.JSON(), nullable=False),
        *_stamps(),
        _fk(t, "owner_id", "auth_user", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=f"pk_{t}"),
    )
    op.create_index(f"ix_{t}_owner_id", t, ["owner_id"])


def downgrade() -> None:
    for table in ("tickets_saved_view", "tickets_canned_reply", "tickets_attachment", "tickets_message",
                  "tickets_inbound_mail", "tickets_ticket", "tickets_inbound_address",
                  "tickets_category", "tickets_group"):
        op.drop_table(table)
