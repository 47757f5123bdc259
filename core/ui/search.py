"""The global search box: ask every plugin's ``search`` hook, merge the answers by score.

A plugin that raises or answers with something other than ``SearchResult`` items is left out
and named in ``failed`` (the page says its results are missing), and the others still answer.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

from backhaul.sdk.contributions import SearchResult

log = logging.getLogger("backhaul.ui")

MIN_QUERY = 2
MAX_QUERY = 200
PER_PLUGIN = 10
MAX_RESULTS = 50


@dataclass
class SearchOutcome:
    query: str
    results: list[tuple[str, SearchResult]] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    too_short: bool = False


def normalize_query(raw: str | None) -> str:
    return " ".join((raw or "").split())[:MAX_QUERY]


def run_search(plugins, raw_query: str | None, user, per_plugin: int = PER_PLUGIN,
               limit: int = MAX_RESULTS) -> SearchOutcome:
    """Results from every enabled plugin as ``(plugin, result)``, best score first."""
    query = normalize_query(raw_query)
    outcome = SearchOutcome(query=query)
    if len(query) < MIN_QUERY:
        outcome.too_short = bool(query)
        return outcome

    def failed(plugin: str, exc: BaseException) -> None:
        outcome.failed.append(plugin)

    for plugin, answer in plugins.call("search", query=query, user=user, limit=per_plugin,
                                       on_error=failed):
        if answer is None:
            continue
        try:
            items = list(answer)
        except TypeError:
            items = [answer]
        bad = [item for item in items if not isinstance(item, SearchResult)]
        if bad:
            log.error("plugin '%s' search returned %s, expected SearchResult",
                      plugin, type(bad[0]).__name__)
            outcome.failed.append(plugin)
            continue
        outcome.results.extend((plugin, item) for item in items[:per_plugin])
    # stable: equal scores keep plugin load order
    outcome.results.sort(key=lambda pair: -float(pair[1].score or 0))
    del outcome.results[limit:]
    return outcome
