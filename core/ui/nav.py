"""The staff navigation: contributed menu items, filtered by permission, grouped by section.

Plain functions over the menu items, a permission check and a URL builder, so the filtering is
tested without a request. An item whose endpoint does not exist (its blueprint failed to
register) is left out rather than breaking every page.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from backhaul.sdk.contributions import MenuItem

log = logging.getLogger("backhaul.ui")

#: Sections in this order first; any other section follows alphabetically, "Admin" last.
SECTION_ORDER = ("Main", "Customers", "Billing", "Network", "Support", "Reports")
LAST_SECTIONS = ("Admin",)


@dataclass(frozen=True)
class NavLink:
    label: str
    url: str
    endpoint: str
    icon: str = ""
    active: bool = False


@dataclass(frozen=True)
class NavSection:
    title: str
    links: tuple[NavLink, ...]


def visible_items(items: Iterable[MenuItem], may: Callable[[str], bool]) -> list[MenuItem]:
    """Items the principal may see: no permission needed, or ``may(permission)``."""
    return [item for item in items if item.permission is None or may(item.permission)]


def _section_key(title: str) -> tuple[int, int, str]:
    if title in SECTION_ORDER:
        return (0, SECTION_ORDER.index(title), "")
    if title in LAST_SECTIONS:
        return (2, LAST_SECTIONS.index(title), "")
    return (1, 0, title.lower())


def build_nav(items: Iterable[MenuItem], may: Callable[[str], bool],
              url_for: Callable[[str], str | None], current_path: str = "",
              current_endpoint: str | None = None) -> list[NavSection]:
    """Sections of links for the sidebar; the link matching the current page is active.

    The active link is the one whose endpoint is the current one or, failing that, whose URL
    is the longest prefix of the current path (a detail page highlights its list).
    """
    links: dict[str, list[NavLink]] = {}
    for item in sorted(visible_items(items, may), key=lambda i: (i.order, i.label)):
        url = url_for(item.endpoint)
        if url is None:
            log.debug("menu item '%s' skipped: no endpoint '%s'", item.label, item.endpoint)
            continue
        links.setdefault(item.section, []).append(
            NavLink(item.label, url, item.endpoint, item.icon))
    active = _active_url([link for group in links.values() for link in group],
                         current_path, current_endpoint)
    return [NavSection(title, tuple(
                NavLink(ln.label, ln.url, ln.endpoint, ln.icon, ln.url == active)
                for ln in links[title]))
            for title in sorted(links, key=_section_key)]


def _active_url(links: list[NavLink], path: str, endpoint: str | None) -> str | None:
    for link in links:
        if endpoint and link.endpoint == endpoint:
            return link.url
    best = None
    for link in links:
        base = link.url.rstrip("/")
        if base and (path == base or path.startswith(base + "/")):
            if best is None or len(base) > len(best.rstrip("/")):
                best = link.url
    return best
