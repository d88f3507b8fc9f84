"""The embedded DocumentStore: one SQLite file per database, documents as JSON.

sqlite3 blocks, so the writing connection lives on one dedicated worker thread and
every call is handed to it (but the commit of a small batch, below); the event loop only awaits.

A batch keeps its writes in memory and hands them to the worker in one go at
its end (BEGIN IMMEDIATE, the checkpoints, the documents as last written in one
statement per kind of write, COMMIT): a projection applying 256 events pays one
thread hop for its writes instead of one per write. Reads inside the batch see
the batch's own writes (an overlay answers ``get`` and ``get_checkpoint``;
``find``, ``count`` and ``drop`` first write the pending ones into the open
transaction).

A small batch (``INLINE_AT_MOST_BYTES``) that read nothing through the worker commits on the event loop's
thread instead, when the worker has nothing in hand: a hop to the worker and back cost about 160 µs of CPU here
(the thread's wake-up, the interpreter handed over and back, the loop's self-pipe) against 85 µs for the commit
itself, and every projection commits a batch per delivery under load (docs/adr/0036). It never waits there: the
write lock is asked for without a busy timeout (held by a replica: the worker commits, waiting as before), and
the WAL is written back to the file only by the worker (every ``INLINE_RUN``-th commit goes there).

Point reads (``get``, ``get_checkpoint``) of a file database run on the event
loop's thread through a second, read-only connection: a primary-key lookup
takes microseconds, a hop to the worker thread costs far more (measured: a
projection rebuild went from about 300 to about 170 µs of CPU per event when
its reads stopped hopping). In WAL mode that
reader never waits for the writer and sees every committed write; it yields
to the worker whenever the writer holds uncommitted writes of the current
task's batch, or when SQLite reports it busy.
"""

from __future__ import annotations

import asyncio
import json
import random
import sqlite3
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import asynccontextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any, TypeVar

from libs.kit.docstore.port import Doc, Fenced, Page, Prefix, Sort
from libs.kit.docstore.query import (
    Condition,
    Eq,
    In,
    Range,
    bracket,
    check_document,
    conditions,
    field_name,
    fold,
    make_cursor,
    matches_missing,
    read_cursor,
    sort_spec,
)

T = TypeVar("T")

MEMORY = ":memory:"
#: how long the writer waits for another connection's write lock (a replica's): past it, a fault the consumer
#: reports (stalled) and retries
BUSY_TIMEOUT_MS = 5000
#: SQLite's own threshold (frames) for writing the WAL back into the file after a commit; the worker's commits do
WAL_AUTOCHECKPOINT = 1000
#: a batch of at most this many bytes of rows commits on the event loop's thread when it can (docs/adr/0036)
INLINE_AT_MOST_BYTES = 64 << 10
#: after this many commits on the loop's thread in a row the next goes to the worker, which writes the WAL back
INLINE_RUN = 100

_SCHEMA = """
CREATE TABLE IF NOT EXISTS docs (
    coll TEXT NOT NULL,
    id TEXT NOT NULL,
    body TEXT NOT NULL CHECK (json_valid(body)),
    PRIMARY KEY (coll, id)
);
CREATE TABLE IF NOT EXISTS checkpoints (
    name TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    fence INTEGER NOT NULL DEFAULT 0
);
"""

# Ids of the stores whose batch the current task is running inside. A
# module-level ContextVar, because ContextVars are never garbage collected.
_batching: ContextVar[frozenset[int]] = ContextVar(
    "sqlite_batching", default=frozenset()
)


def _db_file(url: str, database: str) -> str:
    if not url.startswith("sqlite://"):
        raise ValueError(f"not a sqlite url: {url}")
    location = url.removeprefix("sqlite://")
    if location in (MEMORY, "/" + MEMORY):
        return MEMORY
    if not location:
        raise ValueError(f"sqlite url without a directory: {url}")
    if not database or any(c in database for c in "/\\\0") or database.startswith("."):
        raise ValueError(f"unusable database name: {database!r}")
    return str(Path(location) / f"{database}.sqlite3")


