"""The one place that knows which database it talks to: is_postgres, placeholders in each dialect, and many rows
in a few statements inside the caller's transaction (insert, find and update by long key lists).

For imports of up to 100,000 rows, where model objects and `bulk_create` cost more than the database itself
(docs/PERFORMANCE.md). Constant columns are converted once by the model's own fields, so rows read back exactly
as `bulk_create` writes them; per-row values must already be database-ready (str, int or None).
SQLite gets `executemany` and JSON lists; PostgreSQL (asyncpg) gets `unnest` arrays and `= ANY(array)`.
"""

# ruff: noqa: S608  table and column names come from the models only; every value is a bound parameter

import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from itertools import islice
from typing import Any, TypeVar

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.models import Model

T = TypeVar("T")

POSTGRES_SCHEMES = ("postgres://", "postgresql://", "asyncpg://")  # the URLs Tortoise opens with asyncpg
CHUNK = 5_000  # rows per statement: the event loop gets a turn between statements, each taking a few ms
LOOKUP_CHUNK = 10_000  # keys per look-up: encoding them (JSON or an array) holds the event loop a few ms


def is_postgres(database: str | BaseDBAsyncClient) -> bool:
    """True for a PostgreSQL database URL or connection, False for SQLite; other databases are refused."""
    if isinstance(database, str):
        return database.startswith(POSTGRES_SCHEMES)
    dialect = database.capabilities.dialect
    if dialect == "sqlite":
        return False
    if dialect == "postgres" and "asyncpg" in type(database).__module__:
        return True
    raise NotImplementedError(f"Gatehouse supports SQLite and PostgreSQL through asyncpg, not {dialect}")


def timestamp(value: object) -> datetime | None:
    """A timestamp column read by SQL: asyncpg gives a datetime, SQLite the text Tortoise wrote."""
    return datetime.fromisoformat(value) if isinstance(value, str) else value  # type: ignore[return-value]


def numbered(connection: BaseDBAsyncClient, sql: str) -> str:
    """SQL written with ? placeholders, in the connection's dialect: numbered $1, $2... for PostgreSQL."""
    if not is_postgres(connection):
        return sql
    parts = sql.split("?")  # no value is ever written into the SQL, so every ? is a placeholder
    return parts[0] + "".join(f"${n}{part}" for n, part in enumerate(parts[1:], start=1))


async def changed(connection: BaseDBAsyncClient, reported: int) -> int:
    """The rows the statement just run on this connection changed itself, given the count the ORM reported.

    On SQLite the ORM counts every change the statement made, the rows its triggers wrote included (the pending
    counts, models/derived.py); SQLite's changes() leaves those out. PostgreSQL's count is already the statement's.
    """
    if is_postgres(connection):
        return reported
    _, rows = await connection.execute_query("SELECT changes()")
    return int(rows[0][0])


def marks(connection: BaseDBAsyncClient) -> Callable[[int], str]:
    """The n-th placeholder in the connection's dialect, one value serving several places (?n or $n)."""
    return (lambda n: f"${n}") if is_postgres(connection) else (lambda n: f"?{n}")


async def insert(
    connection: BaseDBAsyncClient,
    model: type[Model],
    *,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    constants: Mapping[str, Any],
) -> None:
    """Insert one row per item of rows (values of columns); every other column gets its constant or its default.

    rows is read a chunk at a time: a generator spares building all rows at once on the event loop.
    """
    await _insert(connection, model, columns, rows, constants, key=None)


async def insert_returning_ids(
    connection: BaseDBAsyncClient,
    model: type[Model],
    *,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    constants: Mapping[str, Any],
    key: str,
) -> list[int]:
    """Like insert, and return the new ids in row order; key names one of columns, unique among the rows."""
    ids, keys = await _insert(connection, model, columns, rows, constants, key=key)
    return ids if ids is not None else await _sqlite_ids(connection, model, key, keys)


async def rows_where_in(
    connection: BaseDBAsyncClient,
    model: type[Model],
    *,
    columns: Sequence[str],
    key: str,
    values: Sequence[Any],
    where: Mapping[str, Any] | None = None,
) -> list[tuple[Any, ...]]:
    """The columns of the rows whose key is one of values and whose other columns equal where (one query per chunk)."""
    found: list[tuple[Any, ...]] = []
    for chunk in _chunks(values, LOOKUP_CHUNK):
        sql = _Sql(connection)
        condition = sql.conditions(model, key, chunk, where or {})
        selected = ", ".join(_column(model, c) for c in columns)
        _, rows = await connection.execute_query(
            f"SELECT {selected} FROM {_quote(model._meta.db_table)} WHERE {condition}", sql.params
        )
        found.extend(tuple(row) for row in rows)
    return found


async def update_where_in(
    connection: BaseDBAsyncClient,
    model: type[Model],
    *,
    changes: Mapping[str, Any],
    key: str,
    values: Sequence[Any],
    where: Mapping[str, Any] | None = None,
) -> int:
    """Apply changes to the rows whose key is one of values and whose other columns equal where; returns the count."""
    fields, count = model._meta.fields_map, 0
    for chunk in _chunks(values, LOOKUP_CHUNK):
        sql = _Sql(connection)
        assignments = ", ".join(
            f"{_column(model, name)} = {sql.param(fields[name].to_db_value(v, model))}" for name, v in changes.items()
        )
        condition = sql.conditions(model, key, chunk, where or {})
        changed, _ = await connection.execute_query(
            f"UPDATE {_quote(model._meta.db_table)} SET {assignments} WHERE {condition}", sql.params
        )
        count += int(changed)
    return count


