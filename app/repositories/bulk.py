"""Bulk writes of plain rows, for the aggregates whose rows come many at once (a push's
reports), and lookups by many keys in statements built once."""

import itertools
import json
import operator
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import orjson
import psycopg
import sqlalchemy as sa
from psycopg import pq
from psycopg.copy import LibpqWriter
from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects import postgresql, sqlite

from app.extensions import db

try:  # psycopg's own generators, for a COPY's end sent without waiting (`overlapping`): internal
    from psycopg.generators import fetch_many
    from psycopg.waiting import Wait
except ImportError:  # a psycopg that moved them: every COPY waits for its answer, as it did before
    fetch_many = Wait = None


def flush() -> None:
    """Send the session's pending ORM changes, for Core statements that refer to them."""
    db.session.flush()


def insert_many(model, rows: list[dict]) -> None:
    """Plain rows (every one with the same keys) into the model's table, in the session's
    transaction (and savepoint): on PostgreSQL with one COPY, on SQLite with one executemany
    of the driver's own statement. Each value is converted once, column by column, by its
    column type's own bind processor (UTC instants, JSON through the engine's serializer,
    a geometry as EWKT), so the rows hold what SQLAlchemy's INSERT would have written; but
    not through SQLAlchemy's per-row work (a dict of parameters built and processed key by
    key, and on PostgreSQL one pipelined INSERT per row), which cost a push of 500 reports
    more than the database's own time. A failure (a unique key taken) is raised as
    SQLAlchemy's own error (IntegrityError, OperationalError, ...), as Core's would be."""
    if rows:
        insert_batches(model, [rows])


def insert_batches(model, batches: Iterable[list[dict]]) -> None:
    """Rows made a batch at a time, written as `insert_many` writes them, in one statement:
    on PostgreSQL one COPY whose rows go to the server a batch at a time, each as soon as it
    is made, so that the server reads and stores the first while the next are made (a push
    of 500 reports waited some 8 ms for them when they went all at once); on SQLite one
    executemany once all are made. A failure is raised as `insert_many`'s; on PostgreSQL the
    COPY then stored none of them, on SQLite the rows before the failing one stay for the
    caller's savepoint or transaction to roll back (as with `insert_many`).

    Making a batch must not use the database: on PostgreSQL the connection is inside the
    COPY then, where psycopg would have a statement wait for ever for the COPY's own lock.
    A statement on the session meanwhile (an autoflush too) raises RuntimeError instead, on
    both databases (`_MAKING`)."""
    connection = db.session.connection()
    batches = _made_apart(connection, iter(batches))
    first = next((batch for batch in batches if batch), None)
    if first is None:
        return
    writer = _writer(model.__table__, tuple(first[0]), connection.dialect)
    writer(connection, itertools.chain([first], batches))


_MAKING = "bazres.copy.making_a_batch"  # (a key of the pooled connection's info)
_NO_MORE = object()


def _made_apart(connection, batches: Iterator[list[dict]]) -> Iterator[list[dict]]:
    """The batches, each made with the connection marked as making one (`_before_statement`)."""
    info = connection.info
    while True:
        info[_MAKING] = True
        try:
            batch = next(batches, _NO_MORE)
        finally:
            info.pop(_MAKING, None)
        if batch is _NO_MORE:
            return
        yield batch


def insert(table, dialect: str | None = None):
    """The database's own INSERT on `table`, which spells ON CONFLICT (both databases do): the
    session's database's, or `dialect`'s for a statement built once (`Prebuilt`)."""
    dialect = dialect or db.session.get_bind().dialect.name
    return (postgresql if dialect == "postgresql" else sqlite).insert(table)


def one_of(column, values: list):
    """`column IN values`; on PostgreSQL as `column = ANY(array)`, one bound array: the text
    of the statement is then the same whatever the count, so SQLAlchemy and psycopg write it
    and PostgreSQL plans it once, where an IN list of a pull page's 2,000 ids cost more to
    write out and parse than the query took to run. SQLite has no arrays: an IN list there
    (at most 32,766 values a statement)."""
    if db.session.get_bind().dialect.name == "postgresql":
        return column == sa.any_(sa.bindparam(None, list(values), type_=_literal_of(column)))
    return column.in_(list(values))


def _literal_of(column) -> "ArrayLiteral":
    # A text column's array is unbounded text: VARCHAR(36)[] would cut a longer value to a
    # prefix that could match, where the IN list compared it whole.
    return ArrayLiteral(sa.String() if isinstance(column.type, sa.String) else column.type)


