"""The supported plugin API. Everything a plugin author may import is re-exported here.

Anything not listed in ``__all__`` (and everything under ``backhaul.core``) is internal and may
change without notice. The API version is :data:`API_VERSION`; plugins declare a range on it in
``PluginMeta.requires_sdk``.
"""
from __future__ import annotations

from . import audit, instances, provisioning
from .contributions import (
    AccountPanel,
    GraphQLContribution,
    MenuItem,
    PeriodicJob,
    Permission,
    ScheduledActionType,
    SearchResult,
    TimelineEntry,
)
from .extensions import (
    DeliveryResult,
    NotificationChannel,
    OutboundMessage,
    PaymentGateway,
    PaymentResult,
    PaymentStatus,
    ServiceType,
)
from .markers import hookimpl
from .money import CurrencyMismatch, Money
from .plugin import API_VERSION, PluginContext, PluginMeta
from .provisioning import (
    Change,
    DesiredState,
    DeviceRef,
    ProvisioningBackend,
    ProvisioningError,
    Secret,
    Subscriber,
    SubscriberState,
)
from .runtime import (
    TimestampMixin,
    UTCDateTime,
    call_hook,
    csrf_exempt,
    current_actor,
    current_plugin_settings,
    db,
    emit,
    enqueue,
    hook_implementers,
    hookspec,
    may,
    money_columns,
    permission_required,
    plugin_enabled,
    public,
    registered,
    user_may,
    utcnow,
)
from .services import Service, Shard

__all__ = [
    "API_VERSION",
    "AccountPanel",
    "CurrencyMismatch",
    "DeliveryResult",
    "GraphQLContribution",
    "MenuItem",
    "Money",
    "NotificationChannel",
    "OutboundMessage",
    "PaymentGateway",
    "PaymentResult",
    "PaymentStatus",
    "PeriodicJob",
    "Permission",
    "PluginContext",
    "PluginMeta",
    "ProvisioningBackend",
    "ProvisioningError",
    "Change",
    "DesiredState",
    "DeviceRef",
    "Secret",
    "Subscriber",
    "SubscriberState",
    "provisioning",
    "ScheduledActionType",
    "SearchResult",
    "Service",
    "ServiceType",
    "Shard",
    "TimelineEntry",
    "TimestampMixin",
    "UTCDateTime",
    "audit",
    "instances",
    "call_hook",
    "csrf_exempt",
    "current_actor",
    "current_plugin_settings",
    "db",
    "emit",
    "enqueue",
    "hookimpl",
    "hook_implementers",
    "hookspec",
    "may",
    "money_columns",
    "permission_required",
    "plugin_enabled",
    "public",
    "registered",
    "user_may",
    "utcnow",
]