class _Sql:
    """Placeholders and parameters of one statement, in the connection's dialect."""

    def __init__(self, connection: BaseDBAsyncClient) -> None:
        self.sqlite = not is_postgres(connection)
        self.params: list[Any] = []

    def param(self, value: Any) -> str:
        self.params.append(value)
        return "?" if self.sqlite else f"${len(self.params)}"

    def conditions(self, model: type[Model], key: str, values: Sequence[Any], where: Mapping[str, Any]) -> str:
        fields = model._meta.fields_map
        parts = [
            f"{_column(model, name)} = {self.param(fields[name].to_db_value(v, model))}" for name, v in where.items()
        ]
        if self.sqlite:
            parts.append(
                f"{_column(model, key)} IN (SELECT value FROM json_each({self.param(json.dumps(list(values)))}))"
            )
        else:
            parts.append(f"{_column(model, key)} = ANY({self.param(list(values))}::{_pg_type(model, key)}[])")
        return " AND ".join(parts)


async def _insert(
    connection: BaseDBAsyncClient,
    model: type[Model],
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    constants: Mapping[str, Any],
    key: str | None,
) -> tuple[list[int] | None, list[Any]]:
    """Insert in chunks; with a key, return the key of every row and, on PostgreSQL, their new ids in row order."""
    names, values = _constant_columns(model, columns, constants)
    table, all_columns = _quote(model._meta.db_table), ", ".join(_column(model, n) for n in [*columns, *names])
    index = columns.index(key) if key is not None else -1
    keys: list[Any] = []
    if _Sql(connection).sqlite:
        sql = f"INSERT INTO {table} ({all_columns}) VALUES ({', '.join('?' for _ in [*columns, *names])})"
        for chunk in _batches(rows):
            if key is not None:
                keys.extend(row[index] for row in chunk)
            # Tuples, not lists: the collector untracks tuples of plain values, so 100,000 rows never make it walk
            # the whole heap (each full collection stalls the event loop for tens of milliseconds).
            await connection.execute_many(sql, [(*row, *values) for row in chunk])  # type: ignore[misc]
        return None, keys
    # One INSERT ... SELECT FROM unnest(arrays) per chunk: as fast as COPY here, and it can return the new ids.
    arrays = ", ".join(f"${n}::{_pg_type(model, column)}[]" for n, column in enumerate(columns, start=1))
    scalars = "".join(f", ${n}::{_pg_type(model, name)}" for n, name in enumerate(names, start=len(columns) + 1))
    sql = f"INSERT INTO {table} ({all_columns}) SELECT *{scalars} FROM unnest({arrays})"
    ids: list[int] = []
    pk = _quote(model._meta.db_pk_column)
    for chunk in _batches(rows):
        params = [[row[column] for row in chunk] for column in range(len(columns))] + values
        if key is None:
            await connection.execute_query(sql, params)
            continue
        # A WITH query comes back as rows, not as a dict per row (fewer objects for the collector to walk).
        returning = f"WITH new AS ({sql} RETURNING {_column(model, key)}, {pk}) SELECT * FROM new"
        _, returned = await connection.execute_query(returning, params)
        by_key = {found[0]: int(found[1]) for found in returned}
        ids.extend(by_key[row[index]] for row in chunk)
    return (ids if key is not None else None), keys


async def _sqlite_ids(connection: BaseDBAsyncClient, model: type[Model], key: str, keys: list[Any]) -> list[int]:
    # In one write transaction SQLite numbers new rows max(id) + 1, + 2, ... in insertion order; checking the count
    # and both ends of that range costs one query. Should the check ever fail, find the ids by their unique key.
    if not keys:
        return []
    table, pk = _quote(model._meta.db_table), _quote(model._meta.db_pk_column)
    _, found = await connection.execute_query("SELECT last_insert_rowid()")
    last = int(found[0][0])
    first = last - len(keys) + 1
    key_at = f"(SELECT {_column(model, key)} FROM {table} WHERE {pk} = ?)"
    check = f"SELECT (SELECT count(*) FROM {table} WHERE {pk} BETWEEN ? AND ?), {key_at}, {key_at}"
    _, checked = await connection.execute_query(check, [first, last, first, last])
    if tuple(checked[0]) == (len(keys), keys[0], keys[-1]):
        return list(range(first, last + 1))
    pk_name = model._meta.pk_attr
    by_key = dict(await rows_where_in(connection, model, columns=(key, pk_name), key=key, values=keys))
    return [int(by_key[k]) for k in keys]


def _constant_columns(
    model: type[Model], columns: Sequence[str], constants: Mapping[str, Any]
) -> tuple[list[str], list[Any]]:
    """The names of the other fields and their database values: given, or the field's default."""
    meta = model._meta
    unknown = set(constants).union(columns) - set(meta.fields_db_projection)
    if unknown:
        raise ValueError(f"{model.__name__} has no columns {sorted(unknown)}")
    names, values = [], []
    for name, field in meta.fields_map.items():
        if name not in meta.fields_db_projection or field.generated or name in columns:
            continue
        value = constants[name] if name in constants else field.default() if callable(field.default) else field.default
        names.append(name)
        values.append(field.to_db_value(value, model))
    return names, values


def _pg_type(model: type[Model], name: str) -> str:
    return str(model._meta.fields_map[name].get_for_dialect("postgres", "SQL_TYPE"))


def _column(model: type[Model], name: str) -> str:
    return _quote(model._meta.fields_db_projection[name])


def _quote(name: str) -> str:
    return f'"{name}"'


def _chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _batches(rows: Iterable[T]) -> Iterator[list[T]]:
    iterator = iter(rows)
    while chunk := list(islice(iterator, CHUNK)):
        yield chunk