class ArrayLiteral(sa.types.TypeDecorator):
    """A list of ids, uuids or texts bound as one PostgreSQL array literal (`{a,b,"c"}`) of
    the column's array type. psycopg's array dumper looks at every element (a dumper found by
    type, a regular expression for quoting): binding the 500 op ids of a push took longer than
    the query. The literal goes as a parameter of unknown type, which the statement's cast
    (`%(name)s::UUID[]`) makes the array type itself, read once when the statement is bound.
    (Not a cast in SQL of a text parameter: in a plan that scans the table, the cast is worked
    out again for every row, and a push's lookups grew slower with every push.) Texts are
    always quoted (so that "NULL" stays a text), with their backslashes and double quotes
    escaped; None is NULL."""

    impl = postgresql.ARRAY
    cache_ok = True

    def __init__(self, item_type):
        super().__init__(item_type)
        self.item_type = item_type

    def bind_processor(self, dialect):
        return lambda values: "{" + ",".join(map(_array_element, values)) + "}"


def _array_element(value) -> str:
    kind = type(value)
    if kind is int or isinstance(value, uuid.UUID):  # (a TextUuid is one)
        return str(value)
    if kind is str:
        if "\\" in value or '"' in value:
            value = value.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{value}"'
    if value is None:
        return "NULL"
    raise TypeError(f"no array literal for a {kind.__name__}")


def any_of(column, name: str, dialect: str):
    """`one_of` for a statement built once (`Prebuilt`), the values bound at each call as
    `name` (a list): on PostgreSQL one bound array, on SQLite an expanding IN."""
    if dialect == "postgresql":
        return column == sa.any_(sa.bindparam(name, type_=_literal_of(column)))
    return column.in_(sa.bindparam(name, expanding=True))


class Prebuilt:
    """A statement built once for each database dialect (`build(dialect_name)`, with named
    bind parameters), its values bound at each call. For the lookups every sync request
    makes: building a statement and its cache key each time cost more CPU than running it
    (issue 18's profiles). A Core statement run on `db.session.connection()` skips the ORM's
    execution path and with it the autoflush: a caller that has written through the ORM in
    the same transaction and reads those rows back calls `flush()` first."""

    def __init__(self, build: Callable[[str], sa.Executable]):
        self._build = build
        self._built: dict[str, sa.Executable] = {}

    def __call__(self) -> sa.Executable:
        dialect = db.session.get_bind().dialect.name
        built = self._built.get(dialect)
        if built is None:
            built = self._built[dialect] = self._build(dialect)
        return built


def read_alone(statement: sa.Select, values: dict) -> list[tuple]:
    """The rows of a read a request makes before its transaction (the token, a photo's
    upload state): on PostgreSQL in autocommit on a pooled connection of its own, one round
    trip, where inside a transaction it took three (BEGIN, the query, and the ROLLBACK that
    ends a transaction which only read). A request that goes on to write begins its
    transaction after it. On SQLite (a local file, no round trips) and in a transaction
    already begun it runs on the session's connection.

    On PostgreSQL the statement, compiled once, goes to psycopg itself (`_Alone`): every
    authenticated request makes this read, and SQLAlchemy's execution around it (the
    connection switched to autocommit and back, its execution context, the result's
    metadata) cost three times the driver's own work (issue 18). The values read are what
    SQLAlchemy's would be: each column's type converts them as its result processor does."""
    session = db.session()
    bind = session.get_bind()
    if isinstance(bind, sa.Engine) and bind.dialect.name == "postgresql" and not session.in_transaction():
        if bind.dialect.driver == "psycopg":
            rows = alone(statement, bind, values)
            if rows is not None:
                return rows
        # Another driver, no connection to be had, or one that broke under the read: the same
        # read through SQLAlchemy, whose handling of that (the pool invalidated, a transient
        # error answered 503 with Retry-After) is every other statement's.
        with bind.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            return [tuple(row) for row in connection.execute(statement, values)]
    return [tuple(row) for row in session.connection().execute(statement, values)]


def alone(statement: sa.Select, engine: sa.Engine, values: dict) -> list[tuple] | None:
    """`read_alone`'s read through psycopg itself on `engine` (PostgreSQL, psycopg), in
    autocommit: the rows, or None when no connection could be had or the one had broke, for
    the caller to read again through SQLAlchemy (see `_Alone.read`)."""
    return _Alone.of(statement, engine.dialect).read(engine, values)