def _connect(file: str) -> sqlite3.Connection:
    if file != MEMORY:
        Path(file).parent.mkdir(parents=True, exist_ok=True)
    # isolation_level=None: sqlite3 opens no implicit transactions, so a
    # write outside batch() commits by itself and batch() owns BEGIN/COMMIT.
    # a lock held longer than this is a fault the consumer reports (stalled) and retries, not a wait
    # check_same_thread=False: a small batch commits on the loop's thread while the worker is idle (_commit_here)
    conn = sqlite3.connect(file, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False)
    _into_wal(conn)
    conn.execute("PRAGMA synchronous=NORMAL")
    # deleted and overwritten rows are zeroed in the file, not left in free pages (erasure)
    conn.execute("PRAGMA secure_delete=ON")
    conn.executescript(_SCHEMA)
    columns = {row[1] for row in conn.execute("PRAGMA table_info(checkpoints)")}
    if "fence" not in columns:  # a store of an earlier version
        conn.execute("ALTER TABLE checkpoints ADD COLUMN fence INTEGER NOT NULL DEFAULT 0")
    # SQLite's lower() folds ASCII only; prefix search folds in Python (query.fold)
    conn.create_function("hr_has_prefix", 2, _has_prefix, deterministic=True)
    return conn


#: how long a store being opened retries turning a new file to WAL while another process does the same
WAL_SWITCH_S = 10.0


def _into_wal(conn: sqlite3.Connection) -> None:
    """Two processes opening a new file at once (the replicas of a service starting together) both read it,
    then both ask to write its journal mode: SQLite refuses one at once, without waiting ("database is
    locked": waiting would deadlock). The other has switched it a moment later: try again."""
    deadline = time.monotonic() + WAL_SWITCH_S
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as e:
            if "locked" not in str(e) or time.monotonic() > deadline:
                raise
            time.sleep(random.uniform(0.01, 0.05))


def _connect_reader(file: str) -> sqlite3.Connection:
    """The loop thread's read-only connection; timeout 0: never block the loop
    waiting for a lock (a busy reader falls back to the worker)."""
    conn = sqlite3.connect(file, isolation_level=None, timeout=0)
    conn.execute("PRAGMA query_only=ON")
    return conn


# allow_nan=False: NaN is not JSON and would make SQLite's json functions reject every query touching the
# row. One encoder for every document: json.dumps with arguments builds one per call (a quarter of its time)
_ENCODER = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def _encode(value: Any) -> str:
    return _ENCODER.encode(value)


def _path(field: str) -> str:
    """The field's JSON path as an SQL literal (the name is checked first)."""
    return "'$.\"" + field_name(field).replace("'", "''") + "\"'"


def _has_prefix(value: Any, folded: str) -> int:
    # SQLite may call this on any value, whatever the AND around it says
    return int(isinstance(value, str) and fold(value).startswith(folded))


def _matches(type_sql: str, value_sql: str, value: Any) -> tuple[str, list[Any]]:
    """SQL testing one JSON value (given by its json type and SQL value) for
    MongoDB equality with ``value``: bools are not numbers, ints equal floats."""
    if value is None:
        return f"{type_sql} = 'null'", []
    if isinstance(value, bool):
        return f"{type_sql} = '{'true' if value else 'false'}'", []
    if isinstance(value, int | float):
        return f"({type_sql} IN ('integer', 'real') AND {value_sql} = ?)", [value]
    if isinstance(value, str):
        return f"({type_sql} = 'text' AND {value_sql} = ?)", [value]
    if isinstance(value, list):
        return f"({type_sql} = 'array' AND {value_sql} = json(?))", [_encode(value)]
    if isinstance(value, dict):
        return f"({type_sql} = 'object' AND {value_sql} = json(?))", [_encode(value)]
    raise TypeError(f"cannot match on a {type(value).__name__}")


