"""Staff templates are bounded in time, loops, arithmetic and output (issue 11, finding 1).

Each hostile template below was measured on the unbounded engine (40 M iterations in 2 s,
200 MB for one string, 9 ** 9 ** 6 evaluated); here each is refused quickly, naming why.
"""
from __future__ import annotations

import time
import tracemalloc

import pytest

from backhaul.plugins.notifications import templates
from backhaul.plugins.notifications.templates import TemplateProblem


@pytest.mark.parametrize("source, reason", [
    ("{% for i in range(10000) %}{% for j in range(10000) %}{% endfor %}{% endfor %}",
     "range() may have at most"),
    ("{% for i in range(1000) %}{% for j in range(1000) %}{% endfor %}{% endfor %}",
     "loops more than"),
    ('{{ "a" * 200000000 }}', "repeated text"),
    ("{{ 9 ** 9 ** 6 }}", "** would be too large"),
    ("{{ (10 ** 30) * (10 ** 30) * (10 ** 30) }}", "too large"),
    ('{% for i in range(900) %}{{ "x" * 900 }}{% endfor %}', "longer than"),
    ('{{ "%s" % 1 }}', "format filter"),
])
def test_hostile_templates_are_refused_fast_and_small(source, reason):
    tracemalloc.start()
    started = time.process_time()  # CPU: a busy machine's other processes don't count
    with pytest.raises(TemplateProblem) as refused:
        templates.render(source, {}, "body_text")
    elapsed = time.process_time() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert reason in refused.value.message
    assert elapsed < 2.5 and peak < 20_000_000


def test_an_sms_is_capped_at_sms_length():
    with pytest.raises(TemplateProblem):
        templates.render("{{ 'x' * 2000 }}", {}, "body_text", limit=templates.OUTPUT_LIMITS["sms"])
    assert templates.render("{{ 'x' * 160 }}", {}, "body_text") == "x" * 160


def test_ordinary_templates_still_render():
    out = templates.render("{% for i in range(3) %}{{ i * 2 }},{% endfor %} {{ 2 ** 10 }}",
                           {}, "body_text")
    assert out == "0,2,4, 1024"


def test_previews_need_templates_manage(app, client, staff_user, api_token):
    """A read-only principal (view, or a read-scope token) cannot make the server render."""
    query = """{ notificationsPreview(eventKey: "x", medium: "email", accountId: "1",
                 input: {bodyText: "hi"}) { bodyText } }"""
    viewer = api_token(staff_user(["notifications.templates.view"]), "full")
    answer = client.post("/graphql", json={"query": query},
                         headers={"Authorization": f"Bearer {viewer}"}).get_json()
    assert answer.get("data") is None or answer["data"].get("notificationsPreview") is None
    assert "notifications.templates.manage" in str(answer["errors"])


def test_previews_for_an_account_need_accounts_view(app, client, staff_user, api_token):
    """Issue 11 #2: the preview returned any account's name, address, contacts and live
    unsubscribe links to a principal without accounts.account.view."""
    from backhaul.core.db import db
    from backhaul.sdk.accounts import create_account

    account = create_account(name="Private Person")
    db.session.commit()
    query = """query($a: ID!) { notificationsPreview(eventKey: "accounts.suspended",
               medium: "email", accountId: $a, input: {bodyText: "{{ account.name }}"}) {
               bodyText } }"""
    writer = api_token(staff_user(["notifications.templates.manage"]), "full")
    answer = client.post("/graphql", json={"query": query, "variables": {"a": str(account.id)}},
                         headers={"Authorization": f"Bearer {writer}"}).get_json()
    assert "Private Person" not in str(answer)
    assert "accounts.account.view" in str(answer["errors"])
