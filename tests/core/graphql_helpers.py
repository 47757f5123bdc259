"""An in-test plugin ("tst") with tiny tables of its own, for the GraphQL tests.

The tables live in their own metadata (not the app's), created and dropped by the
``tst_app`` fixture, so nothing of them leaks into migrations or other tests.
"""
from __future__ import annotations

import contextlib

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from backhaul.sdk import GraphQLContribution, Permission
from backhaul.sdk.graphql import (
    FieldErrors,
    MutationType,
    ObjectType,
    QueryType,
    apply_filters,
    load,
    load_related,
    mutation_payload,
    paginate,
    requires,
)

CALLS: list[str] = []


class TstBase(DeclarativeBase):
    metadata = sa.MetaData()


class Maker(TstBase):
    __tablename__ = "tst_maker"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(50))


class Widget(TstBase):
    __tablename__ = "tst_widget"
    __audit_secret__ = ("pin",)
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(50))
    maker_id: Mapped[int] = mapped_column(sa.ForeignKey("tst_maker.id"))
    pin: Mapped[str | None] = mapped_column(sa.String(20))


class Part(TstBase):
    __tablename__ = "tst_part"
    id: Mapped[int] = mapped_column(primary_key=True)
    widget_id: Mapped[int] = mapped_column(sa.ForeignKey("tst_widget.id"))
    label: Mapped[str] = mapped_column(sa.String(50))


SDL = """
type TstMaker {
  id: ID!
  name: String!
  widgets(first: Int, after: String): TstWidgetConnection!
}
type TstPart { id: ID! label: String! widget: TstWidget }
type TstWidget {
  id: ID!
  name: String!
  maker: TstMaker
  parts: [TstPart!]!
  pin: String @requires(permission: "tst.widget.secret.view")
}
type TstWidgetEdge implements Edge { cursor: String! node: TstWidget! }
type TstWidgetConnection implements Connection {
  edges: [TstWidgetEdge!]!
  pageInfo: PageInfo!
  totalCount: Int!
}
input TstWidgetFilter { nameContains: String makerId: ID }
type TstNested { value: String child: TstNested }
type TstWidgetPayload implements MutationPayload {
  ok: Boolean!
  errors: [FieldError!]!
  widget: TstWidget
}
extend type Query {
  tstWidgets(filter: TstWidgetFilter, first: Int, after: String, sort: String): TstWidgetConnection!
    @requires(permission: "tst.widget.view")
  tstEcho(text: String!): String!
  tstNested: TstNested! @requires(permission: "tst.widget.view")
  tstBoom: String @requires(permission: "tst.widget.view")
  tstRefuse: String @requires(permission: "tst.widget.view")
}
extend type Mutation {
  tstCreateWidget(name: String!, makerId: ID!): TstWidgetPayload!
    @requires(permission: "tst.widget.edit")
}
"""

query = QueryType()
mutation = MutationType()
widget_type = ObjectType("TstWidget")
nested_type = ObjectType("TstNested")
maker_type = ObjectType("TstMaker")
part_type = ObjectType("TstPart")


@query.field("tstWidgets")
def resolve_widgets(_obj, _info, filter=None, first=None, after=None, sort=None):  # noqa: A002
    CALLS.append("tstWidgets")
    stmt = apply_filters(sa.select(Widget), filter, {
        "nameContains": (Widget.name, "icontains"),
        "makerId": lambda s, v: s.where(Widget.maker_id == int(v))})
    return paginate(stmt, first, after, order_by=sort or Widget.id)


@query.field("tstEcho")
@requires("tst.widget.view")
def resolve_echo(_obj, _info, text):
    CALLS.append("tstEcho")
    return text


@query.field("tstNested")
def resolve_nested(_obj, _info):
    CALLS.append("tstNested")
    return {"value": "x"}


@nested_type.field("child")
def resolve_child(_obj, _info):
    CALLS.append("child")
    return {"value": "x"}


@query.field("tstBoom")
def resolve_boom(_obj, _info):
    CALLS.append("tstBoom")
    raise RuntimeError("database password is hunter2")  # must never reach the client


@query.field("tstRefuse")
def resolve_refuse(_obj, _info):
    from backhaul.sdk.graphql import GraphQLUserError

    raise GraphQLUserError("Nothing to see here.", code="NOT_FOUND")


@maker_type.field("widgets")
def resolve_maker_widgets(maker, _info, first=None, after=None):
    CALLS.append("TstMaker.widgets")
    return paginate(sa.select(Widget).where(Widget.maker_id == maker.id), first, after)


@part_type.field("widget")
def resolve_part_widget(part, _info):
    return load(Widget, part.widget_id)


@widget_type.field("maker")
def resolve_maker(widget, _info):
    return load(Maker, widget.maker_id)


@widget_type.field("parts")
def resolve_parts(widget, _info):
    return load_related(Part, "widget_id", widget.id)


@mutation.field("tstCreateWidget")
@mutation_payload
def resolve_create(_obj, _info, name, makerId):  # noqa: N803
    from backhaul.sdk import db

    CALLS.append("tstCreateWidget")
    if db.session.get(Maker, int(makerId)) is None:
        raise FieldErrors({"makerId": ["No such maker."]})
    widget = Widget(name=name, maker_id=int(makerId), pin="1234")
    db.session.add(widget)
    db.session.flush()
    if not name.strip():
        raise FieldErrors({"name": ["Give the widget a name."]})
    return {"widget": widget}


PERMISSIONS = [Permission("tst.widget.view", "see widgets"),
               Permission("tst.widget.edit", "change widgets"),
               Permission("tst.widget.secret.view", "see widget pins")]


def tst_plugin(temp_plugin, sdl: str = SDL, bindables=None, name: str = "tst",
               permissions=None):
    bindables = (query, mutation, widget_type, nested_type, maker_type, part_type) if bindables is None else bindables
    return temp_plugin(name, permissions=lambda: list(PERMISSIONS if permissions is None
                                                      else permissions),
                       graphql_schema=lambda: GraphQLContribution(sdl, tuple(bindables)))


@contextlib.contextmanager
def tst_tables(app):
    from backhaul.core.db import db

    with app.app_context():
        TstBase.metadata.create_all(db.engine)
    try:
        yield
    finally:
        with app.app_context():
            db.session.remove()
            TstBase.metadata.drop_all(db.engine)


def tst_app_fixture(make_app, temp_plugin):
    """Body of the ``tst_app`` fixtures: an app with only the core and the "tst" plugin,
    its tables created, inside an app context."""
    CALLS.clear()
    app = make_app(plugins=[], extra_plugins=[tst_plugin(temp_plugin)])
    with tst_tables(app), app.app_context():
        yield app


def gql(client, query: str, variables=None, headers=None, **kwargs):
    body = {"query": query}
    if variables is not None:
        body["variables"] = variables
    return client.post("/graphql", json=body, headers=headers or {}, **kwargs)


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


@contextlib.contextmanager
def count_statements(engine):
    statements: list[str] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", before)
