"""Password hashing and policy for plugins that sign people in (the customer portal).

The same argon2id hashing, timing-equalising dummy check and length/guessability policy the
core uses for staff sign-in, so that a plugin never writes its own (and never a weaker one).
"""
from __future__ import annotations

from backhaul.core.auth.passwords import (
    MAX_LENGTH,
    dummy_verify,
    hash_password,
    needs_rehash,
    policy_problems,
    verify_password,
)

__all__ = ["MAX_LENGTH", "dummy_verify", "hash_password", "needs_rehash", "policy_problems",
           "verify_password"]
