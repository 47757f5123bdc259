"""Form field specs for the staff pages, and turning a posted form into schema input.

The specs only describe inputs (label, type, options); validation is the marshmallow schemas'
job, so a form and the GraphQL mutation behind the same action always agree.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .models import ACCOUNT_TYPES, NOTE_CATEGORIES, PREFERENCE_CATEGORIES
from .schemas import TECHNOLOGIES


@dataclass(frozen=True)
class FormField:
    name: str
    label: str
    type: str = "text"
    required: bool = False
    help: str | None = None
    options: Any = None
    placeholder: str | None = None
    default: Any = None
    rows: int = 4
    id: str | None = None


def labelled(values) -> list[tuple[str, str]]:
    return [(v, v.replace("_", " ").capitalize()) for v in values]


CATEGORY_LABELS = {"billing": "Billing and invoices", "outages": "Outages and maintenance",
                   "jobs": "Jobs and appointments", "service": "Service changes"}
NOTE_LABELS = dict(labelled(NOTE_CATEGORIES)) | {"access": "Access restrictions",
                                                 "cpe_access": "CPE access"}

ACCOUNT_FIELDS = [
    FormField("name", "Name", required=True),
    FormField("account_type", "Type", "select", options=labelled(ACCOUNT_TYPES),
              default="residential", required=True),
    FormField("groups", "Groups", help="Comma-separated, e.g. Maple Court, VIP"),
]
CONTACT_FIELDS = [
    FormField("name", "Name", required=True),
    FormField("email", "E-mail", "email"),
    FormField("phone", "Phone", "tel", help="National numbers use the default country."),
    FormField("is_primary", "Primary contact", "checkbox"),
    FormField("is_financial", "Financial contact (receives invoices and billing notices)",
              "checkbox"),
    FormField("portal_access", "Customer portal access", "checkbox"),
]
PREFERENCE_FIELDS = [FormField(f"pref_{c}_{ch}", f"{CATEGORY_LABELS[c]} by {ch.upper() if ch == 'sms' else 'e-mail'}",
                               "checkbox")
                     for c in PREFERENCE_CATEGORIES for ch in ("email", "sms")]
NOTE_FIELDS = [
    FormField("body", "Note", "textarea", required=True, help="Markdown: **bold**, lists, links.",
              rows=3),
    FormField("category", "Category", "select", options=list(NOTE_LABELS.items()),
              default="general", required=True),
    FormField("pinned", "Pin to the top of the account", "checkbox"),
]
CALL_FIELDS = [
    FormField("direction", "Direction", "select", options=[("inbound", "Inbound"),
                                                           ("outbound", "Outbound")],
              default="inbound", required=True),
    FormField("summary", "Summary", "textarea", required=True, rows=2),
    FormField("duration_minutes", "Duration (minutes)", "number", default="0"),
    FormField("at", "When", "datetime-local", help="Leave empty for now."),
]
ONBOARD_FIELDS = [
    FormField("name", "Tenant name", required=True, id="onboard-name"),
    FormField("email", "E-mail", "email", id="onboard-email"),
    FormField("phone", "Phone", "tel", id="onboard-phone"),
]
MOVE_OUT_FIELDS = [
    FormField("on", "Move-out date", "date", required=True, id="move-out-on",
              help="Services end and the unit is freed on this date (today: at once)."),
    FormField("note", "Note (forwarding address, keys...)", "textarea", rows=2),
]
SERVICEABILITY_FIELDS = [
    FormField("serviceable", "Serviceable", "checkbox"),
    FormField("technology", "Technology", "select", options=labelled(t for t in TECHNOLOGIES if t)),
    FormField("max_down_mbps", "Max download (Mbps)", "number"),
    FormField("max_up_mbps", "Max upload (Mbps)", "number"),
    FormField("serviceability_notes", "Serviceability notes", "textarea", rows=2),
]
PLACE_FIELDS = [
    FormField("street", "Street", required=True),
    FormField("city", "City", required=True),
    FormField("region", "Region / state"),
    FormField("postal_code", "Postal code"),
    FormField("country", "Country", help="Two letters, e.g. US; empty: the default country."),
    FormField("latitude", "Latitude", "number"),
    FormField("longitude", "Longitude", "number"),
]
ADDRESS_FIELDS = [PLACE_FIELDS[0], FormField("unit", "Unit"), *PLACE_FIELDS[1:],
                  *SERVICEABILITY_FIELDS]
BUILDING_FIELDS = [FormField("name", "Building name", required=True), *PLACE_FIELDS,
                   FormField("notes", "Notes", "textarea", rows=2)]
UNIT_FIELDS = [
    FormField("pattern", "Unit numbers",
              help="Ranges and single units, comma-separated: 101-124, 201-224, PH1-PH2, A-D."),
    FormField("floors", "…or floors", help="e.g. 1-5 or 2,3,5, with units per floor"),
    FormField("units_per_floor", "Units per floor", "number"),
    FormField("unit_format", "Unit label", default="{floor}{unit:02d}",
              help="{floor}{unit:02d} gives 101, 102…"),
    *SERVICEABILITY_FIELDS,
]


def posted(fields: list[FormField], form) -> dict:
    """The posted values of ``fields``: checkboxes as booleans, the rest as given."""
    out = {}
    for field in fields:
        if field.type == "checkbox":
            out[field.name] = field.name in form
        elif field.name in form:
            out[field.name] = form.get(field.name, "")
    return out


def preferences_from(form) -> dict:
    return {c: {ch: f"pref_{c}_{ch}" in form for ch in ("email", "sms")}
            for c in PREFERENCE_CATEGORIES}


def preference_values(preferences: dict) -> dict:
    return {f"pref_{c}_{ch}": bool((preferences or {}).get(c, {}).get(ch))
            for c in PREFERENCE_CATEGORIES for ch in ("email", "sms")}