def _one_of(type_sql: str, value_sql: str, values: tuple[Any, ...]) -> tuple[str, list[Any]]:
    """``$in``: strings and numbers each as one JSON array parameter, so a
    thousand values cost two parameters, not a thousand clauses."""
    parts: list[str] = []
    params: list[Any] = []
    texts = [v for v in values if isinstance(v, str)]
    numbers = [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
    if texts:
        parts.append(f"({type_sql} = 'text' AND {value_sql} IN (SELECT j.value FROM json_each(?) AS j))")
        params.append(_encode(texts))
    if numbers:
        parts.append(
            f"({type_sql} IN ('integer', 'real') AND {value_sql} IN (SELECT j.value FROM json_each(?) AS j))"
        )
        params.append(_encode(numbers))
    for constant in (None, True, False):
        if any(v is constant for v in values):
            sql, _ = _matches(type_sql, value_sql, constant)
            parts.append(sql)
    for value in values:
        if isinstance(value, list | dict):
            sql, more = _matches(type_sql, value_sql, value)
            parts.append(sql)
            params += more
    return ("(" + " OR ".join(parts) + ")" if parts else "0"), params


_SQL_OPS = {"$gt": ">", "$gte": ">=", "$lt": "<", "$lte": "<="}


def _test(cond: Condition, type_sql: str, value_sql: str) -> tuple[str, list[Any]]:
    """SQL testing one JSON value against one condition."""
    if isinstance(cond, Eq):
        return _matches(type_sql, value_sql, cond.value)
    if isinstance(cond, In):
        return _one_of(type_sql, value_sql, cond.values)
    if isinstance(cond, Range):
        types = "= 'text'" if isinstance(cond.bound, str) else "IN ('integer', 'real')"
        return f"({type_sql} {types} AND {value_sql} {_SQL_OPS[cond.op]} ?)", [cond.bound]
    return f"({type_sql} = 'text' AND hr_has_prefix({value_sql}, ?))", [cond.folded]


def _where(collection: str, where: Doc | None, prefix: Prefix | None = None) -> tuple[str, list[Any]]:
    clauses = ["coll = ?"]
    params: list[Any] = [collection]
    for cond in conditions(where, prefix):
        path = _path(cond.field)
        whole, whole_params = _test(cond, f"json_type(body, {path})", f"json_extract(body, {path})")
        item, item_params = _test(cond, "e.type", "e.value")
        # as in MongoDB, a list matches when one of its elements does
        clause = (
            f"{whole} OR (json_type(body, {path}) = 'array' AND EXISTS "
            f"(SELECT 1 FROM json_each(body, {path}) AS e WHERE {item}))"
        )
        if matches_missing(cond):
            clause += f" OR json_type(body, {path}) IS NULL"
        clauses.append(f"({clause})")
        params += whole_params + item_params
    return " AND ".join(clauses), params


def _bracket(path: str) -> str:
    """The type's place in MongoDB's cross-type order (query.bracket)."""
    return (
        f"CASE json_type(body, {path}) WHEN 'integer' THEN 1 WHEN 'real' THEN 1 "
        "WHEN 'text' THEN 2 WHEN 'object' THEN 3 WHEN 'array' THEN 4 "
        "WHEN 'true' THEN 5 WHEN 'false' THEN 5 ELSE 0 END"
    )


def _order(sort: list[tuple[str, int]]) -> str:
    """ORDER BY in MongoDB's cross-type order: missing and null, numbers,
    strings, objects, arrays, booleans; ties broken by id."""
    terms: list[str] = []
    for field, direction in sort:
        path = _path(field)
        way = "ASC" if direction == 1 else "DESC"
        terms.append(f"{_bracket(path)} {way}")
        terms.append(f"json_extract(body, {path}) {way}")
    terms.append("id ASC")
    return "ORDER BY " + ", ".join(terms)


def _after(sort: list[tuple[str, int]], keys: list[Any], last_id: str) -> tuple[str, list[Any]]:
    """Rows strictly after (keys, id) in ``_order(sort)``, by the same
    expressions: for each field, equal on the ones before and beyond on it."""
    alternatives: list[str] = []
    params: list[Any] = []
    equal: list[str] = []
    equal_params: list[Any] = []
    for (field, direction), key in zip(sort, keys, strict=True):
        path = _path(field)
        kind, value = _bracket(path), f"json_extract(body, {path})"
        beyond = ">" if direction == 1 else "<"
        # json_extract reads true/false as 1/0; NULL compares as nothing, as wanted
        bound = int(key) if isinstance(key, bool) else key
        strictly = f"({kind} {beyond} ? OR ({kind} = ? AND {value} {beyond} ?))"
        alternatives.append("(" + " AND ".join([*equal, strictly]) + ")")
        params += [*equal_params, bracket(key), bracket(key), bound]
        equal.append(f"({kind} = ? AND {value} IS ?)")
        equal_params += [bracket(key), bound]
    alternatives.append("(" + " AND ".join([*equal, "id > ?"]) + ")")
    params += [*equal_params, last_id]
    return "(" + " OR ".join(alternatives) + ")", params


_UPSERT_DOC = (
    "INSERT INTO docs (coll, id, body) VALUES (?, ?, ?) "
    "ON CONFLICT (coll, id) DO UPDATE SET body = excluded.body"
)
_DELETE_DOC = "DELETE FROM docs WHERE coll = ? AND id = ?"
# the same over a JSON array of [coll, id(, body)] rows (``_write_rows``); WHERE true: SQLite's parser needs it
# before an upsert's ON CONFLICT
_UPSERT_DOCS = (
    "INSERT INTO docs (coll, id, body) SELECT value->>0, value->>1, value->2 FROM json_each(?) WHERE true "
    "ON CONFLICT (coll, id) DO UPDATE SET body = excluded.body"
)
_DELETE_DOCS = "DELETE FROM docs WHERE (coll, id) IN (SELECT value->>0, value->>1 FROM json_each(?))"
#: a statement's array stays well under SQLite's limit on a value (1 GB)
ROWS_PER_STATEMENT_BYTES = 32 << 20
# a writer whose fence is older than the checkpoint's writes nothing (and is told: Fenced)
_UPSERT_CHECKPOINT = (
    "INSERT INTO checkpoints (name, seq, fence) VALUES (?, ?, ?) "
    "ON CONFLICT (name) DO UPDATE SET seq = excluded.seq, fence = excluded.fence "
    "WHERE checkpoints.fence <= excluded.fence"
)


class _Pending:
    """The writes of the batch in progress: those not yet handed to SQLite (``unflushed``, ``checkpoint_ops``),
    and what every write of the batch left, handed or not — so a point read of anything else can be answered
    from the committed state on the reader, without a trip to the worker: nothing else writes while a batch
    holds the store (``_tx``, and SQLite's write lock once begun)."""

    def __init__(self) -> None:
        #: (collection, id) -> its row as last written and not yet handed to SQLite: (the row as an element of
        #: the JSON array ``_write_rows`` hands over, built here on the event loop's thread; the params of
        #: the row alone; whether it is deleted). A document written more than once lands once, as last written
        self.unflushed: dict[tuple[str, str], tuple[str, tuple[Any, ...], bool]] = {}
        #: the lengths of the rows in ``unflushed``, as written (an upper bound: overwritten rows count too)
        self.unflushed_bytes = 0
        #: a NUL in a name of a row in ``unflushed``: SQLite's reading of a JSON string ends at one
        self.nul = False
        #: (name, seq, fence) of each checkpoint written and not yet handed to SQLite, in order
        self.checkpoint_ops: list[tuple[str, int, int]] = []
        #: (collection, id) -> encoded body, or None when deleted in this batch
        self.docs: dict[tuple[str, str], str | None] = {}
        self.checkpoints: dict[str, int] = {}
        #: collections emptied in this batch: a document of one not written since is absent
        self.dropped: set[str] = set()
        #: BEGIN IMMEDIATE has run: a find/count/drop wrote ops into the transaction
        self.begun = False


class SqliteStore:
    def __init__(
        self, conn: sqlite3.Connection, worker: ThreadPoolExecutor, reader: sqlite3.Connection | None = None
    ) -> None:
        self._conn = conn
        self._worker = worker
        #: read-only, used on the event loop's thread only; None for :memory:
        self._reader = reader
        # Held by a batch for its whole transaction: another task's write must
        # not land in it (and be rolled back with it) on the shared connection.
        self._tx = asyncio.Lock()
        self._pending: _Pending | None = None
        #: the last job handed to the worker (one thread: when it is done, every earlier one is)
        self._last_job: Future | None = None
        #: commits on the loop's thread since the worker last committed
        self._inline_run = 0

    @classmethod
    async def open(cls, url: str, database: str) -> SqliteStore:
        file = _db_file(url, database)
        worker = ThreadPoolExecutor(
            max_workers=1, thread_name_prefix=f"sqlite-{database}"
        )
        try:
            conn = await asyncio.get_running_loop().run_in_executor(
                worker, _connect, file
            )
        except BaseException:
            worker.shutdown(wait=False)
            raise
        reader = None
        if file != MEMORY:  # a second connection to :memory: would be another database
            try:
                reader = _connect_reader(file)
            except BaseException:
                await asyncio.get_running_loop().run_in_executor(worker, conn.close)
                worker.shutdown(wait=False)
                raise
        return cls(conn, worker, reader)

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        # the job's own future, not the awaiting task's: a job whose caller was cancelled may still be running
        job = self._last_job = self._worker.submit(fn, *args)
        return await asyncio.wrap_future(job)

    def _commit_here(self, pending: _Pending) -> bool:
        """Commit ``pending`` on the loop's thread, if that cannot block it: a small batch, nothing of it on the
        worker yet, the worker idle (so the connection is the loop's alone, and nothing runs while this does),
        the write lock free at once. False: the worker must commit it, nothing was written."""
        if (pending.begun or pending.unflushed_bytes > INLINE_AT_MOST_BYTES or self._inline_run >= INLINE_RUN
                or (self._last_job is not None and not self._last_job.done())):
            return False
        conn = self._conn
        conn.execute("PRAGMA busy_timeout=0")
        try:
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as e:
                if e.sqlite_errorcode & 0xFF != sqlite3.SQLITE_BUSY:  # busy, or busy recovering
                    raise
                return False  # a replica writes: the worker waits for it
            pending.begun = True
            # writing the WAL back into the file (and syncing it) is the worker's: the loop never waits on it
            conn.execute("PRAGMA wal_autocheckpoint=0")
            try:
                self._commit(pending)
            finally:
                conn.execute(f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT}")
        finally:
            conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        self._inline_run += 1
        return True

    def _commit_on_worker(self, pending: _Pending) -> None:
        self._inline_run = 0
        self._commit(pending)

    def _in_batch(self) -> _Pending | None:
        """The pending writes of the batch the current task runs inside, if any."""
        if id(self) in _batching.get():
            return self._pending
        return None

    async def _write(self, sql: str, params: list[Any] | tuple[Any, ...]) -> None:
        if id(self) in _batching.get():
            await self._run(self._conn.execute, sql, params)
            return
        async with self._tx:
            await self._run(self._conn.execute, sql, params)

    def _fetch(self, sql: str, params: list[Any] | tuple[Any, ...]) -> list[Any]:
        return self._conn.execute(sql, params).fetchall()

    def _fetch_array(self, rows: str, params: list[Any] | tuple[Any, ...], with_ids: bool) -> str:
        """Worker thread: the documents ``rows`` selects (``body``, and ``id`` first ``with_ids``), in its order,
        as the text of one JSON array (``[body, …]`` or ``[id, body, …]``). One row out of SQLite, not one per
        document: sqlite3 gives the interpreter up and takes it back around every row it steps, and Python on
        this thread waits for the event loop's — beside a busy loop a find of 50 documents took 45 ms row by row,
        7 ms as one (measured, docs/adr/0004). An ordered subquery is aggregated in its order (SQLite before
        3.44 has no ORDER BY inside an aggregate; the reference-model tests check every order). A result past
        SQLite's limit on a value (1 GB) is read row by row."""
        item = "json_quote(id) || ',' || body" if with_ids else "body"
        try:
            return self._conn.execute(
                f"SELECT '[' || coalesce(group_concat({item}, ','), '') || ']' FROM ({rows})", params
            ).fetchone()[0]
        except sqlite3.DataError:  # too big for one value
            found = self._conn.execute(rows, params).fetchall()
            parts = [f"{_encode(doc_id)},{body}" for doc_id, body in found] if with_ids else [b for (b,) in found]
            return "[" + ",".join(parts) + "]"

    def _flush(self, pending: _Pending) -> None:
        """Worker thread: write the batch's pending ops into its (open) transaction."""
        if not pending.begun:
            self._conn.execute("BEGIN IMMEDIATE")
            pending.begun = True
        # the rows are independent of each other, and a fenced checkpoint rolls back the whole transaction
        # whatever the order its statements ran in
        for name, seq, fence in pending.checkpoint_ops:
            if self._conn.execute(_UPSERT_CHECKPOINT, (name, seq, fence)).rowcount == 0:
                raise Fenced(f"checkpoint {name}: a newer holder (fence > {fence}) writes it now")
        pending.checkpoint_ops.clear()
        rows, pending.unflushed = pending.unflushed, {}
        size, pending.unflushed_bytes = pending.unflushed_bytes, 0
        nul, pending.nul = pending.nul, False
        for deleted, one, each in ((True, _DELETE_DOC, _DELETE_DOCS), (False, _UPSERT_DOC, _UPSERT_DOCS)):
            if nul:
                self._conn.executemany(one, [params for _, params, d in rows.values() if d is deleted])
            else:
                self._write_rows(each, [row for row, _, d in rows.values() if d is deleted], size)

    def _write_rows(self, each: str, rows: list[str], size: int) -> None:
        """Worker thread: the rows in one statement (or a few) over a JSON array of them, whose elements the
        event loop's thread built. ``executemany`` gives the interpreter up and takes it back around every
        row, and Python on this thread waits for the event loop's: while that one was busy, each take-back
        waited up to the switch interval (5 ms), and a commit of 2,048 documents took 10 s instead of 30 ms
        (measured, docs/adr/0004)."""
        if not rows:
            return
        if size <= ROWS_PER_STATEMENT_BYTES:
            self._conn.execute(each, ("[" + ",".join(rows) + "]",))
            return
        chunk: list[str] = []
        size = 0
        for row in rows:
            if chunk and size + len(row) > ROWS_PER_STATEMENT_BYTES:
                self._conn.execute(each, ("[" + ",".join(chunk) + "]",))
                chunk, size = [], 0
            chunk.append(row)
            size += len(row) + 1
        self._conn.execute(each, ("[" + ",".join(chunk) + "]",))

    def _flush_then(self, pending: _Pending, fn: Callable[..., T], *args: Any) -> T:
        self._flush(pending)
        return fn(*args)

    def _commit(self, pending: _Pending) -> None:
        """Worker thread: the whole batch in one transaction, or nothing of it."""
        try:
            self._flush(pending)
            self._conn.execute("COMMIT")
        except BaseException:
            self._rollback()
            raise

    async def _read(self, sql: str, params: list[Any] | tuple[Any, ...]) -> list[Any]:
        return await self._on_worker(self._fetch, sql, params)

    async def _read_docs(self, rows: str, params: list[Any], with_ids: bool = False) -> list[Any]:
        """``_fetch_array``'s documents, decoded here (on the event loop's thread, as a row each was)."""
        return json.loads(await self._on_worker(self._fetch_array, rows, params, with_ids))

    async def _on_worker(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn`` on the worker, after the current task's batch's pending writes reach its transaction."""
        pending = self._in_batch()
        if pending is not None and (pending.unflushed or pending.checkpoint_ops):
            return await self._run(self._flush_then, pending, fn, *args)
        return await self._run(fn, *args)

    async def _point_read(self, sql: str, params: tuple[Any, ...]) -> list[Any]:
        """A primary-key lookup of a row the current task's batch (if any) has not written: inline on
        the reader, whose committed state is then what the task must see; on the worker when busy."""
        if self._reader is not None:
            try:
                # fetchall, not fetchone: a statement left unfinished would pin
                # the reader to an old snapshot
                return self._reader.execute(sql, params).fetchall()
            except sqlite3.OperationalError:  # busy (e.g. WAL recovery): ask the worker
                pass
        return await self._read(sql, params)

    async def get(self, collection: str, doc_id: str) -> Doc | None:
        pending = self._in_batch()
        if pending is not None and (collection, doc_id) in pending.docs:
            body = pending.docs[(collection, doc_id)]
            return None if body is None else json.loads(body)
        if pending is not None and collection in pending.dropped:
            return None
        rows = await self._point_read(
            "SELECT body FROM docs WHERE coll = ? AND id = ?",
            (collection, doc_id),
        )
        return json.loads(rows[0][0]) if rows else None

    async def put(self, collection: str, doc_id: str, doc: Doc) -> None:
        check_document(doc)
        body = _encode(doc)
        pending = self._in_batch()
        if pending is not None:
            pending.docs[(collection, doc_id)] = body
            # the body is JSON already: it goes in as it is
            self._unflushed(pending, f"[{_encode(collection)},{_encode(doc_id)},{body}]", (collection, doc_id, body),
                            False)
            return
        await self._write(_UPSERT_DOC, (collection, doc_id, body))

    @staticmethod
    def _unflushed(pending: _Pending, row: str, params: tuple[Any, ...], deleted: bool) -> None:
        pending.unflushed[(params[0], params[1])] = (row, params, deleted)
        pending.unflushed_bytes += len(row) + 1
        if "\x00" in params[0] or "\x00" in params[1]:
            pending.nul = True

    async def delete(self, collection: str, doc_id: str) -> None:
        pending = self._in_batch()
        if pending is not None:
            pending.docs[(collection, doc_id)] = None
            self._unflushed(pending, f"[{_encode(collection)},{_encode(doc_id)}]", (collection, doc_id), True)
            return
        await self._write(_DELETE_DOC, (collection, doc_id))

    async def delete_if(self, collection: str, doc_id: str, where: Doc) -> bool:
        condition, conditions_params = _where(collection, where)
        sql, params = f"DELETE FROM docs WHERE {condition} AND id = ?", (*conditions_params, doc_id)
        pending = self._in_batch()
        if pending is not None:
            deleted = await self._run(self._flush_then, pending, self._deleted, sql, params)
            if deleted:
                pending.docs[(collection, doc_id)] = None
            return deleted
        async with self._tx:  # one statement: SQLite matches and removes the row in one step
            return await self._run(self._deleted, sql, params)

    def _deleted(self, sql: str, params: tuple[Any, ...]) -> bool:
        return self._conn.execute(sql, params).rowcount > 0

    async def find(
        self,
        collection: str,
        where: Doc | None = None,
        sort: Sort = (),
        limit: int | None = None,
        *,
        prefix: Prefix | None = None,
    ) -> list[Doc]:
        if limit is not None and limit < 0:
            raise ValueError(f"limit must not be negative, got {limit}")
        condition, params = _where(collection, where, prefix)
        sql = f"SELECT body FROM docs WHERE {condition} {_order(sort_spec(sort))}"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        return await self._read_docs(sql, params)

    async def find_page(
        self,
        collection: str,
        where: Doc | None = None,
        sort: Sort = (),
        *,
        limit: int,
        prefix: Prefix | None = None,
        after: str | None = None,
    ) -> Page:
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise ValueError(f"a page holds at least one document, got limit {limit!r}")
        spec = sort_spec(sort)
        condition, params = _where(collection, where, prefix)
        if after is not None:
            keys, last_id = read_cursor(collection, spec, after)
            beyond, more = _after(spec, keys, last_id)
            condition += f" AND {beyond}"
            params += more
        # one more than the page: whether a next page exists, without asking again
        sql = f"SELECT id, body FROM docs WHERE {condition} {_order(spec)} LIMIT ?"
        found = await self._read_docs(sql, [*params, limit + 1], with_ids=True)
        items = found[1 : 2 * limit : 2]
        if len(found) <= 2 * limit:
            return Page(items, None)
        return Page(items, make_cursor(collection, spec, items[-1], found[2 * limit - 2]))

    async def count(
        self, collection: str, where: Doc | None = None, *, prefix: Prefix | None = None
    ) -> int:
        condition, params = _where(collection, where, prefix)
        rows = await self._read(f"SELECT count(*) FROM docs WHERE {condition}", params)
        return int(rows[0][0])

    async def drop(self, collection: str) -> None:
        sql, params = "DELETE FROM docs WHERE coll = ?", (collection,)
        pending = self._in_batch()
        if pending is not None:
            await self._run(self._flush_then, pending, self._conn.execute, sql, params)
            pending.dropped.add(collection)
            for key in [k for k in pending.docs if k[0] == collection]:
                del pending.docs[key]
            return
        await self._write(sql, params)

    async def get_checkpoint(self, name: str) -> int:
        pending = self._in_batch()
        if pending is not None and name in pending.checkpoints:
            return pending.checkpoints[name]
        rows = await self._point_read("SELECT seq FROM checkpoints WHERE name = ?", (name,))
        return int(rows[0][0]) if rows else 0

    async def set_checkpoint(self, name: str, seq: int, fence: int = 0) -> None:
        pending = self._in_batch()
        if pending is not None:
            pending.checkpoints[name] = seq
            pending.checkpoint_ops.append((name, seq, fence))
            return
        async with self.batch():  # one statement, checked like the others
            await self.set_checkpoint(name, seq, fence)

    def _checkpoint_truncate(self) -> None:
        busy, _, _ = self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        if busy:
            raise sqlite3.OperationalError("WAL checkpoint blocked by a reader: the WAL still holds old pages")

    async def scrub(self) -> None:
        """Leave no copy of deleted data in the files: with secure_delete the database file holds
        zeros where it was, and the WAL, which still holds the old pages, is written back and
        truncated to nothing."""
        if self._reader is None:
            return  # :memory: has no files
        async with self._tx:
            await self._run(self._checkpoint_truncate)

    def _rollback(self) -> None:
        if self._conn.in_transaction:
            self._conn.execute("ROLLBACK")

    @asynccontextmanager
    async def batch(self) -> AsyncIterator[None]:
        active = _batching.get()
        if id(self) in active:
            yield
            return
        async with self._tx:
            pending = self._pending = _Pending()
            token = _batching.set(active | {id(self)})
            try:
                yield
                if not self._commit_here(pending):
                    await self._run(self._commit_on_worker, pending)
            except BaseException:
                # always, even when nothing was flushed yet: a flush cut short
                # by a cancellation may still be running on the worker
                await self._run(self._rollback)
                raise
            finally:
                _batching.reset(token)
                self._pending = None

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None
        await self._run(self._conn.close)
        self._worker.shutdown(wait=True)
