"""TOTP two-factor sign-in (RFC 6238 via pyotp): enrolment, verification, replay protection.

The seed is stored encrypted (Fernet, key derived with HKDF from the app's secret key), so a
database dump alone does not yield second factors. Changing the secret key makes stored
seeds unreadable: affected users re-enrol after ``backhaul users reset-2fa``.
"""
from __future__ import annotations

import base64
import logging
import time

import pyotp
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from .models import User

log = logging.getLogger("backhaul.security")

ISSUER = "Backhaul"
#: Codes from one step before or after the current one are accepted (clock drift).
VALID_WINDOW = 1


def _fernet(secret_key: str) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
               info=b"backhaul.auth.totp-seed").derive(secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(key))


def encrypt_seed(seed: str, secret_key: str) -> str:
    return _fernet(secret_key).encrypt(seed.encode()).decode()


def decrypt_seed(stored: str, secret_key: str) -> str | None:
    """The base32 seed, or ``None`` when it cannot be decrypted (secret key changed)."""
    try:
        return _fernet(secret_key).decrypt(stored.encode()).decode()
    except (InvalidToken, ValueError):
        log.error("a stored TOTP seed cannot be decrypted (was the secret key changed?)")
        return None


def start_enrolment(user: User, secret_key: str) -> tuple[str, str]:
    """Give ``user`` a new pending seed; returns ``(seed, otpauth URI)`` to show once."""
    seed = pyotp.random_base32()
    user.totp_secret = encrypt_seed(seed, secret_key)
    user.totp_enabled = False
    user.totp_last_counter = None
    uri = pyotp.TOTP(seed).provisioning_uri(name=user.email, issuer_name=ISSUER)
    return seed, uri


def matching_counter(seed: str, code: str, now: float | None = None) -> int | None:
    """The time step whose code equals ``code`` (within the window), else ``None``."""
    code = (code or "").strip().replace(" ", "")
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(seed)
    moment = time.time() if now is None else now
    current = int(moment // totp.interval)
    for step in range(current - VALID_WINDOW, current + VALID_WINDOW + 1):
        if pyotp.utils.strings_equal(totp.generate_otp(step), code):
            return step
    return None


def verify_code(user: User, code: str, secret_key: str, now: float | None = None) -> bool:
    """Check a code for ``user``'s seed (pending or enabled); a used time step is refused."""
    if not user.totp_secret:
        return False
    seed = decrypt_seed(user.totp_secret, secret_key)
    if seed is None:
        return False
    step = matching_counter(seed, code, now)
    if step is None:
        return False
    if user.totp_last_counter is not None and step <= user.totp_last_counter:
        log.warning("TOTP code replay refused for user %s", user.id)
        return False
    user.totp_last_counter = step
    return True


def confirm_enrolment(user: User, code: str, secret_key: str) -> bool:
    """Enable two-factor sign-in once the user proves their app produces the right codes."""
    if user.totp_enabled or not verify_code(user, code, secret_key):
        return False
    user.totp_enabled = True
    return True


def disable(user: User) -> None:
    user.totp_secret = None
    user.totp_enabled = False
    user.totp_last_counter = None


def current_code(user: User, secret_key: str, now: float | None = None) -> str:
    """The code ``user``'s authenticator shows now (for tests and the test kit)."""
    seed = decrypt_seed(user.totp_secret or "", secret_key)
    if seed is None:
        raise ValueError("user has no readable TOTP seed")
    totp = pyotp.TOTP(seed)
    moment = time.time() if now is None else now
    return totp.generate_otp(int(moment // totp.interval))