class _Alone:
    """A read of `read_alone`, compiled once for a dialect: its text, its bound values' defaults
    (a literal in it), and its columns' result processors. Its parameters are bound as given,
    so it is for statements whose parameters need no conversion (text and numbers: not
    checked, the caller's to keep) and whose columns' conversions need not know the driver's
    type (a Decimal's fails as it is compiled; a float's is none); a list expanded when run is refused then."""

    _compiled: dict[tuple[int, str], "_Alone"] = {}

    def __init__(self, statement: sa.Select, dialect):
        self.statement = statement  # held: the cache's key is its id
        self.compiled = statement.compile(dialect=dialect)
        if self.compiled.post_compile_params or self.compiled.literal_execute_params:
            raise ValueError("read_alone takes no parameter expanded when the statement runs (an IN list)")
        self.sql = str(self.compiled)
        self.processors = [_result_processor(column.type, dialect) for column in statement.selected_columns]
        if not any(self.processors):
            self.processors = None

    @classmethod
    def of(cls, statement: sa.Select, dialect) -> "_Alone":
        key = (id(statement), dialect.name)
        alone = cls._compiled.get(key)
        if alone is None or alone.statement is not statement:
            alone = cls._compiled[key] = cls(statement, dialect)
        return alone

    def read(self, engine: sa.Engine, values: dict) -> list[tuple] | None:
        """The rows, on a pooled connection in autocommit for the read. None when no connection
        could be had (the database down or refusing) or the one had broke (then dropped from
        the pool): the caller reads again through SQLAlchemy. Any other error of the database
        (a statement timed out) is raised as SQLAlchemy raises it, for the same answer.

        psycopg prepares the statement on a connection as it would under SQLAlchemy, after a
        few uses: a connection's prepared statements are deallocated at each ROLLBACK (a
        read-only request's end), so one prepared every time would cost two round trips more."""
        try:
            pooled = engine.raw_connection()  # the pool's checkout: an idle connection is pinged first
        except psycopg.Error:
            return None
        try:
            connection = pooled.driver_connection
            params = self.compiled.construct_params(values)
            try:
                switched = not connection.autocommit  # an engine in autocommit already: left so
                if switched:
                    connection.autocommit = True  # no round trip: the connection is idle
                try:
                    rows = connection.execute(self.sql, params).fetchall()
                finally:
                    if switched:
                        connection.autocommit = False
            except psycopg.Error as error:
                if connection.broken or connection.closed:
                    pooled.invalidate(error)
                    return None
                raise sa_exc.DBAPIError.instance(self.sql, params, error, psycopg.Error,
                                                 dialect=engine.dialect) from error
        finally:
            pooled.close()  # back to the pool (an invalidated one is closed)
        if self.processors is None:
            return rows
        processors = self.processors
        return [tuple(value if process is None else process(value) for process, value in zip(processors, row))
                for row in rows]


def _result_processor(type_, dialect):
    """What SQLAlchemy does to a column's values as it reads them. A float column's processor
    asks for the column's type as the driver named it, which is known only once read; for a
    float (not read as a Decimal) it is nothing, psycopg giving floats already."""
    if isinstance(type_, sa.Float) and not type_.asdecimal:
        return None
    return type_.dialect_impl(dialect).result_processor(dialect, None)


# ---------------------------------------------------------------- COPYs overlapped

_OVERLAP = "bazres.copy.overlap"  # (keys of the pooled connection's info)
_IN_FLIGHT = "bazres.copy.in_flight"


@contextmanager
def overlapping() -> Iterator[None]:
    """Within it, a COPY of `insert_many` or `insert_batches` on PostgreSQL returns once its
    rows are sent, not once the server has stored them: the Python work after it (the next
    table's rows, the answer) runs while the server parses and indexes them, where it used
    to wait (a push of 500 reports waited some 50 ms for four COPYs). Whatever comes next on
    the connection waits for it first: the next COPY, any statement, a commit or a rollback
    (the events below), and the block's end, which raises its error as the COPY would have (a
    unique key taken). A block left by an exception waits for it too and drops its error. On
    SQLite, and with a psycopg whose internals it cannot use (`CAN_OVERLAP`), it changes
    nothing."""
    connection = db.session.connection()
    if connection.dialect.name != "postgresql" or not (CAN_OVERLAP and _has_lock(connection)):
        yield
        return
    info = connection.info
    info[_OVERLAP] = True
    try:
        yield
    except BaseException:
        _settle(connection, quietly=True)
        raise
    else:
        _settle(connection)
    finally:
        info.pop(_OVERLAP, None)


