"""Per-token rate limits on /graphql: published headers, 429 with Retry-After, per token.

Counted in the real Redis of the test peers (shared by every process serving the API), and
in-process when no Redis is configured.
"""
from __future__ import annotations

import pytest

from backhaul.sdk.testing.auth import create_api_token, make_staff_user

QUERY = {"query": "{ viewer { email } }"}


def _token(app):
    with app.app_context():
        return {"Authorization": f"Bearer {create_api_token(make_staff_user(), 'read')}"}


@pytest.mark.parametrize("backend", ["redis", "in-process"])
def test_limit_headers_and_refusal(make_app, redis_url, backend):
    config = {"graphql_rate_limit": 3, "graphql_rate_window": 3600}
    if backend == "redis":
        config["redis_url"] = redis_url
    app = make_app(plugins=[], **config)
    first, second = _token(app), _token(app)
    client = app.test_client()
    remaining = []
    for _ in range(3):
        response = client.post("/graphql", json=QUERY, headers=first)
        assert response.status_code == 200
        assert response.headers["RateLimit-Limit"] == "3"
        assert response.headers["RateLimit-Policy"] == "3;w=3600"
        assert 0 < int(response.headers["RateLimit-Reset"]) <= 3600
        assert "Retry-After" not in response.headers
        remaining.append(response.headers["RateLimit-Remaining"])
    assert remaining == ["2", "1", "0"]
    refused = client.post("/graphql", json=QUERY, headers=first)
    assert refused.status_code == 429
    assert refused.headers["RateLimit-Remaining"] == "0"
    assert refused.headers["Retry-After"] == refused.headers["RateLimit-Reset"]
    error = refused.get_json()["errors"][0]
    assert error["extensions"]["code"] == "RATE_LIMITED"
    assert "3 per 3600 s" in error["message"]
    # another token has its own budget
    other = client.post("/graphql", json=QUERY, headers=second)
    assert other.status_code == 200 and other.headers["RateLimit-Remaining"] == "2"


def test_redis_counts_are_shared_by_every_app_process(make_app, redis_url):
    """Two apps (two server processes) on one Redis spend one token's budget together."""
    one = make_app(plugins=[], graphql_rate_limit=2, graphql_rate_window=3600,
                   redis_url=redis_url)
    two = make_app(plugins=[], graphql_rate_limit=2, graphql_rate_window=3600,
                   redis_url=redis_url)
    headers = _token(one)
    assert one.test_client().post("/graphql", json=QUERY, headers=headers).status_code == 200
    assert two.test_client().post("/graphql", json=QUERY, headers=headers).status_code == 200
    assert two.test_client().post("/graphql", json=QUERY, headers=headers).status_code == 429


def test_window_ends(make_app):
    from backhaul.core.graphql.ratelimit import RateLimiter

    limiter = RateLimiter(limit=2, window=60)
    assert [limiter.hit("token:1", now=120.0).allowed for _ in range(3)] == [True, True, False]
    refused = limiter.hit("token:1", now=150.5)
    assert (refused.allowed, refused.reset) == (False, 30)
    assert limiter.hit("token:1", now=180.0).allowed  # a new window
    assert limiter.hit("token:2", now=150.0).remaining == 1


def test_zero_turns_the_limit_off(make_app):
    app = make_app(plugins=[], graphql_rate_limit=0)
    response = app.test_client().post("/graphql", json=QUERY, headers=_token(app))
    assert response.status_code == 200 and "RateLimit-Limit" not in response.headers
