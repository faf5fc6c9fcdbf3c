"""Bounds on how long a request waits for PostgreSQL when the server stops answering.

The server's own limits (``connect_timeout``, ``statement_timeout``: ``config.engine_options``)
cover a server that is slow; these cover one that is frozen (paused, its host gone), which
cannot cancel anything: a connection is pinged before use with a time limit, and during a
request a statement whose answer is overdue has its socket shut, so it fails at once.
"""

from __future__ import annotations

import os
import select
import socket
import threading
import time
from functools import partial

from flask import has_request_context
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError


def guard_engine(engine: Engine, connect_timeout: float, statement_timeout: float) -> None:
    """Ping each connection before use, and watch statements run during a request (PostgreSQL)."""
    if engine.dialect.driver != "psycopg":
        return
    event.listen(engine, "checkout", partial(_ping_within, seconds=connect_timeout))
    if statement_timeout > 0:
        # The server cancels a statement at its timeout; past that and the connect timeout
        # more, it is not going to answer.
        grace = float(statement_timeout) + float(connect_timeout)
        event.listen(engine, "before_cursor_execute", partial(_watch, seconds=grace))
        event.listen(engine, "after_cursor_execute", _done)
        event.listen(engine, "handle_error", _failed)
        event.listen(engine, "checkin", _forget)
        event.listen(engine, "close", _forget)


def _ping_within(dbapi_connection, connection_record, connection_proxy, seconds: float) -> None:
    """Before a pooled connection is used, check the server answers it in time.

    SQLAlchemy's own pre-ping waits for the answer for ever: on a server that is paused (or
    whose host vanished) a request would hang until gunicorn kills its worker. This one sends
    ``SELECT 1`` outside any transaction and waits ``seconds`` at most; otherwise the pool
    drops the connection and opens a new one, which the connect timeout bounds in turn.
    """
    pgconn = dbapi_connection.pgconn
    deadline = time.monotonic() + seconds
    try:
        pgconn.send_query(b"SELECT 1")
        while pgconn.flush():  # rarely: the kernel's buffer was full
            select.select([], [pgconn.socket], [], max(deadline - time.monotonic(), 0))
        while True:
            pgconn.consume_input()
            if not pgconn.is_busy():
                break
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([pgconn.socket], [], [], remaining)[0]:
                raise TimeoutError(f"no answer to a ping within {seconds} s")
        ok = True
        while (result := pgconn.get_result()) is not None:
            ok = ok and result.error_message == b""
    except Exception as exc:  # whatever went wrong, this connection is not usable
        raise DisconnectionError(f"the database did not answer: {exc}") from exc
    if not ok:
        raise DisconnectionError("the database refused a ping")


class Watchdog:
    """One thread per process that shuts the socket of each statement overdue.

    Shutting the socket (not closing it: the descriptor stays libpq's) makes the waiting
    read return at once, and psycopg raise "server closed the connection unexpectedly",
    which SQLAlchemy takes as a disconnect: the connection is dropped and the request gets
    the 503 page. Entries are removed, under the lock, before libpq can close the socket,
    so a descriptor reused by then is never touched.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._due: dict[int, tuple[float, int]] = {}  # id(DBAPI connection) -> (deadline, socket)
        self._owner = 0  # the process whose thread runs: a forked gunicorn worker starts its own

    def watch(self, key: int, fileno: int, seconds: float) -> None:
        with self._lock:
            self._due[key] = (time.monotonic() + seconds, fileno)
            if self._owner != os.getpid():
                self._owner = os.getpid()
                threading.Thread(target=self._run, name="statement-watchdog", daemon=True).start()

    def forget(self, key: int) -> None:
        with self._lock:
            self._due.pop(key, None)

    def _run(self) -> None:
        while True:
            time.sleep(0.25)
            now = time.monotonic()
            with self._lock:
                for key, (deadline, fileno) in list(self._due.items()):
                    if deadline <= now:
                        del self._due[key]
                        _shut(fileno)


def _shut(fileno: int) -> None:
    try:
        with socket.socket(fileno=os.dup(fileno)) as sock:
            sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already closed by the server or the client: it is not waiting any more


WATCHDOG = Watchdog()


def _dbapi(connection):
    return connection.connection.dbapi_connection


def _watch(connection, cursor, statement, parameters, context, executemany, seconds: float) -> None:
    if has_request_context():  # commands and the worker may run long statements on purpose
        dbapi_connection = _dbapi(connection)
        WATCHDOG.watch(id(dbapi_connection), dbapi_connection.pgconn.socket, seconds)


def _done(connection, cursor, statement, parameters, context, executemany) -> None:
    WATCHDOG.forget(id(_dbapi(connection)))


def _failed(exception_context) -> None:
    connection = exception_context.connection
    if connection is not None and not connection.invalidated:  # else it was forgotten on closing
        WATCHDOG.forget(id(_dbapi(connection)))


def _forget(dbapi_connection, connection_record) -> None:
    WATCHDOG.forget(id(dbapi_connection))
