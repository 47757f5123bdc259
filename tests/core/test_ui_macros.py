"""The form and list macros, rendered in a small Flask app with the shell's templates."""
from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import pytest
from flask import Flask, render_template_string
from flask_wtf import CSRFProtect
from marshmallow import RAISE, Schema, fields, validate
from werkzeug.datastructures import MultiDict

import backhaul.core.ui as ui
from backhaul.core.ui.lists import FilterState, ListPage
from backhaul.sdk.ui import form_errors, validate_form

TEMPLATES = Path(ui.__file__).parent / "templates"


class Elements(HTMLParser):
    """Start tags as (tag, attrs) and the text, enough to assert on rendered markup."""

    def __init__(self, html: str):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        if data.strip():
            self.text.append(" ".join(data.split()))

    def find(self, tag, **attrs):
        return [a for t, a in self.tags if t == tag
                and all(a.get(k.rstrip("_")) == v for k, v in attrs.items())]


@pytest.fixture
def flask_app():
    app = Flask("macros-test", template_folder=str(TEMPLATES))
    app.config.update(SECRET_KEY="test", WTF_CSRF_ENABLED=True)
    app.jinja_env.globals.update(bh_field_errors=ui.field_errors, bh_cell=ui.cell)
    return app


def render(app, source, **context):
    with app.test_request_context("/items?q=x"):
        return render_template_string(source, **context)


FORMS = '{% import "macros/forms.html" as forms %}'


def test_field_shows_its_marshmallow_errors_beside_the_input(flask_app):
    html = render(flask_app, FORMS + '{{ forms.field("email", "Email", value="a@", '
                  'errors=errors, type="email", required=True, help="Where invoices go") }}',
                  errors={"email": ["Not a valid email address."], "name": ["Other."]})
    doc = Elements(html)
    (inp,) = doc.find("input", name="email")
    assert inp["type"] == "email" and inp["value"] == "a@" and "required" in inp
    assert inp["aria-invalid"] == "true"
    assert inp["aria-describedby"] == "f-email-help f-email-error"
    (label,) = doc.find("label", for_="f-email")
    assert doc.find("p", id="f-email-error", class_="field-error")
    assert "Not a valid email address." in doc.text and "Other." not in doc.text
    assert 'class="field field-email has-error"' in html
    assert label is not None


def test_field_without_errors_and_list_of_messages(flask_app):
    clean = Elements(render(flask_app, FORMS + '{{ forms.field("name", "Name", value="Ann") }}'))
    (inp,) = clean.find("input", name="name")
    assert "aria-invalid" not in inp and "aria-describedby" not in inp
    listed = render(flask_app, FORMS + '{{ forms.field("name", "Name", errors=["Too short."]) }}')
    assert "Too short." in listed


def test_password_value_is_never_echoed(flask_app):
    html = render(flask_app, FORMS + '{{ forms.field("password", "Password", value="hunter2", '
                  'type="password", errors={"password": ["Wrong."]}) }}')
    assert "hunter2" not in html and "Wrong." in html


def test_value_is_escaped(flask_app):
    html = render(flask_app, FORMS + '{{ forms.field("name", "Name", value=v) }}',
                  v='"><script>alert(1)</script>')
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_select_textarea_checkbox(flask_app):
    html = render(flask_app, FORMS +
                  '{{ forms.field("status", "Status", value="b", type="select", '
                  'options=[("a", "Active"), ("b", "Blocked")], required=True) }}'
                  '{{ forms.field("tags", "Tags", value="x", type="select", options=["x", "y"]) }}'
                  '{{ forms.field("notes", "Notes", value="hi & bye", type="textarea") }}'
                  '{{ forms.field("vip", "VIP", value=true, type="checkbox") }}')
    doc = Elements(html)
    assert [o.get("value") for o in doc.find("option")] == ["a", "b", "", "x", "y"]
    assert "selected" in doc.find("option", value="b")[0]
    assert "selected" in doc.find("option", value="x")[0]
    assert "hi &amp; bye</textarea>" in html
    assert "checked" in doc.find("input", name="vip")[0]


def test_nested_errors_by_dotted_name(flask_app):
    errors = {"address": {"city": ["Required."], "zip": ["Bad."]}}
    html = render(flask_app, FORMS + '{{ forms.field("address.city", "City", errors=e) }}',
                  e=errors)
    assert "Required." in html and "Bad." not in html and 'id="f-address-city"' in html


