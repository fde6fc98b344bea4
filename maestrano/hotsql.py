"""Reads on every request's path, written as SQL and loaded into model instances.

Compiling a query costs the ORM longer than PostgreSQL takes to answer it: about
half a millisecond per query on a small machine, paid again on every request.
The few reads that nearly every API request makes (the caller's credentials, the
app instance a write names) are written once as SQL over the models' own columns
and come back as the same instances the ORM would build, related ones included;
the rows busy endpoints insert on every request (an app's bills; a Connec!
record with its history and its deliveries) go in the same way, in the same
statement as the read they depend on where they can. Everything else goes
through the ORM.

Each statement is also prepared once per database session (``PREPARE``), so
PostgreSQL plans it once: planning a join of several tables can cost more than
running it. A pooler that hands one client's statements to several sessions
(PgBouncer in transaction mode) would lose them; use session pooling or none.

Outside a transaction, the read is its own connection health check: Django
would otherwise ping a kept connection before the first query of each request
(``CONN_HEALTH_CHECKS``), one more round trip. Should the connection have died,
the read is sent once more on a new one.
"""

import functools
import hashlib
import re

from django.db import (
    DEFAULT_DB_ALIAS,
    InterfaceError,
    OperationalError,
    connection,
    connections,
)

_PLACEHOLDER = re.compile(r"%s")
_SIZE = re.compile(r"\(.*\)")


def columns(model, alias: str) -> str:
    """The model's concrete columns, qualified by ``alias``, in field order."""
    return ", ".join(
        f'{alias}."{field.column}"' for field in model._meta.concrete_fields
    )


def fetch_one(sql: str, params, *models):
    """Run ``sql`` and load its first row into one instance of each of ``models``.

    The row holds the columns of each model in turn, as ``columns`` lists them;
    any columns after those come back as they are. Returns a tuple of instances
    (then the other values), or ``None`` when there is no row. A model whose
    columns are all null (an outer join that matched nothing) comes back ``None``.
    """
    db = _database()
    row = _run(db, sql, params, lambda cursor: cursor.fetchone())
    return None if row is None else _load(db, row, models)


def fetch_all(sql: str, params, *models) -> list[tuple]:
    """Like ``fetch_one``, for every row, in the order of the query."""
    db = _database()
    rows = _run(db, sql, params, lambda cursor: cursor.fetchall())
    return [_load(db, row, models) for row in rows]


def insert(instance):
    """Insert the new ``instance`` as ``save()`` would, and give it its primary key.

    Field defaults and conversions are the ORM's own. Like ``bulk_create``, it
    sends no ``pre_save`` or ``post_save`` signal: use it only for models nothing
    listens to. An INSERT is never sent twice, so no reconnection is tried
    here: it follows a read on the same request, which checks the connection.
    """
    db = _database()
    model = type(instance)
    sql, fields = _inserting(model)
    values = [
        field.get_db_prep_save(field.pre_save(instance, True), db) for field in fields
    ]
    (key,) = _query(db, sql, values, lambda cursor: cursor.fetchone())
    setattr(instance, model._meta.pk.attname, key)
    instance._state.adding = False
    instance._state.db = db.alias
    return instance


def insert_rows(instances: list) -> list:
    """Insert the new ``instances`` of one model as ``bulk_create`` would, in one
    prepared statement whatever their number.

    Each column's values travel as one array, which PostgreSQL unnests into
    rows in the order given, so the statement is the same for one row or fifty
    and is planned once. A primary key the database generates comes back to
    each instance. No signal is sent, as with ``bulk_create``.
    """
    if not instances:
        return instances
    if len(instances) == 1:
        # Unnesting arrays costs PostgreSQL more than a row of values.
        insert(instances[0])
        return instances
    db = _database()
    model = type(instances[0])
    sql, fields = _inserting_rows(model)
    columns = [
        [field.get_db_prep_save(field.pre_save(row, True), db) for row in instances]
        for field in fields
    ]
    keys = _query(db, sql, columns, lambda cursor: cursor.fetchall())
    pk = model._meta.pk
    for instance, (key,) in zip(instances, keys, strict=True):
        if pk.db_returning:
            setattr(instance, pk.attname, key)
        instance._state.adding = False
        instance._state.db = db.alias
    return instances


def insert_from(instance, taken: dict[str, str], source: str, params) -> bool:
    """Insert ``instance`` with the fields ``taken`` from the row ``source`` selects.

    One statement reads and writes: ``taken`` maps field names to expressions
    (without placeholders) over the tables of ``source``, the text after
    ``FROM``: joins and ``WHERE``, with ``params`` for its placeholders. It must
    select one row at most. The other fields are sent as ``insert`` sends them.
    Returns ``True`` and gives the instance its primary key and the values it
    took; returns ``False``, having inserted nothing, when ``source`` selects no
    row.

    As the first statement of a request it checks the connection, as reads do,
    and is sent once more on a new connection when the first proves broken. The
    instance must therefore hold a unique value chosen before the call (a uid),
    so that a statement stored just before the connection broke is refused
    rather than stored twice.
    """
    db = _database()
    model = type(instance)
    sql, fields, returned = _inserting_from(model, tuple(taken.items()), source)
    values = [
        field.get_db_prep_save(field.pre_save(instance, True), db) for field in fields
    ]
    row = _run(db, sql, [*values, *params], lambda cursor: cursor.fetchone())
    if row is None:
        return False
    for field, value in zip(returned, row, strict=True):
        setattr(instance, field.attname, value)
    instance._state.adding = False
    instance._state.db = db.alias
    return True


