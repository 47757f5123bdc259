"""Read-only queries behind :mod:`.api`: ORM rows in, frozen dataclasses out.

Constant SQL per call whatever the number of subscriptions (services and packages are
loaded in one query each), so a network plugin can ask for every data subscriber at once.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from backhaul.sdk import db

from .models import Package, PackageItem, Service, Subscription


@dataclass(frozen=True)
class ServiceInfo:
    """A sellable service of the catalogue. ``params`` follow the type's parameter schema
    (a ``data`` service: ``download_mbps``, ``upload_mbps``, ``allowance_gb``...)."""

    id: int
    name: str
    type_key: str
    params: dict
    active: bool


@dataclass(frozen=True)
class SubscriptionInfo:
    """One service line of an account. A package line yields one per item: same ``id``,
    distinct ``service_id``; ``quantity`` is the line's quantity times the item's."""

    id: int
    account_id: int
    service_id: int
    service_name: str
    type_key: str
    params: dict
    quantity: int
    start_date: date
    end_date: date | None


def _info(service: Service) -> ServiceInfo:
    return ServiceInfo(service.id, service.name, service.type_key, dict(service.params or {}),
                       bool(service.active))


def service_info(service_id: int) -> ServiceInfo | None:
    if isinstance(service_id, bool) or not isinstance(service_id, int):
        return None
    service = db.session.get(Service, service_id)
    return _info(service) if service is not None else None


def services(*, type_key: str | None = None, active_only: bool = True) -> list[ServiceInfo]:
    query = sa.select(Service).order_by(Service.name, Service.id)
    if type_key is not None:
        query = query.where(Service.type_key == type_key)
    if active_only:
        query = query.where(Service.active.is_(True))
    return [_info(s) for s in db.session.scalars(query)]


def subscription_infos(*, account_ids: Iterable[int] | None = None,
                       type_keys: Iterable[str] | None = None, on: date | None = None,
                       subscription_ids: Iterable[int] | None = None
                       ) -> list[SubscriptionInfo]:
    query = sa.select(Subscription).options(
        selectinload(Subscription.package).selectinload(Package.items)
        .joinedload(PackageItem.service)).order_by(Subscription.account_id, Subscription.id)
    if account_ids is not None:
        query = query.where(Subscription.account_id.in_(list(account_ids)))
    if subscription_ids is not None:
        query = query.where(Subscription.id.in_(list(subscription_ids)))
    if on is not None:
        query = query.where(Subscription.start_date <= on, sa.or_(
            Subscription.end_date.is_(None), Subscription.end_date > on))
    wanted = set(type_keys) if type_keys is not None else None
    out = []
    for sub in db.session.scalars(query).unique():
        items = ([(sub.service, 1)] if sub.service is not None
                 else [(item.service, item.quantity) for item in sub.package.items])
        for service, per_line in items:
            if wanted is not None and service.type_key not in wanted:
                continue
            out.append(SubscriptionInfo(sub.id, sub.account_id, service.id, service.name,
                                        service.type_key, dict(service.params or {}),
                                        sub.quantity * per_line, sub.start_date, sub.end_date))
    return out


__all__ = ["service_info", "services", "subscription_infos"]
