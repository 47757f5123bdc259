"""The global search box: accounts (number, name, contact e-mail or phone) and addresses.

Only what the signed-in principal may see is returned: accounts need
``accounts.account.view``, addresses ``accounts.address.view``.
"""
from __future__ import annotations

from flask import url_for

from backhaul.core.auth.identity import current_principal
from backhaul.core.db import db
from backhaul.sdk.contributions import SearchResult

from .accounts import search_accounts
from .addresses import current_tenant, search_addresses


def _score(query: str, *texts: str) -> float:
    q = query.lower()
    texts = [t.lower() for t in texts if t]
    if q in texts:
        return 1.0
    if any(t.startswith(q) for t in texts):
        return 0.8
    return 0.5


def search(query: str, limit: int) -> list[SearchResult]:
    principal = current_principal()
    results: list[SearchResult] = []
    if principal.has_permission("accounts.account.view"):
        for account in db.session.scalars(search_accounts(query).limit(limit)):
            where = account.address.one_line if account.address else account.account_type
            results.append(SearchResult(
                f"{account.name} ({account.number})",
                url_for("accounts.account_show", account_id=account.id), "account",
                f"{account.status.name} · {where}", _score(query, account.number, account.name)))
    if principal.has_permission("accounts.address.view"):
        sees_accounts = principal.has_permission("accounts.account.view")
        stmt = search_addresses(query).limit(limit)
        for address in db.session.scalars(stmt):
            tenant = current_tenant(address)
            who = (f"{tenant.name} ({tenant.number})" if sees_accounts else "occupied") \
                if tenant else "vacant"
            results.append(SearchResult(
                address.one_line, url_for("accounts.address_show", address_id=address.id),
                "address", who,
                _score(query, address.unit, address.street) * 0.9))
    return results


