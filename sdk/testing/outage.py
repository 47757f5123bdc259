"""A real database outage for tests: PostgreSQL refuses the test database's connections.

``ALTER DATABASE … CONNECTION LIMIT 0`` plus terminating the sessions already open makes
every new connection fail the way it does when the server is down or full, without stopping
the shared server. For code that must keep working (spool, journal, retry) while the
database is unreachable and catch up after.
"""
from __future__ import annotations

import sqlalchemy as sa


class DatabaseOutage:
    """``outage = DatabaseOutage(db.engine.url); outage.start(); …; outage.end()``."""

    def __init__(self, url):
        if url.get_backend_name() != "postgresql":
            raise ValueError("the outage is made with PostgreSQL's connection limit")
        self.name = url.database
        self._admin = sa.create_engine(url.set(database="postgres"),
                                       isolation_level="AUTOCOMMIT")

    def start(self) -> None:
        with self._admin.connect() as conn:
            conn.execute(sa.text(f'ALTER DATABASE "{self.name}" CONNECTION LIMIT 0'))
            conn.execute(sa.text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = :n AND pid <> pg_backend_pid()"), {"n": self.name})

    def end(self) -> None:
        with self._admin.connect() as conn:
            conn.execute(sa.text(f'ALTER DATABASE "{self.name}" CONNECTION LIMIT -1'))

    def close(self) -> None:
        self.end()
        self._admin.dispose()
