"""Scratch tables for the raw PostgreSQL ceilings, dropped whatever happens."""

import contextlib
import uuid

import psycopg2
from psycopg2 import sql


def _execute(dsn, statement):
    scratch = psycopg2.connect(dsn)
    try:
        with scratch, scratch.cursor() as cursor:
            cursor.execute(statement)
    finally:
        scratch.close()


@contextlib.contextmanager
def scratch_table(dsn, name, columns):
    """Create ``benchmark_<name>_<random>`` with ``columns`` (SQL); yield its name."""
    table = sql.Identifier(f"benchmark_{name}_{uuid.uuid4().hex[:8]}")
    _execute(dsn, sql.SQL("CREATE TABLE {} ({})").format(table, sql.SQL(columns)))
    try:
        yield table
    finally:
        _execute(dsn, sql.SQL("DROP TABLE {}").format(table))
