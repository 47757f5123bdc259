"""``list_page``: pagination, whitelisted sorting, filters and search from query args.

Runs on the session's real database (PostgreSQL or SQLite) with a table of its own, without
Flask: the helper takes the args, base URL and session explicitly.
"""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from backhaul.sdk.ui import Filter, list_page


class Base(DeclarativeBase):
    pass


class Item(Base):
    __tablename__ = "test_ui_list_item"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(50))
    status: Mapped[str] = mapped_column(sa.String(20))
    city: Mapped[str] = mapped_column(sa.String(50))
    secret: Mapped[str] = mapped_column(sa.String(50), default="x")


STATUSES = [("active", "Active"), ("suspended", "Suspended"), ("closed", "Closed")]


@pytest.fixture
def session(backhaul_database_url):
    engine = sa.create_engine(backhaul_database_url)
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    with Session(engine) as s:
        cities = ["Lisbon", "Porto", "Faro"]
        for i in range(1, 61):
            s.add(Item(id=i, name=f"Customer {i:02d}", status=STATUSES[i % 3][0],
                       city=cities[i % 3]))
        s.add(Item(id=61, name="100% Fibre_Co", status="active", city="Braga"))
        s.add(Item(id=62, name="100 Fibre Co", status="active", city="Braga"))
        s.commit()
        yield s
    Base.metadata.drop_all(engine)
    engine.dispose()


def page_of(session, args, **kw):
    kw.setdefault("sortable", {"name": Item.name, "city": Item.city})
    kw.setdefault("filters", {"status": Filter(Item.status, choices=STATUSES),
                              "city": Item.city})
    kw.setdefault("search", [Item.name, Item.city])
    return list_page(sa.select(Item), args=args, base_url="/items", session=session, **kw)


def test_first_page_and_counts(session):
    page = page_of(session, {})
    assert (page.total, page.pages, page.page, len(page.rows)) == (62, 3, 1, 25)
    assert (page.first_index, page.last_index) == (1, 25)
    assert page.has_next and not page.has_prev
    assert all(isinstance(r, Item) for r in page.rows)


def test_last_page_and_out_of_range_pages_are_clamped(session):
    assert len(page_of(session, {"page": "3"}).rows) == 12
    beyond = page_of(session, {"page": "99"})
    assert beyond.page == 3 and len(beyond.rows) == 12
    for junk in ("-4", "0", "abc", ""):
        assert page_of(session, {"page": junk}).page == 1


def test_empty_result_is_page_one_of_one(session):
    page = page_of(session, {"q": "no such thing", "page": "5"})
    assert (page.total, page.page, page.pages, page.rows) == (0, 1, 1, [])
    assert (page.first_index, page.last_index) == (0, 0)


def test_sort_ascending_descending(session):
    asc = page_of(session, {"sort": "name"})
    assert {r.name for r in asc.rows[:2]} == {"100 Fibre Co", "100% Fibre_Co"}
    assert asc.rows[2].name == "Customer 01"
    desc = page_of(session, {"sort": "-name"})
    assert desc.rows[0].name == "Customer 60"
    assert desc.sort_state("name") == "descending" and desc.sort_state("city") is None


def test_sort_on_a_column_not_whitelisted_is_ignored(session):
    for bad in ("secret", "-secret", "id; DROP TABLE x", "__class__"):
        page = page_of(session, {"sort": bad}, default_sort="-name")
        assert page.sort == "name" and page.descending
        assert page.rows[0].name == "Customer 60"
        assert "sort" not in page.args


def test_paging_with_a_non_unique_sort_key_never_repeats_rows(session):
    seen = []
    for n in (1, 2, 3):
        seen += [r.id for r in page_of(session, {"sort": "city", "page": str(n)}).rows]
    assert sorted(seen) == list(range(1, 63))


def test_filter_with_choices_and_an_unknown_value(session):
    page = page_of(session, {"status": "closed"})
    assert page.total == 20 and {r.status for r in page.rows} == {"closed"}
    assert page.active_filters == {"status": "closed"}
    ignored = page_of(session, {"status": "' OR 1=1 --"})
    assert ignored.total == 62 and ignored.active_filters == {}


def test_free_filter_and_custom_apply(session):
    assert page_of(session, {"city": "Braga"}).total == 2
    starts = Filter(label="Starts with", apply=lambda stmt, v: stmt.where(Item.name.startswith(v)))
    page = page_of(session, {"prefix": "100"}, filters={"prefix": starts})
    assert page.total == 2 and page.filters[0].label == "Starts with"


def test_search_is_case_insensitive_across_columns_and_words(session):
    assert page_of(session, {"q": "lisbon"}).total == 20
    assert page_of(session, {"q": "customer 0"}).total == 15  # 01-09, 10, 20 ... 60
    assert page_of(session, {"q": "  CUSTOMER   faro "}).q == "CUSTOMER faro"
    assert page_of(session, {"q": "customer faro"}).total == 20


def test_search_treats_like_wildcards_literally(session):
    assert [r.name for r in page_of(session, {"q": "100%"}).rows] == ["100% Fibre_Co"]
    assert [r.name for r in page_of(session, {"q": "e_c"}).rows] == ["100% Fibre_Co"]


def test_search_without_searchable_columns_is_ignored(session):
    page = page_of(session, {"q": "lisbon"}, search=[])
    assert page.total == 62 and not page.searchable and page.q == "lisbon"


def test_rows_of_plain_columns(session):
    page = list_page(sa.select(Item.name, Item.city).order_by(Item.id), args={},
                     base_url="/x", session=session, per_page=5)
    assert page.rows[0].name == "Customer 01" and page.rows[0].city == "Porto"


def test_urls_keep_state_and_reset_page(session):
    page = page_of(session, {"q": "customer", "status": "active", "sort": "name",
                             "page": "2", "junk": "1"}, per_page=5)
    assert page.pages == 4
    assert page.args == {"q": "customer", "status": "active", "sort": "name", "page": "2"}
    nxt = parse_qs(urlsplit(page.url(page=page.page + 1)).query)
    assert nxt == {"q": ["customer"], "status": ["active"], "sort": ["name"], "page": ["3"]}
    assert "page" not in parse_qs(urlsplit(page.url(page=1)).query)
    toggled = parse_qs(urlsplit(page.sort_url("name")).query)
    assert toggled["sort"] == ["-name"] and "page" not in toggled
    assert parse_qs(urlsplit(page.sort_url("city")).query)["sort"] == ["city"]
    assert page.clear_url() == "/items?sort=name"


def test_page_numbers_have_gaps(session):
    page = list_page(sa.select(Item), args={"page": "6"}, base_url="/x", session=session,
                     per_page=5)
    assert page.pages == 13
    assert page.page_numbers() == [1, None, 4, 5, 6, 7, 8, None, 13]
    first = list_page(sa.select(Item), args={}, base_url="/x", session=session, per_page=5)
    assert first.page_numbers() == [1, 2, 3, None, 13]
