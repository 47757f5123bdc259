"""Per-token rate limits on ``/graphql``, published in the response headers.

Each principal (an API token, or a signed-in user's session) may send ``GRAPHQL_RATE_LIMIT``
requests per ``GRAPHQL_RATE_WINDOW`` seconds (fixed windows; ``0`` turns the limit off).
Every response says where the caller stands, in the IETF ``RateLimit`` header fields::

    RateLimit-Policy: 600;w=60
    RateLimit-Limit: 600
    RateLimit-Remaining: 412
    RateLimit-Reset: 37          (seconds until the window ends)

Past the limit the answer is ``429`` with ``Retry-After`` (seconds) and a JSON error whose
code is ``RATE_LIMITED``; nothing is executed. With ``REDIS_URL`` set the counters live in
Redis (``INCR`` + ``EXPIRE``), shared by every process and machine serving the API; without
Redis each process counts on its own.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

log = logging.getLogger("backhaul.graphql")


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    reset: int  # seconds until the window ends
    window: int

    def headers(self) -> dict[str, str]:
        out = {"RateLimit-Policy": f"{self.limit};w={self.window}",
               "RateLimit-Limit": str(self.limit),
               "RateLimit-Remaining": str(self.remaining),
               "RateLimit-Reset": str(self.reset)}
        if not self.allowed:
            out["Retry-After"] = str(self.reset)
        return out


def principal_key(principal) -> str | None:
    """``token:<id>`` or ``user:<id>``; ``None`` for anonymous callers (refused anyway)."""
    token = getattr(principal, "token", None)
    if token is not None:
        return f"token:{token.id}"
    user = getattr(principal, "user", None)
    if user is not None and getattr(principal, "is_authenticated", False):
        return f"user:{user.id}"
    return None


class RateLimiter:
    """Fixed-window counters in Redis (when given) or in this process."""

    def __init__(self, limit: int, window: int, redis=None, prefix: str = "backhaul"):
        if window < 1:
            raise ValueError("GRAPHQL_RATE_WINDOW must be at least 1 second")
        self.limit, self.window, self.redis = limit, window, redis
        self.prefix = f"{prefix}:graphql-rate"
        self._local: dict[str, tuple[int, int]] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_config(cls, config) -> RateLimiter:
        redis = None
        if config.get("REDIS_URL"):
            from redis import Redis

            redis = Redis.from_url(config["REDIS_URL"], socket_connect_timeout=2,
                                   socket_timeout=2)
        return cls(int(config.get("GRAPHQL_RATE_LIMIT", 600)),
                   int(config.get("GRAPHQL_RATE_WINDOW", 60)), redis,
                   config.get("QUEUE_PREFIX", "backhaul"))

    @property
    def enabled(self) -> bool:
        return self.limit > 0

    def hit(self, key: str, now: float | None = None) -> Decision:
        """Count one request of ``key`` and say whether it may run."""
        now = time.time() if now is None else now
        window_start = int(now // self.window) * self.window
        reset = max(1, int(window_start + self.window - now + 0.999))
        count = self._count(key, window_start)
        return Decision(count <= self.limit, self.limit, max(0, self.limit - count), reset,
                        self.window)

    def _count(self, key: str, window_start: int) -> int:
        if self.redis is not None:
            from redis import RedisError

            name = f"{self.prefix}:{key}:{window_start}"
            try:
                pipe = self.redis.pipeline()
                pipe.incr(name)
                pipe.expire(name, self.window + 5)
                return int(pipe.execute()[0])
            except RedisError as exc:  # the API stays up; this process counts meanwhile
                log.warning("GraphQL rate limit: Redis unavailable (%s); counting in-process",
                            type(exc).__name__)
        with self._lock:
            start, count = self._local.get(key, (window_start, 0))
            if start != window_start:
                count = 0
                if len(self._local) > 10_000:  # forget the windows that ended
                    self._local = {k: v for k, v in self._local.items()
                                   if v[0] == window_start}
            self._local[key] = (window_start, count + 1)
            return count + 1
