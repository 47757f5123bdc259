"""UI helpers for plugin authors: list pages, form errors, account panels.

A plugin's staff pages extend ``base.html`` (blocks ``title``, ``head``, ``content``,
``scripts``) and use the shared macros::

    {% import "macros/forms.html" as forms %}   {# field, csrf_field, form_errors, submit #}
    {% import "macros/lists.html" as lists %}   {# table, sort_header, filter_bar, pagination #}

A list view::

    from backhaul.sdk.ui import Filter, list_page

    @bp.get("/")
    @permission_required("tickets.ticket.view")
    def index():
        page = list_page(sa.select(Ticket), sortable={"opened": Ticket.opened_at},
                         filters={"state": Filter(Ticket.state, choices=STATES)},
                         search=[Ticket.subject], default_sort="-opened")
        return render_template("tickets/index.html", page=page)

A form view::

    data, errors = validate_form(TicketSchema())
    if errors:
        return render_template("tickets/new.html", errors=errors, values=request.form), 422
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError

from backhaul.core.auth.decorators import safe_next
from backhaul.core.ui.lists import Filter, ListPage, list_page
from backhaul.core.ui.panels import render_account_panels


def form_errors(error: ValidationError | Mapping | None) -> dict[str, Any]:
    """Marshmallow errors as the form macros take them (``{field: [messages], ...}``)."""
    if error is None:
        return {}
    if isinstance(error, ValidationError):
        return dict(error.normalized_messages())
    return dict(error)


def validate_form(schema: Schema, data: Mapping | None = None, unknown: str = EXCLUDE,
                  ) -> tuple[dict | None, dict[str, Any]]:
    """Load ``data`` (default: the request's form) with ``schema``.

    :returns: ``(loaded, {})`` when valid, ``(None, errors)`` otherwise, ready for the
        ``forms.field(..., errors=errors)`` macro. Empty strings count as missing values, the
        way browsers send untouched inputs; the CSRF token is never passed to the schema.
        Fields the schema does not know (a submit button's name, a checkbox left over) are
        dropped unless ``unknown=marshmallow.RAISE``.
    """
    if data is None:
        from flask import request

        data = request.form
    raw = {key: value for key, value in _items(data)
           if key != "csrf_token" and value != ""}
    try:
        return schema.load(raw, unknown=unknown), {}
    except ValidationError as exc:
        return None, form_errors(exc)


def _items(data: Mapping):
    if hasattr(data, "lists"):  # werkzeug MultiDict: keep lists for multi-valued fields
        for key, values in data.lists():
            yield key, values[0] if len(values) == 1 else values
    else:
        yield from data.items()


__all__ = ["Filter", "ListPage", "form_errors", "list_page", "render_account_panels",
           "safe_next",
           "validate_form"]
