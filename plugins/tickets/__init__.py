"""Tickets: a support desk fed by e-mail (issue 20, its tickets half).

Modules: models.py (tables), desk.py (open, change, reply, note), mailin.py (one inbound
mail -> a ticket, a message, or a kept row saying why not), listener.py (the SMTP listener:
``backhaul mail-in``, ``backhaul serve tickets.mail_in``), canned.py (canned replies in the
notifications plugin's bounded sandbox), config.py (groups, categories, inbound addresses),
views.py, graphql.py, demo.py. Replies leave through the notifications plugin's e-mail
channel (its ``api.send_email``), so they are in its delivery log and retried like any
message.
"""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from backhaul.sdk import AccountPanel, MenuItem, Permission, PluginMeta, hookimpl

from . import hookspecs, models  # noqa: F401  (models: register the tables)


class Settings(Schema):
    #: where ``backhaul mail-in`` listens
    smtp_host = fields.Str(load_default="127.0.0.1")
    smtp_port = fields.Int(load_default=2525, validate=validate.Range(1, 65535))
    #: larger messages are refused at the SMTP level (552): the sender's MTA bounces them
    max_message_bytes = fields.Int(load_default=10_000_000,
                                   validate=validate.Range(10_000, 100_000_000))
    #: larger attachments are listed on the ticket but not kept (the raw mail is)
    max_attachment_bytes = fields.Int(load_default=5_000_000,
                                      validate=validate.Range(1_000, 100_000_000))
    #: mail from an address that is no contact: open a ticket without an account
    #: (``ticket``) or hold it for staff to release (``hold``)
    unknown_sender = fields.Str(load_default="ticket",
                                validate=validate.OneOf(("ticket", "hold")))
    #: messages an hour from one sender before the rest count as a mail loop (not answered)
    loop_limit = fields.Int(load_default=10, validate=validate.Range(1, 10_000))
    #: answer a new ticket's first mail with "we have your message": to senders that are
    #: ``contacts`` (default: spam with a forged sender is not answered to an innocent
    #: stranger), to ``all`` senders, or ``none``; never to an auto-reply, bounce or loop
    acknowledge = fields.Str(load_default="contacts",
                             validate=validate.OneOf(("contacts", "all", "none")))
    #: the last lines of the acknowledgement
    signature = fields.Str(load_default="", validate=validate.Length(max=2000))


META = PluginMeta(name="tickets", depends_on=("notifications",), settings_schema=Settings,
                  hookspecs=hookspecs,
                  description="Support tickets, inbound mail, groups and canned replies")


@hookimpl
def permissions():
    return [Permission("tickets.ticket.view", "See tickets, their messages and inbound mail"),
            Permission("tickets.ticket.work", "Open, change, answer and note tickets; "
                                              "release held mail"),
            Permission("tickets.settings.manage", "Manage groups, categories, inbound "
                                                  "addresses and canned replies")]


@hookimpl
def register_blueprints(app):
    from .views import bp

    return [bp]


@hookimpl
def menu_items():
    return [MenuItem("Tickets", "tickets.index", "tickets.ticket.view", "Tickets", 10),
            MenuItem("Inbound mail", "tickets.inbound", "tickets.ticket.view", "Tickets", 20),
            MenuItem("Desk set-up", "tickets.setup", "tickets.settings.manage", "Tickets", 30)]


@hookimpl
def account_panels():
    from .views import render_account_panel

    return [AccountPanel("tickets.account", "Tickets", render_account_panel,
                         permission="tickets.ticket.view", order=40)]


@hookimpl
def account_timeline(account, limit):
    from .timeline import entries

    return entries(account, limit)


@hookimpl
def search(query, user, limit):
    from .timeline import search_tickets

    return search_tickets(query, user, limit)


@hookimpl
def graphql_schema():
    from .graphql import contribution

    return contribution()


@hookimpl
def cli_commands():
    from .listener import mail_in_command

    return [mail_in_command]


@hookimpl
def long_running_services():
    from .listener import MailInService

    return [MailInService()]


@hookimpl
def load_demo_data(app):
    from .demo import load_demo

    load_demo()
