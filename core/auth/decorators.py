"""View decorators (placeholder until the auth work lands)."""
from __future__ import annotations

import functools


def permission_required(permission: str):
    def decorate(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            return view(*args, **kwargs)

        wrapper.required_permission = permission
        return wrapper

    return decorate
