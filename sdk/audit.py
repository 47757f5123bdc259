"""The audit trail, for plugin authors.

Creates, updates and deletes of your models are recorded automatically (mark a model
``__audit__ = False`` to opt out, list secret columns in ``__audit_secret__`` — recorded as
``"***"``, as are ``__sealed__`` columns (see ``backhaul.sdk.instances``) — and noisy bookkeeping columns in ``__audit_exclude__``). Record security and money
events explicitly::

    from backhaul.sdk import audit

    audit.record("billing.payment", "billing_payment", payment.id,
                 {"amount": payment.amount, "gateway": "stripe"})

The entry is written with the current transaction (and only if it commits).
"""
from __future__ import annotations


def record(action: str, object_type: str, object_id: object = None,
           changes: dict | None = None, *, session=None) -> None:
    """Record an explicit event; see :func:`backhaul.core.audit.recorder.record`."""
    from backhaul.core.audit.recorder import record as _record

    _record(action, object_type, object_id, changes, session=session)


__all__ = ["record"]