def _settle(connection, quietly: bool = False) -> None:
    """Wait for the COPY still in flight on this connection, if any; raise its error."""
    if not _usable(connection):
        return
    statement = connection.info.pop(_IN_FLIGHT, None)
    if statement is None:
        return
    driver = connection.connection.driver_connection
    try:
        with driver.lock:
            results = driver.wait(fetch_many(driver.pgconn))
        failed = next((r for r in results if r.status != pq.ExecStatus.COMMAND_OK), None)
        if failed is not None:
            raise psycopg.errors.error_from_result(failed, encoding=driver.info.encoding)
    except psycopg.Error as error:
        if not quietly:
            dbapi = connection.dialect.loaded_dbapi
            raise sa_exc.DBAPIError.instance(statement, None, error, dbapi.Error) from error


def _usable(connection) -> bool:
    # An invalidated connection (the server gone, a statement cut off) has no DB-API connection
    # and no COPY pending: its pool record's info was cleared with it, and reading `info`
    # would raise PendingRollbackError in place of the error that invalidated it.
    return not (connection.invalidated or connection.closed)


@event.listens_for(sa.Engine, "before_cursor_execute")
def _before_statement(connection, cursor, statement, parameters, context, executemany) -> None:
    _before(connection, statement)


@event.listens_for(sa.Engine, "commit")
def _before_commit(connection) -> None:
    _before(connection, "COMMIT")


@event.listens_for(sa.Engine, "rollback")
def _before_rollback(connection) -> None:
    _before(connection, "ROLLBACK", quietly=True)


def _before(connection, what: str, quietly: bool = False) -> None:
    """Before anything else on the connection: refused while `insert_batches` makes a batch
    (on PostgreSQL psycopg would have it wait for ever for the lock its COPY holds); after
    an overlapped COPY, once the COPY is answered."""
    if not _usable(connection):
        return
    info = connection.info
    if _MAKING in info:
        raise RuntimeError("A statement while bulk.insert_batches makes a batch: the connection may be inside its "
                           f"COPY, where the statement would wait for ever. Make every read first. ({what[:80]})")
    if _IN_FLIGHT in info:
        _settle(connection, quietly)


class _Streaming(LibpqWriter):
    """psycopg's writer of a COPY's rows, which sends each write to the server before it
    returns (psycopg's own hands libpq the data, which sends it whole 8 KB blocks at a time,
    keeps the rest until more comes or the COPY ends, and in its latest versions flushes a
    megabyte at a time): `insert_batches`'s server reads a batch while the next is made.
    With `answer_later` (`overlapping`), its end sends the end of the data and returns,
    leaving the server's answer to `_settle`."""

    def __init__(self, cursor, answer_later: bool = False):
        super().__init__(cursor)
        self._driver, self._answer_later = cursor.connection, answer_later

    def write(self, data) -> None:
        super().write(data)
        self._driver.wait(_flushed(self._driver.pgconn))

    def finish(self, exc: BaseException | None = None) -> None:
        if exc or not self._answer_later:
            return super().finish(exc)
        self._driver.wait(_send_end(self._driver.pgconn))


def _writer_of(cursor, overlapped: bool) -> LibpqWriter | None:
    # Without what `_Streaming` uses (CAN_OVERLAP), psycopg's own: the batches then go as
    # libpq's buffer fills, and the COPY waits for its answer.
    return _Streaming(cursor, answer_later=overlapped) if CAN_OVERLAP else None


def _can_overlap() -> bool:
    """Does this psycopg have what `_Streaming` and `_settle` use beyond its documented API:
    its generators and waiting states, a connection's `wait`, `error_from_result`? (A
    connection's `lock` is looked for on the connection itself, `_has_lock`.) Checked once,
    at import: with a psycopg that moved them, `overlapping` changes nothing, each COPY
    waits for its answer and `insert_batches`'s batches go as libpq's buffer fills, where
    the app would not have started (the imports) or a push's overlapped COPY would have
    failed mid-way. tests/sync/test_push_bulk.py asserts that the installed psycopg overlaps,
    and that without these the app imports and pushes in bulk."""
    return (fetch_many is not None and Wait is not None and hasattr(Wait, "W")
            and callable(getattr(psycopg.Connection, "wait", None))
            and callable(getattr(psycopg.errors, "error_from_result", None)))


