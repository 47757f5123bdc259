"""Password hashing (argon2id with argon2-cffi's defaults) and the password policy.

Werkzeug's default scrypt parameters fall below OWASP ASVS 5; argon2-cffi's defaults pass.
When the defaults change (a library upgrade), :func:`needs_rehash` tells the sign-in flow to
store a fresh hash while it still holds the plaintext.
"""
from __future__ import annotations

import functools
import re
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher()

#: Passwords longer than this are refused (hashing megabytes is a denial-of-service lever).
MAX_LENGTH = 1024
DEFAULT_MIN_LENGTH = 12


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when ``password`` matches. A missing or malformed hash never matches."""
    if not password_hash or len(password) > MAX_LENGTH:
        dummy_verify(password[:MAX_LENGTH])
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with other parameters than the current defaults."""
    try:
        return _hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


@functools.lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return _hasher.hash(secrets.token_urlsafe(24))


def dummy_verify(password: str) -> None:
    """Spend the time a real verification takes (for unknown e-mail addresses)."""
    try:
        _hasher.verify(_dummy_hash(), password)
    except VerificationError:
        pass


def policy_problems(password: str, min_length: int = DEFAULT_MIN_LENGTH,
                    email: str | None = None) -> list[str]:
    """What is wrong with a new password (empty list: acceptable).

    Length is what matters (NIST SP 800-63B): no composition rules, but a minimum length,
    a maximum that protects the server, and not the user's own e-mail address.
    """
    problems = []
    if len(password) < min_length:
        problems.append(f"Use at least {min_length} characters.")
    if len(password) > MAX_LENGTH:
        problems.append(f"Use at most {MAX_LENGTH} characters.")
    if password.strip() == "":
        problems.append("The password cannot be only spaces.")
    elif email and password.strip().lower() == email.strip().lower():
        problems.append("The password cannot be your e-mail address.")
    elif not problems and guessable(password, email):
        problems.append("This password is too easy to guess (a common password, a word with "
                        "a few digits, a keyboard or number run, repeated characters): use a "
                        "few unrelated words instead.")
    return problems


def guessable(password: str, email: str | None = None) -> bool:
    """Whether ``password`` is among the most common ones or a trivial pattern.

    zxcvbn (Dropbox's estimator, with its list of the 30,000 most common passwords and
    detectors for keyboard runs, sequences, repeats and dates) scores it; below 3 ("safely
    unguessable" at 10^8 guesses) it is refused. Only the first 64 characters are scored:
    the estimate's cost grows with length, and a longer password is not weak by pattern.
    """
    from zxcvbn import zxcvbn

    inputs: list[str] = []
    if email:
        local = email.split("@")[0]
        parts = [p for p in re.split(r"[._+-]", local) if p]
        inputs = [email, local, "".join(parts), *parts]
    return zxcvbn(password[:64], user_inputs=inputs)["score"] < 3


def generate_password() -> str:
    """A random password for generated accounts (about 128 bits)."""
    return secrets.token_urlsafe(16)
