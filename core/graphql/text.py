"""Text the database cannot store, reported to the client as its own mistake.

PostgreSQL's ``text`` cannot hold NUL (U+0000); psycopg refuses such a value before sending
it. Where a plugin checks its input, the client gets that plugin's field error (a mutation
payload's ``errors``); anywhere else (a search filter, a lookup argument) the refusal reached
the error formatter as an unexpected exception and answered INTERNAL_ERROR. The formatter
asks :func:`is_nul_in_text` and answers ``BAD_USER_INPUT`` at the field's path instead.
"""
from __future__ import annotations

MESSAGE = "Text may not contain the NUL character (\\u0000)."


def is_nul_in_text(exc: BaseException | None) -> bool:
    """Whether ``exc`` (or what it wraps) is the driver refusing NUL in a text value."""
    seen = 0
    while exc is not None and seen < 8:
        if type(exc).__name__ == "DataError" and "NUL (0x00)" in str(exc):
            return True
        exc = getattr(exc, "orig", None) or exc.__cause__
        seen += 1
    return False
