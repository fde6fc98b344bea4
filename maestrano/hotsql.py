"""Reads on every request's path, written as SQL and loaded into model instances.

Compiling a query costs the ORM longer than PostgreSQL takes to answer it: about
half a millisecond per query on a small machine, paid again on every request.
The few reads that nearly every API request makes (the caller's credentials, the
app instance a write names) are written once as SQL over the models' own columns
and come back as the same instances the ORM would build, related ones included.
Everything else goes through the ORM.
"""

import functools

from django.db import connection


def columns(model, alias: str) -> str:
    """The model's concrete columns, qualified by ``alias``, in field order."""
    return ", ".join(
        f'{alias}."{field.column}"' for field in model._meta.concrete_fields
    )


def fetch_one(sql: str, params, *models):
    """Run ``sql`` and load its first row into one instance of each of ``models``.

    The row holds the columns of each model in turn, as ``columns`` lists them;
    any columns after those come back as they are. Returns a tuple of instances
    (then the other values), or ``None`` when there is no row.
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return None if row is None else _load(row, models)


def fetch_all(sql: str, params, *models) -> list[tuple]:
    """Like ``fetch_one``, for every row, in the order of the query."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return [_load(row, models) for row in rows]


def _load(row, models):
    loaded, start = [], 0
    for model in models:
        names, converters = _reading(model)
        values = list(row[start : start + len(names)])
        for index, column, convert in converters:
            values[index] = convert(values[index], column, connection)
        loaded.append(model.from_db(connection.alias, names, values))
        start += len(names)
    return (*loaded, *row[start:])


@functools.cache
def _reading(model):
    """The model's field names and the converters its values need from the driver.

    These are the converters the ORM applies (JSON decoding, for one).
    """
    names, converters = [], []
    for index, field in enumerate(model._meta.concrete_fields):
        names.append(field.attname)
        column = field.get_col(model._meta.db_table)
        for convert in connection.ops.get_db_converters(
            column
        ) + field.get_db_converters(connection):
            converters.append((index, column, convert))
    return names, converters
