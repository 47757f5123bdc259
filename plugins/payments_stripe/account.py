"""The Stripe account: one configured instance of the ``stripe`` gateway (secrets sealed by
the core's instance store; blank secret inputs keep the stored value)."""
from __future__ import annotations

from backhaul.sdk.instances import Instance, InstanceInvalid, list_instances, save_instance

OWNER, KIND, KEY = "payments_stripe", "payment_gateways", "stripe"


def current() -> Instance | None:
    found = [i for i in list_instances(owner=OWNER, kind=KIND) if i.extension_key == KEY]
    return found[0] if found else None


def save(settings: dict, *, name: str = "Stripe", enabled: bool = True) -> Instance:
    """Validate and store the account (creating it the first time); the caller commits.
    Raises ``InstanceInvalid`` with field errors (``settings``: by field), nothing stored."""
    existing = current()
    return save_instance(KIND, KEY, owner=OWNER, name=name, settings=settings,
                         instance_id=existing.id if existing else None, enabled=enabled)


def field_errors(exc: InstanceInvalid) -> dict[str, list[str]]:
    """``{"settings.secret_key": [...], "name": [...]}``: flat, for forms and GraphQL."""
    out: dict[str, list[str]] = {}
    for key, value in exc.errors.items():
        if isinstance(value, dict):
            for field, messages in value.items():
                out[f"{key}.{field}"] = [str(m) for m in (
                    messages if isinstance(messages, list) else [messages])]
        else:
            out[key] = [str(m) for m in (value if isinstance(value, list) else [value])]
    return out


__all__ = ["current", "field_errors", "save"]
