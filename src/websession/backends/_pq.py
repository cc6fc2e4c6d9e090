"""PostgreSQL's session statements as libpq runs them: binary parameters and results.

``_async/postgresql.py`` (and the sync twin generated from it) sends the backend's eight
fixed statements through psycopg's libpq layer (:mod:`psycopg.pq`) and psycopg's own
non-blocking exchange, not through cursors: query conversion, adaptation and row making cost
twice the CPU of the statement itself on a local server (19.8 µs against 42.8 µs a ``get``,
measured), and these statements need none of it (four column types). The rest (schema, the
owner index) goes through psycopg's cursors.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import psycopg
from psycopg import errors as pg_errors
from psycopg.pq import ConnStatus, DiagnosticField, ExecStatus
from psycopg.pq.abc import PGconn, PGresult

__all__ = ["BINARY", "Statement", "outcome", "statement", "unprepared"]

_DOUBLE = struct.Struct("!d")
_BIGINT = struct.Struct("!q")
_INT = struct.Struct("!i")
BINARY = 1
_TUPLES_OK = ExecStatus.TUPLES_OK
_COMMAND_OK = ExecStatus.COMMAND_OK
_CONNECTION_OK = ConnStatus.OK
_FATAL_ERROR = ExecStatus.FATAL_ERROR
_SQLSTATE = DiagnosticField.SQLSTATE
_NO_SUCH_STATEMENT = b"26000"  # invalid_sql_statement_name: not prepared on this connection

# How each kind of statement parameter is sent: (type OID, format, encode), all in binary. (Not
# text for the key: libpq would cut a text parameter at its first NUL without a word.)
_PARAMS: dict[str, tuple[int, int, Callable[[Any], bytes]]] = {
    "k": (1043, BINARY, lambda v: v.encode("utf-8")),  # varchar
    "b": (17, BINARY, bytes),  # bytea
    "f": (701, BINARY, lambda v: _DOUBLE.pack(float(v))),  # float8
    "i": (20, BINARY, lambda v: _BIGINT.pack(int(v))),  # int8
}
# Result columns in binary format, by type OID: bytea, float8, int8, int4.
_COLUMNS: dict[int, Callable[[bytes], Any]] = {
    17: bytes,
    701: lambda v: _DOUBLE.unpack(v)[0],
    20: lambda v: _BIGINT.unpack(v)[0],
    23: lambda v: _INT.unpack(v)[0],
}


class Statement(NamedTuple):
    """One of the backend's statements as libpq runs it."""

    name: bytes  # its prepared name
    sql: bytes  # with $1, $2 ... placeholders
    types: Sequence[int]
    formats: Sequence[int]
    encoders: tuple[Callable[[Any], bytes], ...]

    def values(self, params: tuple[Any, ...]) -> list[bytes | None]:
        return [encode(v) for encode, v in zip(self.encoders, params, strict=True)]


def statement(name: str, query: str, kinds: str) -> Statement:
    """``query`` (with ``%s`` placeholders, one per letter of ``kinds``) for libpq."""
    parts = query.split("%s")
    if len(parts) != len(kinds) + 1:
        raise AssertionError(f"{name}: {len(parts) - 1} placeholders for {kinds!r}")
    sql = parts[0] + "".join(f"${i}{part}" for i, part in enumerate(parts[1:], 1))
    specs = [_PARAMS[k] for k in kinds]
    return Statement(
        f"websession_{name}".encode(),
        sql.encode(),
        [t for t, _, _ in specs],
        [f for _, f, _ in specs],
        tuple(e for _, _, e in specs),
    )


def unprepared(result: PGresult) -> bool:
    """Whether ``result`` says the statement is not prepared on this connection (its first
    use there, or the server forgot it: ``DISCARD ALL``)."""
    return result.status == _FATAL_ERROR and result.error_field(_SQLSTATE) == _NO_SUCH_STATEMENT


def _column(result: PGresult, index: int) -> Any:
    """The value of column ``index`` of a one-row binary result."""
    value = result.get_value(0, index)
    if value is None:
        return None
    decode = _COLUMNS.get(result.ftype(index))
    if decode is None:
        raise TypeError(
            f"column {index} of the sessions table has type OID {result.ftype(index)}; "
            "expected the types of schema_sql() (BYTEA, DOUBLE PRECISION, BIGINT)"
        )
    return decode(value)


def outcome(pgconn: PGconn, result: PGresult, fetch: bool) -> Any:
    """A statement's first row (``fetch``) or row count; its error raised."""
    status = result.status
    if status == _TUPLES_OK:
        if not fetch:
            return result.ntuples
        if not result.ntuples:
            return None
        return tuple(_column(result, i) for i in range(result.nfields))
    if status == _COMMAND_OK:
        return None if fetch else result.command_tuples
    if pgconn.status != _CONNECTION_OK:  # a connection error, not the statement's
        message = pgconn.get_error_message() or "the connection to the server was lost"
        raise psycopg.OperationalError(message)
    raise pg_errors.error_from_result(result)