def test_form_errors_summary_and_schema_errors(flask_app):
    html = render(flask_app, FORMS + "{{ forms.form_errors(e) }}",
                  e={"_schema": ["Start must be before end."], "a": ["x"], "b": ["y"]})
    doc = Elements(html)
    assert doc.find("div", role="alert")
    assert "Start must be before end." in doc.text
    assert "Please correct the 2 fields marked below." in doc.text
    assert render(flask_app, FORMS + "{{ forms.form_errors({}) }}").strip() == ""


def test_csrf_field_without_csrf_protection_renders_nothing(flask_app):
    assert render(flask_app, FORMS + "{{ forms.csrf_field() }}").strip() == ""


def test_csrf_field_with_csrf_protection(flask_app):
    CSRFProtect(flask_app)  # before the first render, as in the real app
    doc = Elements(render(flask_app, FORMS + "{{ forms.csrf_field() }}"))
    (token,) = doc.find("input", name="csrf_token", type="hidden")
    assert len(token["value"]) > 20


class TicketSchema(Schema):
    subject = fields.String(required=True, validate=validate.Length(min=3))
    priority = fields.Integer(load_default=3)


def test_validate_form_returns_errors_for_the_macros(flask_app):
    data, errors = validate_form(TicketSchema(), MultiDict(
        {"subject": "ab", "priority": "", "csrf_token": "t"}))
    assert data is None and errors == {"subject": ["Shorter than minimum length 3."]}
    data, errors = validate_form(TicketSchema(), MultiDict(
        {"subject": "Outage", "priority": "1", "save": "Save"}))
    assert data == {"subject": "Outage", "priority": 1} and errors == {}
    _, errors = validate_form(TicketSchema(), MultiDict({"subject": "Outage", "x": "1"}),
                              unknown=RAISE)
    assert errors == {"x": ["Unknown field."]}
    assert form_errors(None) == {}


LISTS = '{% import "macros/lists.html" as lists %}'


def make_page(**kw):
    defaults = dict(rows=[{"name": "Ann", "city": "Porto"}, {"name": "Bo", "city": "Faro"}],
                    total=60, page=2, per_page=2, sort="name", descending=False, q="x",
                    searchable=True,
                    filters=[FilterState("status", "Status", [("a", "Active")], "a")],
                    sortable_keys=frozenset({"name"}), base_url="/items",
                    args={"q": "x", "status": "a", "sort": "name", "page": "2"})
    defaults.update(kw)
    return ListPage(**defaults)


def test_table_headers_sort_links_and_default_cells(flask_app):
    html = render(flask_app, LISTS + '{{ lists.table(page, [("name", "Name"), ("city", "City")]) }}',
                  page=make_page())
    doc = Elements(html)
    (th,) = doc.find("th", **{"aria-sort": "ascending"})
    assert th["scope"] == "col"
    link = [a for a in doc.find("a") if "sort=-name" in a["href"]]
    assert link and "page=" not in link[0]["href"]
    assert "City" in doc.text and not [a for a in doc.find("a") if "sort=city" in a["href"]]
    assert ["Ann", "Porto", "Bo", "Faro"] == [t for t in doc.text if t in ("Ann", "Porto", "Bo", "Faro")]


def test_table_with_a_caller_and_the_empty_state(flask_app):
    source = LISTS + ('{% call(row) lists.table(page, [("name", "Name")]) %}'
                      '<td class="custom">{{ row.name|upper }}</td>{% endcall %}')
    assert '<td class="custom">ANN</td>' in render(flask_app, source, page=make_page())
    empty = render(flask_app, source, page=make_page(rows=[], total=0, page=1))
    assert "No results match." in empty and 'href="/items?sort=name"' in empty


def test_pagination_and_filter_bar(flask_app):
    html = render(flask_app, LISTS + "{{ lists.filter_bar(page) }}{{ lists.pagination(page) }}",
                  page=make_page())
    doc = Elements(html)
    (nav,) = doc.find("nav", class_="pagination")
    assert nav["aria-label"] == "Pagination"
    (current,) = doc.find("a", **{"aria-current": "page"})
    assert "page=2" in current["href"]
    assert doc.find("a", rel="prev")[0]["href"] == "/items?q=x&status=a&sort=name"
    assert "Showing 3–4 of 60" in " ".join(doc.text)
    (q,) = doc.find("input", name="q")
    assert q["value"] == "x"
    assert "selected" in doc.find("option", value="a")[0]
    assert doc.find("input", type="hidden", name="sort")[0]["value"] == "name"
