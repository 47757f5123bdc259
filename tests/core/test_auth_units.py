"""Plain-function rules of the auth package (no app needed)."""
from __future__ import annotations

import pyotp
import pytest

from backhaul.core.auth import passwords, totp
from backhaul.core.auth.decorators import safe_next
from backhaul.core.auth.roles import is_read_permission
from backhaul.core.auth.tokens import TokenError, parse_networks


@pytest.mark.parametrize("name,read", [("billing.invoice.view", True), ("a.b.list", True),
                                       ("a.b.read", True), ("billing.invoice.void", False),
                                       ("core.graphql.explore", False), ("a.view.edit", False)])
def test_read_permissions_are_those_ending_in_a_read_verb(name, read):
    assert is_read_permission(name) is read


def test_password_policy():
    assert passwords.policy_problems("short", 12) == ["Use at least 12 characters."]
    assert passwords.policy_problems("x" * 2000, 12) == ["Use at most 1024 characters."]
    assert passwords.policy_problems("ann@example.test", 12, "Ann@example.test") == [
        "The password cannot be your e-mail address."]
    assert passwords.policy_problems("a perfectly fine one", 12) == []


def test_hashes_are_argon2id_and_verify():
    digest = passwords.hash_password("a perfectly fine one")
    assert digest.startswith("$argon2id$")
    assert passwords.verify_password(digest, "a perfectly fine one")
    assert not passwords.verify_password(digest, "another one")
    assert not passwords.verify_password("not a hash", "x")
    assert not passwords.verify_password(None, "x")


def test_networks_parse_and_reject():
    assert parse_networks("10.0.0.1/8, 2001:db8::/32\n192.0.2.7") == [
        "10.0.0.0/8", "2001:db8::/32", "192.0.2.7/32"]
    assert parse_networks("") == []
    with pytest.raises(TokenError, match="not an IP network"):
        parse_networks("10.0.0.0/33")


@pytest.mark.parametrize("target,expected", [
    ("/accounts/1?tab=x", "/accounts/1?tab=x"), ("//evil.example", None),
    ("https://evil.example/", None), ("/\\evil.example", None), ("", None), (None, None),
    ("javascript:alert(1)", None)])
def test_next_targets_stay_on_the_site(target, expected):
    assert safe_next(target) == expected


def test_totp_codes_match_within_one_step_only():
    seed = pyotp.random_base32()
    now = 1_700_000_000
    code = pyotp.TOTP(seed).at(now)
    assert totp.matching_counter(seed, code, now) == now // 30
    assert totp.matching_counter(seed, code, now + 30) == now // 30
    assert totp.matching_counter(seed, code, now + 95) is None
    assert totp.matching_counter(seed, "12 34 5", now) is None


def test_seed_encryption_is_bound_to_the_secret_key():
    stored = totp.encrypt_seed("JBSWY3DPEHPK3PXP", "key one")
    assert "JBSWY3DPEHPK3PXP" not in stored
    assert totp.decrypt_seed(stored, "key one") == "JBSWY3DPEHPK3PXP"
    assert totp.decrypt_seed(stored, "key two") is None


@pytest.mark.parametrize("common", ["password1234", "123456789012", "aaaaaaaaaaaa",
                                    "qwertyuiop12", "iloveyou2026", "abcdefghijkl"])
def test_common_and_trivial_passwords_are_refused(common):
    """Issue 11 #8: these were accepted; the list and patterns come from zxcvbn."""
    problems = passwords.policy_problems(common, 12)
    assert problems and "too easy to guess" in problems[0]


def test_a_password_made_of_the_users_name_is_guessable():
    assert passwords.policy_problems("annlee123456", 12, "ann.lee@example.test")

