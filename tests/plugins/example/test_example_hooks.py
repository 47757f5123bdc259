"""Every hook the core specifies is exercised: each is triggered through the app (start-up,
a web request, the command line, a domain event...) and the example plugin's implementation
is shown to have run, through ``hook_recorder``, with its effect checked where it has one.

A new hookspec without an entry in TRIGGERS fails here: add a trigger (and an
implementation to plugins/example) with it.
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from backhaul.core import hookspecs, scheduler
from backhaul.core.db import db
from backhaul.core.models import JobIntent
from backhaul.plugins.example.models import Greeting
from backhaul.sdk import Money, emit
from backhaul.sdk.testing import run_cli

VIEW = "example.greetings.view"


class Context:
    """The app with the example plugin, and helpers the triggers share."""

    def __init__(self, app, staff_user, login, api_token):
        self.app = app
        self._staff_user, self._login, self._api_token = staff_user, login, api_token
        self.contributions = app.extensions["backhaul.contributions"]

    def signed_in_client(self):
        client = self.app.test_client()
        self._login(client, self._staff_user(permissions=[VIEW]))
        return client

    def token(self) -> str:
        return self._api_token(self._staff_user(permissions=[VIEW]), scopes="read")

    def account(self):
        from backhaul.sdk.accounts import create_account

        account = create_account(name="Ada Lovelace")
        db.session.commit()
        return account

    def greeting(self, name: str) -> Greeting:
        from backhaul.plugins.example.greetings import greet

        greeting = greet(name)
        db.session.commit()
        return greeting


def greetings_named(name: str) -> list[Greeting]:
    db.session.commit()
    return list(db.session.scalars(sa.select(Greeting).where(Greeting.name == name)))


# ----------------------------------------------------------------------------- triggers
def trigger_blueprints(ctx):
    ctx.greeting("Blueprint")
    response = ctx.signed_in_client().get("/example/")
    assert response.status_code == 200 and "Hello, Blueprint!" in response.get_data(True)
    anonymous = ctx.app.test_client().get("/example/")
    assert anonymous.status_code in (302, 401), "the page checks who is asking"


def trigger_menu(ctx):
    items = [m for m in ctx.contributions.menu_items if m.endpoint == "example.index"]
    assert items and items[0].permission == VIEW


def trigger_panels(ctx):
    account = ctx.account()  # account_created greets it
    panel = next(p for p in ctx.contributions.account_panels if p.key == "example.greetings")
    assert "Hello, account" in panel.render(account)


def trigger_graphql(ctx):
    response = ctx.app.test_client().post(
        "/graphql", json={"query": '{ exampleHello(name: "Ada") }'},
        headers={"Authorization": f"Bearer {ctx.token()}"})
    assert response.status_code == 200, response.get_data(True)
    assert response.get_json()["data"] == {"exampleHello": "Hello, Ada!"}


def trigger_permissions(ctx):
    assert VIEW in {p.name for p in ctx.contributions.permissions}


def trigger_periodic(ctx):
    assert "example.tidy" in {j.name for j in ctx.contributions.periodic_jobs}
    scheduler.tick(ctx.app)
    db.session.commit()
    keys = {k: s for k, s in db.session.execute(sa.select(JobIntent.key, JobIntent.status))}
    assert [s for k, s in keys.items() if k and k.startswith("periodic:example.tidy:")] == [
        "done"]


def trigger_cli(ctx):
    result = run_cli(ctx.app, "example", "greet", "Ada")
    assert result.exit_code == 0 and "Hello, Ada!" in result.output
    assert [g.delivered for g in greetings_named("Ada")] == [True]


def trigger_scheduled_actions(ctx):
    from backhaul.core.accounts.scheduling import run_event, schedule_event

    assert "example.greet" in ctx.contributions.scheduled_action_types
    account = ctx.account()
    event = schedule_event(account, "example.greet", datetime.now(UTC) - timedelta(minutes=1),
                           {"name": "Scheduled"})
    db.session.commit()
    assert run_event(event.id) == "done"
    assert len(greetings_named("Scheduled")) == 1


def trigger_search(ctx):
    ctx.greeting("Searchable Sam")
    response = ctx.signed_in_client().get("/search?q=Searchable")
    assert response.status_code == 200
    assert "Hello, Searchable Sam!" in response.get_data(True)


def trigger_timeline(ctx):
    from backhaul.core.accounts.timeline import build_timeline

    account = ctx.account()
    entries = [e for e in build_timeline(account) if e.kind == "greeting"]
    assert entries and entries[0].title.startswith("Hello, account")


def trigger_demo(ctx):
    result = run_cli(ctx.app, "demo", "load")
    assert result.exit_code == 0, result.output
    assert len(greetings_named("World")) == 1


def trigger_service_types(ctx):
    flat = ctx.contributions.service_types["example.flat"]
    assert flat.describe({"amount": 2500, "currency": "USD"}).endswith("25.00 USD per month")


def trigger_gateways(ctx):
    gateway = ctx.contributions.payment_gateways["example.fake"]
    assert gateway.purchase(Money(100, "USD"), "fake_ok", idempotency_key="k").reference


def trigger_backends(ctx):
    assert "example.file" in ctx.contributions.provisioning_backends


def trigger_channels(ctx):
    ctx.greeting("Channel")  # delivered by a job through the example channel
    assert ctx.contributions.notification_channels["example.log"].outbox
    assert [g.delivered for g in greetings_named("Channel")] == [True]


def trigger_account_created(ctx):
    account = ctx.account()
    assert [g.account_id for g in greetings_named(f"account {account.id}")] == [account.id]


def trigger_status_changed(ctx):
    ctx.account()  # creation records the first status


def emitting(event: str, **payload):
    def trigger(ctx):
        emit(event, **payload)
        db.session.commit()

    return trigger


def trigger_payment(ctx):
    emitting("payment_received", payment_id=41, account_id=3, amount=Money(1999, "USD"))(ctx)
    assert len(greetings_named("account 3")) == 1


NOW = datetime(2026, 11, 1, tzinfo=UTC)
def trigger_services(ctx):
    import threading

    from backhaul.sdk import Shard

    service = ctx.contributions.long_running_services["example.greeter"]
    stop = threading.Event()
    worker = threading.Thread(target=service.run, args=(stop, Shard(1, 1)))
    worker.start()
    stop.set()
    worker.join(timeout=5)
    assert not worker.is_alive(), "run returns once stop is set"


def trigger_startup(ctx):
    assert ctx.app.extensions["example.greeting"] == "Hello"  # ran while the app was built


TRIGGERS = {
    "startup": trigger_startup,
    "long_running_services": trigger_services,
    "register_blueprints": trigger_blueprints,
    "menu_items": trigger_menu,
    "account_panels": trigger_panels,
    "graphql_schema": trigger_graphql,
    "permissions": trigger_permissions,
    "periodic_jobs": trigger_periodic,
    "cli_commands": trigger_cli,
    "scheduled_action_types": trigger_scheduled_actions,
    "search": trigger_search,
    "account_timeline": trigger_timeline,
    "load_demo_data": trigger_demo,
    "service_types": trigger_service_types,
    "payment_gateways": trigger_gateways,
    "provisioning_backends": trigger_backends,
    "notification_channels": trigger_channels,
    "account_created": trigger_account_created,
    "account_status_changed": trigger_status_changed,
    "service_changed": emitting("service_changed", account_id=3, subscription_id=8,
                                change="added"),
    "invoice_finalized": emitting("invoice_finalized", invoice_id=5, account_id=3),
    "payment_received": trigger_payment,
}
CORE_HOOKS = sorted([*hookspecs.CONTRIBUTIONS, *hookspecs.EXTENSION_POINTS, *hookspecs.EVENTS])


def test_every_hookspec_has_a_trigger():
    assert sorted(TRIGGERS) == CORE_HOOKS


@pytest.mark.parametrize("hook", CORE_HOOKS)
def test_the_example_plugin_implements_and_runs_every_hook(hook, make_app, hook_recorder,
                                                           staff_user, login, api_token):
    app = make_app(plugins=["example"])
    assert hook in app.extensions["backhaul.plugins"].hooks_implemented("example")
    with app.app_context():
        TRIGGERS[hook](Context(app, staff_user, login, api_token))
    assert hook_recorder.ran(hook, "example"), f"the example plugin's {hook} did not run"
    failed = [c for c in hook_recorder.calls(hook, "example") if c.error is not None]
    assert not failed, failed


def test_the_published_hook_is_answered_by_other_plugins(make_app, temp_plugin, hook_recorder):
    polite = temp_plugin("polite", example_greeting_suffix=lambda name: "Nice to meet you.")
    app = make_app(plugins=["example"], extra_plugins=[polite],
                   plugin_settings={"example": {"sign_off": "Cheers."}})
    with app.app_context():
        from backhaul.plugins.example.greetings import greet

        assert greet("Bob").message == "Hello, Bob! Cheers. Nice to meet you."
    assert hook_recorder.ran("example_greeting_suffix", "polite")