def _has_lock(connection) -> bool:
    return hasattr(connection.connection.driver_connection, "lock")


def _send_end(pgconn):
    # psycopg's generators.copy_end without its last step, the wait for the result.
    while pgconn.put_copy_end(None) == 0:
        while not (yield Wait.W):
            continue
    yield from _flushed(pgconn)


def _flushed(pgconn):
    # Until libpq has handed all it holds to the socket (waiting only when the socket is full).
    while pgconn.flush() != 0:
        while not (yield Wait.W):
            continue


CAN_OVERLAP = _can_overlap()


# ---------------------------------------------------------------- the writers

_WRITERS: dict = {}


def _writer(table, keys: tuple, dialect):
    """The writer of rows with these keys into `table` on this engine's dialect, made once."""
    key = (table, keys, dialect)
    if key not in _WRITERS:
        if len(_WRITERS) > 256:  # (engines come and go in the tests)
            _WRITERS.clear()
        _WRITERS[key] = _make_writer(table, keys, dialect)
    return _WRITERS[key]


def _make_writer(table, keys: tuple, dialect):
    # Columns the rows leave out but which have a default on the Python side (Core would
    # apply it): filled in the same way, so that a row means what it did through Core.
    defaults = {c.key: c.default for c in table.columns
                if c.key not in keys and c.default is not None and not c.primary_key}
    unknown = set(keys) - set(table.c.keys())
    if unknown:
        raise KeyError(f"{table.name} has no column {', '.join(sorted(unknown))}")
    # In the table's order, which is the order of the parameters of Core's INSERT.
    names = [c.key for c in table.columns if c.key in keys or c.key in defaults]
    postgresql = dialect.name == "postgresql"
    processors = [_copy_json(table.c[name].type, dialect) if postgresql and isinstance(table.c[name].type, sa.JSON)
                  else table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names]
    # On PostgreSQL every value is then written as COPY's text reads it, a column at a time.
    finish = _copy_column if postgresql else None

    def columns(rows: list[dict]) -> list[list]:
        out = []
        for name, process in zip(names, processors):
            if name in defaults:
                default = defaults[name]
                column = [default.arg(None) if default.is_callable else default.arg for _ in rows]
            else:
                column = [row[name] for row in rows]
            if process is not None or finish is not None:
                if column and column[0] is column[-1] and len(set(map(id, column))) == 1:
                    # The same object in every row (the push's instant, device): converted
                    # once. (Not equal values: 1, 1.0 and True are equal, and JSON tells them apart.)
                    value = column[0] if process is None else process(column[0])
                    column = (finish([value]) if finish else [value]) * len(column)
                else:
                    if process is not None:
                        column = list(map(process, column))
                    if finish is not None:
                        column = finish(column)
            out.append(column)
        return out

    if postgresql:
        # COPY, in its text format: the rows go as one text, each value written here as the
        # server reads it with its column's input function (a geometry from EWKT, JSON from
        # its text, an instant in ISO form); psycopg's write_row, a value at a time, cost
        # more than the server's own work.
        statement = f"COPY {_quoted(dialect, table.name)} ({', '.join(_quoted(dialect, n) for n in names)}) FROM STDIN"

        def text(rows: list[dict]) -> str:
            return "\n".join(map("\t".join, zip(*columns(rows)))) + "\n"

        def write(connection, batches: Iterator[list[dict]]) -> None:
            first = text(next(batches))
            _settle(connection)  # an overlapped COPY before it
            overlapped = _OVERLAP in connection.info
            driver = connection.connection.driver_connection
            try:
                with driver.cursor() as cursor:
                    with cursor.copy(statement, writer=_writer_of(cursor, overlapped)) as copy:
                        copy.write(first)
                        for rows in batches:
                            if rows:
                                copy.write(text(rows))
            except dialect.loaded_dbapi.Error as error:
                raise sa_exc.DBAPIError.instance(statement, None, error, dialect.loaded_dbapi.Error) from error
            if overlapped:
                connection.info[_IN_FLIGHT] = statement
        return write

    # SQLite: the statement Core compiles for these columns (a geometry through its
    # column's bind expression, GeomFromEWKT), its parameters as positional tuples.
    compiled = table.insert().compile(dialect=dialect, column_keys=names)
    if list(compiled.positiontup) != names:
        raise RuntimeError(f"the INSERT on {table.name} binds {compiled.positiontup}, not {names}")
    statement = compiled.string

    def write(connection, batches: Iterator[list[dict]]) -> None:
        # One executemany of every batch: SQLite's insert is in this process, nothing to overlap.
        rows = [row for batch in batches for row in batch]
        connection.exec_driver_sql(statement, list(zip(*columns(rows))))
    return write