def _database():
    # The connection itself: each attribute read through django.db.connection
    # looks the connection up again, and a query here reads a dozen of them.
    return connections[DEFAULT_DB_ALIAS]


def _inserted_fields(model):
    """Every column an INSERT sends: all but a database-generated primary key."""
    return [
        field
        for field in model._meta.local_concrete_fields
        if not (field.primary_key and field.db_returning)
    ]


@functools.cache
def _inserting(model):
    """The INSERT of every column but a database-generated primary key."""
    meta = model._meta
    fields = _inserted_fields(model)
    columns = ", ".join(f'"{field.column}"' for field in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    sql = (
        f'INSERT INTO "{meta.db_table}" ({columns}) VALUES ({placeholders}) '
        f'RETURNING "{meta.pk.column}"'
    )
    return sql, fields


@functools.cache
def _inserting_rows(model):
    """The INSERT … SELECT FROM unnest of ``insert_rows``, and the fields it sends."""
    meta = model._meta
    fields = _inserted_fields(model)
    names = ", ".join(f'"{field.column}"' for field in fields)
    # Without a length or precision (varchar(64) is varchar): a cast to the column's
    # own type would cut a value too long where the insert must refuse it.
    arrays = ", ".join(
        f"%s::{_SIZE.sub('', field.db_type(connection))}[]" for field in fields
    )
    numbered = ", ".join(f"c{index}" for index in range(len(fields)))
    # One row back per row in: the generated key, or a placeholder for a key
    # chosen in Python.
    returning = f'"{meta.pk.column}"' if meta.pk.db_returning else "NULL"
    sql = (
        f'INSERT INTO "{meta.db_table}" ({names}) SELECT {numbered} '
        f"FROM unnest({arrays}) WITH ORDINALITY AS given({numbered}, position) "
        f"ORDER BY position RETURNING {returning}"
    )
    return sql, fields


@functools.cache
def _inserting_from(model, taken, source):
    """The INSERT … SELECT of ``insert_from``: the fields sent, those returned."""
    meta = model._meta
    expressions = dict(taken)
    fields, columns, selected = [], [], []
    for field in _inserted_fields(model):
        columns.append(f'"{field.column}"')
        if field.attname in expressions:
            selected.append(expressions.pop(field.attname))
        else:
            selected.append("%s")
            fields.append(field)
    if expressions:
        raise ValueError(f"{meta.label} has no fields {sorted(expressions)}")
    returned = [meta.pk, *(meta.get_field(name) for name, _ in taken)]
    returning = ", ".join(f'"{field.column}"' for field in returned)
    sql = (
        f'INSERT INTO "{meta.db_table}" ({", ".join(columns)}) '
        f"SELECT {', '.join(selected)} FROM {source} RETURNING {returning}"
    )
    return sql, fields, returned


def _run(db, sql, params, fetch):
    if db.in_atomic_block:
        return _query(db, sql, params, fetch)
    db.health_check_done = True
    try:
        return _query(db, sql, params, fetch)
    except (InterfaceError, OperationalError):
        db.close()
        return _query(db, sql, params, fetch)


def _query(db, sql, params, fetch):
    with db.cursor() as cursor:
        _execute(db, cursor, sql, params)
        return fetch(cursor)


def _execute(db, cursor, sql, params):
    name, numbered, execute = _statement(sql)
    prepared = _prepared_in_session(db)
    if name not in prepared:
        cursor.execute(f"PREPARE {name} AS {numbered}")
        prepared.add(name)
    cursor.execute(execute, params or None)


@functools.cache
def _statement(sql):
    """The statement's name, its text with numbered parameters ($1, $2, …), and
    the EXECUTE that runs it."""
    name = "hot_" + hashlib.sha256(sql.encode()).hexdigest()[:16]
    count = sql.count("%s")
    numbers = iter(range(1, count + 1))
    numbered = _PLACEHOLDER.sub(lambda _: f"${next(numbers)}", sql)
    execute = (
        f"EXECUTE {name} ({', '.join(['%s'] * count)})"
        if count
        else (f"EXECUTE {name}")
    )
    return name, numbered, execute


def _prepared_in_session(db) -> set[str]:
    """The statements prepared in the current database session.

    A session is told apart by its server process, so a reconnection (Django
    closes connections that are too old or broken) starts an empty set.
    Prepared statements outlive a rolled-back transaction, so the set stays true.
    """
    driver = db.connection
    session = (id(driver), driver.get_backend_pid())
    known = getattr(db, "_hotsql_session", None)
    if known is None or known[0] != session:
        known = (session, set())
        db._hotsql_session = known
    return known[1]


def _load(db, row, models):
    loaded, start = [], 0
    for model in models:
        names, converters = _reading(model)
        values = list(row[start : start + len(names)])
        start += len(names)
        if values[names.index(model._meta.pk.attname)] is None:
            # An outer join that found no row for this model.
            loaded.append(None)
            continue
        for index, column, convert in converters:
            values[index] = convert(values[index], column, db)
        loaded.append(model.from_db(db.alias, names, values))
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