def _quoted(dialect, name: str) -> str:
    return dialect.identifier_preparer.quote(name)


def _copy_json(type_, dialect):
    """A JSON column's values as their JSON text, as Core binds them (None as JSON's null
    unless the column says none_as_null), through the engine's serializer."""
    serializer = dialect._json_serializer or json.dumps
    if type_.none_as_null:
        return lambda value: None if value is None else serializer(value)
    return serializer


def _copy_str(value: str) -> str:
    """A text as COPY's text format writes it: a backslash, tab, newline and carriage return
    escaped by a backslash (the backslash first). Four searches for one character, each a
    scan in C: a regular expression over the text (Persian text is two bytes a character)
    took 5 µs a 1 KB record, 6 ms a push of 500."""
    if "\\" in value:
        value = value.replace("\\", "\\\\")
    if "\t" in value:
        value = value.replace("\t", "\\t")
    if "\n" in value:
        value = value.replace("\n", "\\n")
    if "\r" in value:
        value = value.replace("\r", "\\r")
    return value


# A value as COPY's text format writes it: \N for NULL, a text escaped (`_copy_str`).
_COPY_TEXT = {
    type(None): lambda value: "\\N", str: _copy_str, bool: lambda value: "t" if value else "f",
    int: int.__repr__, float: float.__repr__, uuid.UUID: str, datetime: datetime.isoformat,
}


def _as_copy_text(value) -> str:
    return _copy_text_of(type(value))(value)


def _copy_text_of(kind: type):
    write = _COPY_TEXT.get(kind)
    if write is None:  # a subclass (numpy's float64 is a float, a TextUuid a uuid): its base's, kept
        write = next((_COPY_TEXT[base] for base in kind.__mro__ if base in _COPY_TEXT), None)
        if write is None:
            raise TypeError(f"no COPY text for a {kind.__name__}")
        _COPY_TEXT[kind] = write
    return write


_TZINFO = operator.attrgetter("tzinfo")
# The zones of the instants orjson writes as isoformat() does, by identity (a tzinfo need
# not be hashable; UTCDateTime's bind processor gives UTC itself).
_ORJSON_ZONES = {id(UTC), id(None)}
_ESCAPED = ("\\", "\t", "\n", "\r")  # what `_copy_str` escapes


def _copy_column(values: list) -> list[str]:
    """A column's values as COPY's text format writes them (`_as_copy_text`), with the work
    done once a column where it can be: the writer of a column whose values are all of one
    type (or none) is found once; a column of texts is escaped value by value only if one
    of them holds a character to escape (the column joined, then four searches, in C); a
    column of instants in UTC is written by orjson in one call. A push of 500 reports
    writes some 13,000 values: written one by one, with a call and a lookup each, they were
    4 % of its instructions, and CPython's isoformat (sprintf) another 8 % with the
    canonical forms' (callgrind, issue 18)."""
    kinds = set(map(type, values))
    none = type(None) in kinds
    kinds.discard(type(None))
    if not kinds:
        return ["\\N"] * len(values)
    if len(kinds) != 1:
        return list(map(_as_copy_text, values))
    kind = kinds.pop()
    if kind is datetime and not none and set(map(id, map(_TZINFO, values))) <= _ORJSON_ZONES:
        # In UTC or naive, written by orjson as isoformat() writes them (as
        # `sync.canonical.iso_text` does one), the whole column in one call.
        return orjson.dumps(values).decode()[2:-2].split('","')
    if kind is str:
        text = "".join([value for value in values if value is not None] if none else values)
        if not any(mark in text for mark in _ESCAPED):
            return ["\\N" if value is None else value for value in values] if none else list(values)
        write = _copy_str
    else:
        write = _copy_text_of(kind)
    if none:
        return ["\\N" if value is None else write(value) for value in values]
    return list(map(write, values))
